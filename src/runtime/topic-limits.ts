/**
 * Record size limits of a job's topics, read once at start (`run`, `serve`) and by `plan`: the target
 * topics' `max.message.bytes` go to the pipeline (a record over them is refused before producing),
 * and a target whose limit is below its source's is a warning: a record the source holds may not fit
 * the target, even before encryption grows it.
 */
import type { Problem } from '../jobs/index.js';
import type { KafkaConnection } from '../kafka/connection.js';
import { topicMaxMessageBytes } from '../kafka/topics.js';
import { errorCodeOf } from '../util/errors.js';

export interface TopicPair {
  readonly source: string;
  readonly target: string;
}

export interface TopicLimits {
  /** max.message.bytes of every topic asked about that exists. */
  readonly maxBytes: ReadonlyMap<string, number>;
  /** The same, of the topics records are written to (targets and `extra`): what the pipeline checks. */
  readonly outputMaxBytes: ReadonlyMap<string, number>;
  readonly warnings: readonly string[];
}

export function limitWarning(pair: TopicPair, sourceMax: number, targetMax: number): string {
  return `target topic ${pair.target} has max.message.bytes ${targetMax}, below source topic ${pair.source}'s ${sourceMax}: `
    + `records that fit the source may be refused by the target (RECORD_TOO_LARGE); raise the target topic's max.message.bytes`;
}

/** Limits of the pairs' topics (and of `extra` topics, e.g. DLQ topics), with a warning per shrinking pair. */
export async function topicLimits(connection: KafkaConnection, pairs: readonly TopicPair[], extra: readonly string[] = []): Promise<TopicLimits> {
  const maxBytes = await topicMaxMessageBytes(connection, [...pairs.flatMap((p) => [p.source, p.target]), ...extra]);
  const warnings: string[] = [];
  for (const pair of pairs) {
    const sourceMax = maxBytes.get(pair.source);
    const targetMax = maxBytes.get(pair.target);
    if (sourceMax !== undefined && targetMax !== undefined && targetMax < sourceMax) warnings.push(limitWarning(pair, sourceMax, targetMax));
  }
  const outputs = new Set([...pairs.map((p) => p.target), ...extra]);
  return { maxBytes, outputMaxBytes: new Map([...maxBytes].filter(([topic]) => outputs.has(topic))), warnings };
}

/**
 * `plan`'s warning (as a job problem) when the target topic's limit is below the source's. Best
 * effort: a plan is still worth reading when Kafka cannot be asked, so that is a warning too.
 */
export async function sizeLimitProblems(connection: KafkaConnection, job: string, pair: TopicPair): Promise<Problem[]> {
  const warn = (message: string): Problem => ({ code: 'JOB_INVALID', severity: 'warning', path: 'spec.target.topic', job, message });
  try {
    return (await topicLimits(connection, [pair])).warnings.map(warn);
  } catch (err) {
    return [warn(`could not compare the max.message.bytes of ${pair.source} and ${pair.target}: ${errorCodeOf(err)}`)];
  }
}
