// The whole encrypted-join scenario in one call: customers and orders encrypted by Confluent's
// serializer (AES256_GCM over the JOIN_KEY fields), re-encrypted to AES256_SIV by `recrypt run` (one job
// per topic, `spec` merged into both), joined by the Kafka Streams app on the SIV topics.
import { uniqueName } from '../../helpers/stack.js';
import { joinData, plaintextJoin, produceJoinTopics, type JoinData, type JoinTopics } from './join-data.js';
import { reencryptToSiv, type SivJobOptions } from './recrypt-jobs.js';
import { runJoin, type JoinRun } from './streams-join.js';

export interface SivJoinOptions {
  customers?: number;
  orders?: number;
  /** The SIV rule's KEK (local-kms); a new one by default. */
  kek?: string;
  /** Merged into both recrypt jobs' `spec`, given the two target topics (e.g. a join group over their subjects). */
  spec?: SivJobOptions['spec'];
  /** Runs before the recrypt jobs, given the two target topics. */
  prepare?: SivJobOptions['prepare'];
}

export interface SivJoin {
  data: JoinData;
  /** plaintextJoin(data): what the Streams join must find once equal ids encrypt equally. */
  expected: string[];
  sources: JoinTopics;
  siv: JoinTopics;
  run: JoinRun;
  counts: { customers: number; orders: number };
  /** Every topic the scenario created, for the caller's cleanup. */
  topics: string[];
}

export async function sivJoin(classpath: string, options: SivJoinOptions = {}): Promise<SivJoin> {
  const counts = { customers: options.customers ?? 200, orders: options.orders ?? 1000 };
  const data = joinData(counts.customers, counts.orders);
  const topics: string[] = [];
  const sources = await produceJoinTopics(data, { encryption: { kek: uniqueName('gcm-kek') } });
  topics.push(sources.customers.topic, sources.orders.topic);
  const siv = await reencryptToSiv(sources, {
    kek: options.kek ?? uniqueName('join-kek'), counts,
    ...(options.spec ? { spec: options.spec } : {}), ...(options.prepare ? { prepare: options.prepare } : {}),
  });
  topics.push(siv.customers.topic, siv.orders.topic);
  const run = await runJoin(classpath, { left: siv.customers, right: siv.orders });
  topics.push(run.outputTopic);
  return { data, expected: plaintextJoin(data), sources, siv, run, counts, topics };
}
