/**
 * dlq/: DLQ records under a payload policy, guarded against tagged plaintext. The public API is the
 * writer (which always runs the guard) and the types the engine fills in; the policies themselves are
 * not exported, so nothing can build a DLQ record without the guard.
 */
export { DlqBreaker, type DlqBreakerSettings } from './breaker.js';
export { DlqWriter, type DlqWriterOptions } from './dlq-writer.js';
export { DLQ_HEADERS, describeDlqRecord } from './headers.js';
export { DLQ_RULE_NAME, DLQ_TAG, dlqSubject, type DlqKek } from './dlq-schemas.js';
export { MIN_SCAN_BYTES, findPlaintext } from './guard.js';
export type { DecodedSource, DlqEvents, DlqPolicy, DlqRuleInfo, DlqTopics, FailedRecord, Plaintext, SourceView } from './types.js';
export {
  DEFAULT_MAX_REPLAY_ATTEMPTS, REPLAY_ATTEMPTS_HEADER, decideReplay, isUnreadable, parseDlqRecord, refuseBeforeLookup, sourceFromPayload, withReplayAttempt,
  type Coordinates, type DlqEntry, type ReplayContext, type ReplayDecision, type SourceLookup, type UnreadableEntry,
} from './replay.js';
