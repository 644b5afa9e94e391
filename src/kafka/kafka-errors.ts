/**
 * The one place where librdkafka errors are classified: fenced (another instance owns the
 * transactional id or the partitions: stop), refused credentials or ACLs (KAFKA_AUTH: stop), transient (broker unreachable, timeouts, aborted
 * transaction: retry from the last commit), or permanent: about one record (RECORD_TOO_LARGE,
 * KAFKA_PRODUCE) or about a target topic (KAFKA_TOPIC). A code on no list that librdkafka does not call
 * retriable is transient, marked so that the pipeline caps its retries (unlistedKafkaCode), whether or
 * not the transaction must abort.
 */
import kafka from '@confluentinc/kafka-javascript';
import { RecryptError } from '../util/errors.js';

const codes = kafka.CODES.ERRORS;

interface LibrdKafkaErrorLike {
  code?: number;
  message?: string;
  isFatal?: boolean;
  isRetriable?: boolean;
  isTxnRequiresAbort?: boolean;
}

const FENCED = new Set<number>([codes.ERR__FENCED, codes.ERR_PRODUCER_FENCED, codes.ERR_INVALID_PRODUCER_EPOCH]);
const TRANSIENT = new Set<number>([
  codes.ERR__TRANSPORT, codes.ERR__TIMED_OUT, codes.ERR__ALL_BROKERS_DOWN, codes.ERR__RESOLVE,
  codes.ERR_REQUEST_TIMED_OUT, codes.ERR_NOT_COORDINATOR, codes.ERR_COORDINATOR_NOT_AVAILABLE,
  codes.ERR_COORDINATOR_LOAD_IN_PROGRESS, codes.ERR_NOT_LEADER_FOR_PARTITION, codes.ERR_LEADER_NOT_AVAILABLE,
  codes.ERR_CONCURRENT_TRANSACTIONS, codes.ERR__MSG_TIMED_OUT, codes.ERR_NETWORK_EXCEPTION,
  codes.ERR_REBALANCE_IN_PROGRESS, codes.ERR_UNKNOWN_MEMBER_ID, codes.ERR_ILLEGAL_GENERATION,
]);

/**
 * Credentials or ACLs the broker refuses (KAFKA_AUTH, permanent): a retry sends the same credentials, so
 * retrying would loop for ever. SASL refused, or no right to the cluster, the transactional id or the
 * group. Not ERR__SSL: librdkafka gives it to any TLS-layer failure, a handshake cut by a restarting
 * broker too (an untrusted certificate is caught when the admin connects first: client-factory.ts).
 */
const AUTH = new Set<number>([
  codes.ERR__AUTHENTICATION, codes.ERR_SASL_AUTHENTICATION_FAILED,
  codes.ERR_CLUSTER_AUTHORIZATION_FAILED, codes.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, codes.ERR_GROUP_AUTHORIZATION_FAILED,
]);

/** The producer or broker refused a record for its size: no retry helps (RECORD_TOO_LARGE). */
const TOO_LARGE = new Set<number>([codes.ERR_MSG_SIZE_TOO_LARGE, codes.ERR_RECORD_LIST_TOO_LARGE]);
/** Refusals of one record that no retry fixes (KAFKA_PRODUCE): only these (and TOO_LARGE) blame a record. */
const REFUSED = new Set<number>([
  codes.ERR_INVALID_RECORD, codes.ERR_INVALID_TIMESTAMP, codes.ERR_POLICY_VIOLATION, codes.ERR_INVALID_MSG, codes.ERR_INVALID_MSG_SIZE,
  codes.ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, codes.ERR__INVALID_ARG, codes.ERR__BAD_MSG,
]);
/**
 * While writing, about a target topic (or a producer setting the broker refuses), not a record
 * (KAFKA_TOPIC, permanent): not allowed to write it, no such topic or partition. Blaming a record would
 * send one record per transaction to the DLQ; the batch's partitions halt instead.
 */
const TOPIC = new Set<number>([
  codes.ERR_TOPIC_AUTHORIZATION_FAILED, codes.ERR__UNKNOWN_PARTITION, codes.ERR_UNKNOWN_TOPIC_OR_PART, codes.ERR__UNKNOWN_TOPIC,
  codes.ERR_INVALID_REQUIRED_ACKS,
]);
/** produce() answers that are about the client's state, not the record: retried with the transaction. */
const PRODUCE_STATE = new Set<number>([codes.ERR__QUEUE_FULL, codes.ERR__STATE, codes.ERR__PURGE_QUEUE, codes.ERR__PURGE_INFLIGHT]);

/**
 * Converts whatever the client threw into a RecryptError; the message names the operation only.
 * `produce` (the synchronous produce() call): every answer not known to be transient is about the
 * record, so it is permanent for that record (RECORD_TOO_LARGE or KAFKA_PRODUCE).
 */
