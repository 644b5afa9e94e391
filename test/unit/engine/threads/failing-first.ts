// The first message listener of failing-thread.ts (imported before thread-main.ts, so it runs first).
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (message: { kind: string; topics?: readonly string[]; driver?: number }) => {
  if (message.kind !== 'slice') return;
  if (message.topics?.includes('crash-exit')) process.exit(3);
  // Stuck for good, as in a pathological regex: only terminate() ends it.
  if (message.topics?.includes('crash-hang')) for (;;);
  // An unknown driver: thread-main's handler throws (INTERNAL) out of the thread.
  if (message.topics?.includes('crash-throw')) message.driver = -1;
});
