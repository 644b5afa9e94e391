import { describe, expect, it } from 'vitest';
import { RecryptError } from '../../../src/util/errors.js';
import { createLogger } from '../../../src/util/logger.js';

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

describe('logger', () => {
  it('writes one JSON object per line with level, time, message and fields', () => {
    const { lines, logger } = capture();
    logger.child({ job: 'j1' }).info('batch committed', { records: 5, topic: 't' });
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'info', msg: 'batch committed', job: 'j1', records: 5, topic: 't' });
    expect(typeof entry.time).toBe('string');
  });

  it('keeps only code and message of errors, and redacts fields named like values or secrets', () => {
    const { lines, logger } = capture();
    const canary = 'CANARY-4b1d';
    logger.error('failed', {
      error: new RecryptError('CRYPTO_DECRYPT', 'ciphertext failed authentication'),
      foreign: new Error(`parse error near ${canary}`),
      value: canary, secret: canary, password: canary,
    });
    const text = lines.join('\n');
    expect(text).not.toContain(canary);
    const entry = JSON.parse(lines[0]!);
    expect(entry.error).toEqual({ code: 'CRYPTO_DECRYPT', transient: false, message: 'ciphertext failed authentication' });
    expect(entry.foreign).toEqual({ code: 'INTERNAL', type: 'Error' });
    expect(entry.value).toBe('[redacted]');
  });

  it('honours the level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines).toHaveLength(1);
  });
});
