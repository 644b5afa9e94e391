/**
 * The KMS drivers this process uses, assembled in one place.
 */
import type { KmsDriver, KmsDriverRegistry } from '../kms/kms-driver.js';
import { LocalKmsDriver } from '../kms/local-kms.js';
import { RecryptError } from '../util/errors.js';
import type { ServiceConfig } from './config.js';

export function kmsRegistryFor(config: ServiceConfig): KmsDriverRegistry {
  const drivers = new Map<string, KmsDriver>();
  const local = new LocalKmsDriver(config.kmsProps['secret'] ? { secret: config.kmsProps['secret'] } : {});
  drivers.set(local.kmsType, local);
  return {
    get(kmsType: string): KmsDriver {
      const driver = drivers.get(kmsType);
      if (!driver) throw new RecryptError('KMS_UNSUPPORTED_TYPE', `no KMS driver for kms type ${kmsType}`);
      return driver;
    },
  };
}
