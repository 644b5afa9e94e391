// An HTTP fake of exactly the Vault REST calls the hcvault driver makes: transit encrypt/decrypt and
// AppRole login, with tokens, token leases, namespaces (X-Vault-Namespace) and Vault's error shapes
// ({"errors": [...]}, "permission denied", "encryption key not found", min_decryption_version).
// Ciphertexts look like Vault's: `vault:v<version>:` + base64(nonce | AES-256-GCM ciphertext | tag).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HttpFake, type FakeRequest, type FakeResponse } from './http-fake.js';

interface TransitKey {
  readonly versions: Buffer[];
  minDecryptionVersion: number;
}

export interface VaultFakeOptions {
  /** Static tokens accepted everywhere. */
  readonly tokens?: string[];
  /** AppRole credentials that log in. */
  readonly approle?: { roleId: string; secretId: string; leaseSeconds: number };
  /** When set, every request must carry this X-Vault-Namespace. */
  readonly namespace?: string;
}

export class VaultFake {
  readonly http: HttpFake;
  readonly #keys = new Map<string, TransitKey>();
  readonly #tokens: Map<string, number>;
  readonly #options: VaultFakeOptions;
  logins = 0;

  constructor(options: VaultFakeOptions = {}) {
    this.#options = options;
    this.#tokens = new Map((options.tokens ?? []).map((t) => [t, Infinity]));
    this.http = new HttpFake((req) => this.#handle(req));
  }

  async start(): Promise<this> {
    await this.http.start();
    return this;
  }

  get addr(): string {
    return this.http.url;
  }

  createKey(mount: string, name: string): void {
    this.#keys.set(`${mount}/${name}`, { versions: [randomBytes(32)], minDecryptionVersion: 1 });
  }

  rotateKey(mount: string, name: string): void {
    this.#keys.get(`${mount}/${name}`)!.versions.push(randomBytes(32));
  }

  setMinDecryptionVersion(mount: string, name: string, version: number): void {
    this.#keys.get(`${mount}/${name}`)!.minDecryptionVersion = version;
  }

  /** Revokes every token handed out by AppRole logins. */
  revokeLoginTokens(): void {
    for (const token of [...this.#tokens.keys()]) if (token.startsWith('hvs.login-')) this.#tokens.delete(token);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  #handle(req: FakeRequest): FakeResponse {
    if (req.method !== 'POST') return err(405, 'unsupported operation');
    if (this.#options.namespace !== undefined && req.headers['x-vault-namespace'] !== this.#options.namespace) {
      return err(403, 'permission denied');
    }
    if (req.path === '/v1/auth/approle/login') return this.#login(req);
    const token = req.headers['x-vault-token'];
    const expiry = typeof token === 'string' ? this.#tokens.get(token) : undefined;
    if (expiry === undefined || Date.now() >= expiry) return err(403, 'permission denied');
    const match = /^\/v1\/(.+)\/(encrypt|decrypt)\/([^/]+)$/.exec(req.path);
    if (match === null) return err(404, `no handler for route "${req.path}"`);
    const [, mount, op, name] = match;
    const key = this.#keys.get(`${mount}/${name}`);
    if (key === undefined) return err(400, 'encryption key not found');
    const body = (req.body ?? {}) as Record<string, unknown>;
    return op === 'encrypt' ? encrypt(key, body) : decrypt(key, body);
  }

  #login(req: FakeRequest): FakeResponse {
    const approle = this.#options.approle;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (approle === undefined || body['role_id'] !== approle.roleId || body['secret_id'] !== approle.secretId) {
      return err(400, 'invalid role or secret ID');
    }
    this.logins++;
    const token = `hvs.login-${this.logins}-${randomBytes(6).toString('hex')}`;
    this.#tokens.set(token, approle.leaseSeconds > 0 ? Date.now() + approle.leaseSeconds * 1000 : Infinity);
    return {
      status: 200,
      body: { auth: { client_token: token, accessor: 'acc', policies: ['transit'], lease_duration: approle.leaseSeconds, renewable: true } },
    };
  }
}

function encrypt(key: TransitKey, body: Record<string, unknown>): FakeResponse {
  const plaintext = body['plaintext'];
  if (typeof plaintext !== 'string') return err(400, 'missing plaintext to encrypt');
  const version = key.versions.length;
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.versions[version - 1]!, nonce);
  const ct = Buffer.concat([cipher.update(Buffer.from(plaintext, 'base64')), cipher.final(), cipher.getAuthTag()]);
  return { status: 200, body: { data: { ciphertext: `vault:v${version}:${Buffer.concat([nonce, ct]).toString('base64')}`, key_version: version } } };
}

function decrypt(key: TransitKey, body: Record<string, unknown>): FakeResponse {
  const ciphertext = body['ciphertext'];
  const match = typeof ciphertext === 'string' ? /^vault:v(\d+):(.+)$/.exec(ciphertext) : null;
  if (match === null) return err(400, 'invalid ciphertext: no prefix');
  const version = Number(match[1]);
  if (version < key.minDecryptionVersion) return err(400, 'ciphertext or signature version is disallowed by policy (too old)');
  const material = key.versions[version - 1];
  if (material === undefined) return err(400, 'invalid ciphertext: version is too new');
  const raw = Buffer.from(match[2]!, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const pt = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    return { status: 200, body: { data: { plaintext: pt.toString('base64') } } };
  } catch {
    return err(400, 'cipher: message authentication failed');
  }
}

function err(status: number, message: string): FakeResponse {
  return { status, body: { errors: [message] } };
}
