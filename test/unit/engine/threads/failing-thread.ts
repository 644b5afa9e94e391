// An engine thread entry for tests: the real thread (thread-main.ts) behind a listener that sees each
// slice first (failing-first.ts): a slice of topic crash-exit ends the thread, one of crash-throw makes
// the real handler throw, one of crash-hang never returns.
import './failing-first.js';
import '../../../../src/engine/threads/thread-main.js';