export function classifyKafkaError(operation: string, err: unknown): RecryptError {
  if (err instanceof RecryptError) return err;
  const e = (err ?? {}) as LibrdKafkaErrorLike;
  const code = typeof e.code === 'number' ? e.code : undefined;
  // librdkafka messages name brokers, topics and codes, never record contents.
  const detail = `${operation} failed${code === undefined ? '' : ` (librdkafka code ${code})`}: ${e.message ?? String(err)}`;
  // Before fatal: a producer whose credentials are refused may be fatal too, but it is not fenced.
  if (code !== undefined && AUTH.has(code)) return new RecryptError('KAFKA_AUTH', detail, { cause: err });
  if (code !== undefined && FENCED.has(code)) return new RecryptError('KAFKA_FENCED', detail, { cause: err });
  if (e.isFatal) return new RecryptError('KAFKA_FENCED', detail, { cause: err });
  // Before the abort flag: a transaction a refused record poisoned must abort, but retrying it cannot help.
  if (code !== undefined && TOO_LARGE.has(code)) return new RecryptError('RECORD_TOO_LARGE', detail, { cause: err });
  if (code !== undefined && REFUSED.has(code)) return new RecryptError('KAFKA_PRODUCE', detail, { cause: err });
  const writing = operation === 'produce' || operation.includes('transaction');
  if (code !== undefined && writing && TOPIC.has(code)) return new RecryptError('KAFKA_TOPIC', detail, { cause: err });
  if (e.isTxnRequiresAbort) {
    // With a code no list knows and not retriable, capped like any other unlisted code (it was not: a
    // broker error that poisoned every transaction was retried for ever).
    const known = e.isRetriable || code === undefined || LISTED.some((list) => list.has(code));
    return known ? new RecryptError('KAFKA_TRANSACTION', detail, { cause: err }) : unlisted(detail, err, code);
  }
  if (e.isRetriable || (code !== undefined && TRANSIENT.has(code))) {
    return new RecryptError('KAFKA_UNAVAILABLE', detail, { cause: err });
  }
  if (code === codes.ERR_UNKNOWN_TOPIC_OR_PART || code === codes.ERR__UNKNOWN_TOPIC) {
    return new RecryptError('KAFKA_TOPIC', detail, { cause: err });
  }
  if (operation === 'produce') {
    return code !== undefined && PRODUCE_STATE.has(code)
      ? new RecryptError('KAFKA_TRANSACTION', detail, { cause: err })
      : new RecryptError('KAFKA_PRODUCE', detail, { cause: err });
  }
  // Not a code listed above: retried, but not for ever (unlistedKafkaCode).
  return unlisted(detail, err, code);
}

/** The codes some list above gives a meaning to; any other is unlisted. */
const LISTED: ReadonlyArray<ReadonlySet<number>> = [AUTH, FENCED, TRANSIENT, TOO_LARGE, REFUSED, TOPIC, PRODUCE_STATE];

/** Transient errors whose librdkafka code no list above names, with that code. */
const UNLISTED = new WeakMap<RecryptError, number>();

function unlisted(detail: string, err: unknown, code: number | undefined): RecryptError {
  const e = new RecryptError('KAFKA_TRANSACTION', detail, { cause: err });
  if (code !== undefined) UNLISTED.set(e, code);
  return e;
}

/**
 * The librdkafka code of a transient error classified only for want of knowing its code (on no list,
 * not retriable, with or without the abort-required flag): the pipeline caps how often the same one is
 * retried.
 */
export function unlistedKafkaCode(err: unknown): number | undefined {
  return err instanceof RecryptError ? UNLISTED.get(err) : undefined;
}

/** kafkajs error names that mean "the broker could not be reached or did not answer in time". */
const ADMIN_UNREACHABLE = new Set([
  'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError', 'KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded', 'KafkaJSTimeout',
]);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * Classifies a kafkajs admin error (topics.ts). kafkajs gives up on an unreachable broker with a
 * non-retriable "number of retries exceeded" wrapping the connection error, so the whole cause chain
 * is looked at: any link that is about reaching the broker makes it KAFKA_UNAVAILABLE (transient);
 * anything else is KAFKA_TOPIC (a topic the broker refused or does not have).
 */
export function classifyAdminError(operation: string, err: unknown): RecryptError {
  if (err instanceof RecryptError) return err;
  const detail = `${operation} failed: ${(err as Error | undefined)?.message ?? String(err)}`;
  const seen = new Set<unknown>();
  for (let e = err as { name?: string; code?: unknown; retriable?: boolean; cause?: unknown; originalError?: unknown } | undefined; e && !seen.has(e);
    e = (e.originalError ?? e.cause) as typeof e) {
    seen.add(e);
    const unreachable = ADMIN_UNREACHABLE.has(e.name ?? '') || (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) || e.retriable === true;
    if (unreachable) return new RecryptError('KAFKA_UNAVAILABLE', detail, { cause: err });
  }
  return new RecryptError('KAFKA_TOPIC', detail, { cause: err });
}
