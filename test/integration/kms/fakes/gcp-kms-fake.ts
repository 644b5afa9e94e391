// An HTTP fake of the Cloud KMS REST calls that @google-cloud/kms makes in its HTTP/1.1 REST fallback:
//   POST /v1/{name=projects/*/locations/*/keyRings/*/cryptoKeys/*}:encrypt  {"plaintext": base64}
//   POST /v1/{name=...}:decrypt                                            {"ciphertext": base64}
// with Google's error shape {"error": {"code": <http>, "message", "status": "<gRPC status name>"}}:
// UNAUTHENTICATED (no/unknown bearer token), PERMISSION_DENIED, NOT_FOUND, FAILED_PRECONDITION for a
// disabled primary version, INVALID_ARGUMENT for a ciphertext that does not authenticate.
// Ciphertext (the fake's own format): version byte | nonce(12) | AES-256-GCM ciphertext | tag(16).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HttpFake, type FakeRequest, type FakeResponse } from './http-fake.js';

export const GCP_FAKE_TOKEN = 'dummy-gcp-access-token';

interface FakeCryptoKey {
  readonly versions: { key: Buffer; state: 'ENABLED' | 'DISABLED' | 'DESTROYED' }[];
  forbidden: boolean;
}

export class GcpKmsFake {
  readonly http: HttpFake;
  readonly #keys = new Map<string, FakeCryptoKey>();

  constructor() {
    this.http = new HttpFake((req) => this.#handle(req));
  }

  async start(): Promise<this> {
    await this.http.start();
    return this;
  }

  createKey(name: string): string {
    this.#keys.set(name, { versions: [{ key: randomBytes(32), state: 'ENABLED' }], forbidden: false });
    return name;
  }

  setVersionState(name: string, version: number, state: 'ENABLED' | 'DISABLED' | 'DESTROYED'): void {
    this.#keys.get(name)!.versions[version - 1]!.state = state;
  }

  setForbidden(name: string, forbidden: boolean): void {
    this.#keys.get(name)!.forbidden = forbidden;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  #handle(req: FakeRequest): FakeResponse {
    if (req.headers['authorization'] !== `Bearer ${GCP_FAKE_TOKEN}`) {
      return error(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    }
    const match = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/:]+):(encrypt|decrypt)$/.exec(req.path);
    if (req.method !== 'POST' || match === null) return error(404, 'NOT_FOUND', 'The requested URL was not found on this server.');
    const [, name, op] = match;
    const key = this.#keys.get(name!);
    const permission = op === 'encrypt' ? 'cloudkms.cryptoKeyVersions.useToEncrypt' : 'cloudkms.cryptoKeyVersions.useToDecrypt';
    if (key?.forbidden) return error(403, 'PERMISSION_DENIED', `Permission '${permission}' denied on resource '${name}' (or it may not exist).`);
    if (key === undefined) return error(404, 'NOT_FOUND', `CryptoKey ${name} not found.`);
    const body = (req.body ?? {}) as { plaintext?: unknown; ciphertext?: unknown };
    if (op === 'encrypt') {
      if (typeof body.plaintext !== 'string') return error(400, 'INVALID_ARGUMENT', 'plaintext is required.');
      const version = key.versions.length;
      const primary = key.versions[version - 1]!;
      if (primary.state !== 'ENABLED') {
        return error(400, 'FAILED_PRECONDITION', `${name}/cryptoKeyVersions/${version} is not enabled, current state is: ${primary.state}.`);
      }
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', primary.key, nonce);
      const ct = Buffer.concat([Buffer.from([version]), nonce, cipher.update(Buffer.from(body.plaintext, 'base64')), cipher.final(), cipher.getAuthTag()]);
      return { status: 200, body: { name: `${name}/cryptoKeyVersions/${version}`, ciphertext: ct.toString('base64'), protectionLevel: 1 } };
    }
    if (typeof body.ciphertext !== 'string') return error(400, 'INVALID_ARGUMENT', 'ciphertext is required.');
    const raw = Buffer.from(body.ciphertext, 'base64');
    const version = key.versions[(raw[0] ?? 0) - 1];
    if (raw.length < 1 + 12 + 16 || version === undefined) return error(400, 'INVALID_ARGUMENT', 'Decryption failed: the ciphertext is invalid.');
    if (version.state !== 'ENABLED') {
      return error(400, 'FAILED_PRECONDITION', `${name}/cryptoKeyVersions/${raw[0]} is not enabled, current state is: ${version.state}.`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', version.key, raw.subarray(1, 13));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const pt = Buffer.concat([decipher.update(raw.subarray(13, raw.length - 16)), decipher.final()]);
      return { status: 200, body: { plaintext: pt.toString('base64'), usedPrimary: true, protectionLevel: 1 } };
    } catch {
      return error(400, 'INVALID_ARGUMENT', 'Decryption failed: the ciphertext is invalid.');
    }
  }
}

function error(code: number, status: string, message: string): FakeResponse {
  return { status: code, body: { error: { code, message, status } } };
}
