/**
 * Node's TLS verification error codes that mean "this peer's certificate is not trusted here": a wrong
 * or missing CA file, a self-signed or expired certificate, a name mismatch. A retry sends the same
 * trust settings, so the Kafka admin, the registry client and Redis all fail fast on them (their
 * *_AUTH codes). One list, so the three clients agree.
 */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isUntrustedCertificateCode(code: unknown): code is string {
  return typeof code === 'string' && UNTRUSTED_CERTIFICATE.has(code);
}
