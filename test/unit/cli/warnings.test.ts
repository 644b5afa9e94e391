// Library warnings in the JSON log stream: the AWS SDK's multi-line NodeVersionSupportWarning
// (process.emitWarning), its multi-line credential-source notice (console.warn) and any other process
// warning each become one JSON log line, instead of raw text between the JSON lines.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const logger = pathToFileURL(resolve(import.meta.dirname, '../../../src/util/logger.ts')).href;

const script = `
import { createLogger, routeWarningsToLog } from ${JSON.stringify(logger)};
import { emitWarningIfUnsupportedVersion } from '@aws-sdk/core/client';
const log = createLogger({ level: 'info' });
routeWarningsToLog(log);
log.info('before');
emitWarningIfUnsupportedVersion('v18.0.0');
console.warn(\`@aws-sdk/credential-provider-node - defaultProvider::fromEnv WARNING:
    Multiple credential sources detected:
    Both AWS_PROFILE and the pair AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY static credentials are set.\`);
process.emitWarning('first line\\nsecond line', { type: 'DeprecationWarning', code: 'DEP0999' });
setTimeout(() => log.info('after'), 20);
`;

describe('library warnings', () => {
  it('become one JSON log line each on stderr', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '../../..'),
      env: { ...process.env, LOG_LEVEL: 'info', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '' },
      encoding: 'utf8', timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.map((e) => e.msg)).toEqual([
      'before',
      // console.warn writes at once; process warnings arrive on the next tick, in order.
      expect.stringMatching(/^@aws-sdk\/credential-provider-node .* WARNING: \| Multiple credential sources detected: \| Both AWS_PROFILE/),
      expect.stringMatching(/^NodeVersionSupportWarning: The AWS SDK for JavaScript \(v3\) \| versions published .* \| .*node >=\d+/),
      'first line | second line',
      'after',
    ]);
    expect(entries[1]).toMatchObject({ level: 'warn' });
    expect(entries[2]).toMatchObject({ level: 'warn', type: 'Warning' });
    expect(entries[3]).toMatchObject({ level: 'warn', type: 'DeprecationWarning', warningCode: 'DEP0999' });
  });
});
