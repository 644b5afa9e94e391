/**
 * Entry point of the dev registry for the stack scripts:
 *   node --import tsx src/devregistry/main.ts --port 8081 --host 127.0.0.1 --data .stack/registry
 * Prints one line "dev-registry listening on URL" and shuts down cleanly on SIGTERM or SIGINT.
 */
import { startDevRegistry } from './server.js';

interface Args {
  port: number;
  host: string;
  dataDir: string | undefined;
}

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
      default:
        throw new Error(`unknown argument ${flag} (usage: --port N --host H --data DIR)`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`dev-registry: ${(err as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const registry = await startDevRegistry({ port: args.port, host: args.host, dataDir: args.dataDir });
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
