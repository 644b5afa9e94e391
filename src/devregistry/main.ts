/**
 * Entry point of the dev registry for the stack scripts:
 *   node --import tsx src/devregistry/main.ts --port 8081 --host 127.0.0.1 --data .stack/registry
 * Prints one line "dev-registry listening on URL" and shuts down cleanly on SIGTERM or SIGINT.
 * The secure stack adds `--tls-cert FILE --tls-key FILE` (HTTPS) and `--basic-auth-file FILE` (holding
 * `user:password`) and/or `--bearer-token-file FILE`: secrets are read from files, never taken on the
 * command line, where `ps` would show them.
 */
import { readFileSync } from 'node:fs';
import type { DevRegistryAuth } from './auth.js';
import { startDevRegistry, type DevRegistryOptions } from './server.js';

interface Args {
  port: number;
  host: string;
  dataDir: string | undefined;
  tlsCert?: string;
  tlsKey?: string;
  basicAuthFile?: string;
  bearerTokenFile?: string;
}

const USAGE = 'usage: --port N --host H --data DIR [--tls-cert FILE --tls-key FILE] [--basic-auth-file FILE] [--bearer-token-file FILE]';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { port: 8081, host: '127.0.0.1', dataDir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
        args.port = port;
        break;
      }
      case '--host':
        args.host = value();
        break;
      case '--data':
        args.dataDir = value();
        break;
      case '--tls-cert':
        args.tlsCert = value();
        break;
      case '--tls-key':
        args.tlsKey = value();
        break;
      case '--basic-auth-file':
        args.basicAuthFile = value();
        break;
      case '--bearer-token-file':
        args.bearerTokenFile = value();
        break;
      default:
        throw new Error(`unknown argument ${flag} (${USAGE})`);
    }
  }
  if ((args.tlsCert === undefined) !== (args.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  return args;
}

/** A file's contents without the trailing newline; the error names the flag, not the contents. */
function readSecret(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new Error(`${flag}: cannot read ${path}`);
  }
}

function serverOptions(args: Args): DevRegistryOptions {
  const auth: DevRegistryAuth = {
    ...(args.basicAuthFile !== undefined ? { basic: readSecret('--basic-auth-file', args.basicAuthFile) } : {}),
    ...(args.bearerTokenFile !== undefined ? { bearerToken: readSecret('--bearer-token-file', args.bearerTokenFile) } : {}),
  };
  return {
    port: args.port, host: args.host, dataDir: args.dataDir,
    ...(args.tlsCert !== undefined && args.tlsKey !== undefined
      ? { tls: { cert: readSecret('--tls-cert', args.tlsCert), key: readSecret('--tls-key', args.tlsKey) } } : {}),
    ...(auth.basic !== undefined || auth.bearerToken !== undefined ? { auth } : {}),
  };
}

async function main(): Promise<void> {
  let options: DevRegistryOptions;
  try {
    options = serverOptions(parseArgs(process.argv.slice(2)));
  } catch (err) {
    console.error(`dev-registry: ${(err as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const registry = await startDevRegistry(options);
  process.stdout.write(`dev-registry listening on ${registry.url}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    registry.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`dev-registry: error while stopping on ${signal}: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`dev-registry: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
