/**
 * startDevRegistry: a Schema Registry + DEK Registry compatible HTTP server for local use and tests
 * (node:http, no framework). Everything persists in dataDir (see store.ts); without dataDir the state
 * lives in memory only. Never needed in production. With `tls` it serves HTTPS and with `auth` it
 * refuses callers without the basic credentials or bearer token (auth.ts), so the secure local stack can
 * prove that recrypt's registry client carries both.
 *
 *   const reg = await startDevRegistry({ port: 0, dataDir: '/tmp/reg' });
 *   // reg.url -> http://127.0.0.1:PORT (https:// with `tls`); await reg.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { newDekMaterial } from '../crypto/dek-proto.js';
import { LocalKmsDriver } from '../kms/local-kms.js';
import type { KmsDriver } from '../kms/kms-driver.js';
import { RecryptError } from '../util/errors.js';
import { checkAuth, type DevRegistryAuth } from './auth.js';
import { addDekRoutes, type DekMaterialFactory, type KmsLookup } from './dek-api.js';
import { ApiError, Router, notFoundRoute, sendError } from './http.js';
import { addSchemaRoutes } from './schema-api.js';
import { Store } from './store.js';

export interface DevRegistryOptions {
  /** TCP port; 0 picks a free one (default 8081). */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Directory for the durable log; omit for an in-memory registry. */
  dataDir?: string;
  /** KMS drivers by kms type, used for shared KEKs. Default: local-kms only (secret from env LOCAL_SECRET or `localSecret`). */
  kms?: KmsLookup;
  /** Secret for the default local-kms driver (else env LOCAL_SECRET). */
  localSecret?: string;
  /** DEK generator (a serialized Tink key proto); tests may pin it. */
  newDekMaterial?: DekMaterialFactory;
  /** Serve HTTPS with this PEM certificate (chain) and private key. */
  tls?: { readonly cert: string; readonly key: string };
  /** Require basic auth and/or a bearer token on every request (401 otherwise). */
  auth?: DevRegistryAuth;
  /** Called with a value-free line for unexpected internal errors (default console.error). */
  onInternalError?: (message: string) => void;
}

export interface DevRegistry {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The default KMS lookup: local-kms only. */
export function localKmsLookup(secret?: string): KmsLookup {
  const local = new LocalKmsDriver(secret === undefined ? {} : { secret });
  return {
    get(kmsType: string): KmsDriver {
      if (kmsType === local.kmsType) return local;
      throw new RecryptError('KMS_UNSUPPORTED_TYPE', `dev registry has no KMS driver for ${kmsType}`);
    },
  };
}

export async function startDevRegistry(options: DevRegistryOptions = {}): Promise<DevRegistry> {
  const store = await Store.open(options.dataDir);
  const router = new Router();
  addSchemaRoutes(router, store);
  addDekRoutes(router, store, options.kms ?? localKmsLookup(options.localSecret), options.newDekMaterial ?? newDekMaterial);
  const report = options.onInternalError ?? ((m: string) => console.error(m));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    checkAuth(req, options.auth);
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    let segments: string[];
    try {
      segments = rawPath.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      throw notFoundRoute();
    }
    const { handler, params } = router.match(method, segments);
    await handler({ req, res, params, query });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ApiError) {
        sendError(res, err);
        return;
      }
      report(`dev-registry: internal error on ${req.method ?? '?'} ${(req.url ?? '').split('?')[0]}: ${err instanceof Error ? err.name : typeof err}`);
      sendError(res, new ApiError(500, 50001, 'Error in the backend data store'));
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : createServer(onRequest);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8081, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  let closing: Promise<void> | undefined;
  return {
    url: `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`,
    port,
    close(): Promise<void> {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2_000).unref();
        });
        await store.close();
      })();
      return closing;
    },
  };
}
