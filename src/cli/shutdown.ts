/**
 * SIGTERM/SIGINT handling of the long-running commands (`run`, `serve`): the first signal asks the
 * work to stop at a transaction boundary and starts the shutdown timeout; when the timeout passes,
 * or on a second signal, the process exits at once. What is left open then is safe to drop: an open
 * transaction is aborted by the broker (or by the next run with the same transactional id), and
 * nothing was committed for it.
 */
import type { Logger } from '../util/logger.js';

export interface ShutdownOptions {
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Asks the work to stop; called once, on the first signal. */
  readonly onStop: (signal: NodeJS.Signals) => void;
  /** The exit code when the process is forced out (timeout or second signal). */
  readonly forcedExitCode: number;
  /** For tests; default process.exit. */
  readonly exit?: (code: number) => void;
}

export interface ShutdownHandle {
  /** The signal that asked to stop, if any. */
  readonly signal: NodeJS.Signals | undefined;
  /** Removes the signal handlers and clears the timeout: call once the work has ended. */
  dispose(): void;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

export function onShutdownSignals(options: ShutdownOptions): ShutdownHandle {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let signal: NodeJS.Signals | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const handler = (received: NodeJS.Signals) => {
    if (signal !== undefined) {
      options.logger.warn('second signal: exiting now; an open transaction is aborted, not committed', { signal: received });
      exit(options.forcedExitCode);
      return;
    }
    signal = received;
    options.logger.info('stopping: finishing the current transaction', { signal: received, shutdownTimeoutMs: options.timeoutMs });
    deadline = setTimeout(() => {
      options.logger.error('shutdown timeout passed: exiting now; an open transaction is aborted, not committed', { shutdownTimeoutMs: options.timeoutMs });
      exit(options.forcedExitCode);
    }, options.timeoutMs);
    options.onStop(received);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    get signal() { return signal; },
    dispose() {
      if (deadline) clearTimeout(deadline);
      for (const s of SIGNALS) process.removeListener(s, handler);
    },
  };
}
