import { describe, expect, it } from 'vitest';
import { isUntrustedCertificateCode } from '../../../src/util/tls.js';

describe('isUntrustedCertificateCode', () => {
  it("knows Node's certificate verification failures, a not-yet-valid certificate included", () => {
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      expect(isUntrustedCertificateCode(code)).toBe(true);
    }
  });

  it('leaves connection failures to the transient path', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', undefined, 42]) expect(isUntrustedCertificateCode(code)).toBe(false);
  });
});
