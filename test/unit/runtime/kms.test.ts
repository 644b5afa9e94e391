// runtime/kms.ts: the job runtime's KMS drivers take the local-kms secret from the configuration
// (service/config.ts read LOCAL_SECRET / LOCAL_SECRET_FILE); local-kms does not look in process.env.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalKmsDriver } from '../../../src/kms/local-kms.js';
import type { RuntimeConfig } from '../../../src/runtime/config.js';
import { kmsRegistryFor } from '../../../src/runtime/kms.js';
import { RecryptError } from '../../../src/util/errors.js';

const config = (kmsProps: Record<string, string>): RuntimeConfig => ({
  kafka: { bootstrapServers: '127.0.0.1:1', properties: {} },
  registry: { urls: ['http://127.0.0.1:1'], timeoutMs: 100 },
  kmsProps, instanceId: 'test', kmsTimeoutMs: 100,
});
const DEK = Uint8Array.from({ length: 34 }, (_, i) => i);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('kmsRegistryFor', () => {
  it('local-kms wraps with the configured secret', async () => {
    const wrapped = await kmsRegistryFor(config({ secret: 'configured' })).get('local-kms').wrap('k', DEK, {});
    expect(await new LocalKmsDriver({ secret: 'configured' }).unwrap('k', wrapped, {})).toEqual(Buffer.from(DEK));
  });

  it('without a configured secret, local-kms does not fall back to process.env.LOCAL_SECRET (service/config.ts is the reader)', async () => {
    vi.stubEnv('LOCAL_SECRET', 'from-process-env');
    const err = await kmsRegistryFor(config({})).get('local-kms').wrap('k', DEK, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecryptError);
    expect(err).toMatchObject({ code: 'KMS_CONFIG' });
    expect((err as Error).message).toContain('LOCAL_SECRET');
    expect((err as Error).message).not.toContain('from-process-env');
  });
});
