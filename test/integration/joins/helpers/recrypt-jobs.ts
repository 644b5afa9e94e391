// Re-encrypts the join's source topics with `recrypt run`, one job per topic, the JOIN_KEY fields
// deterministically (AES256_SIV): what a user does to make encrypted topics joinable.
import { stringify } from 'yaml';
import { recrypt, writeJobFile } from '../../helpers/cli.js';
import { uniqueName } from '../../helpers/stack.js';
import { JOIN_KEY_TAG, type JoinTopics } from './join-data.js';

/** The key id the SIV jobs' rule names (local-kms ignores it, the KEK records it). */
export const JOIN_KMS_KEY_ID = 'join-key';

export interface SivJobOptions {
  /** The KEK of the SIV rule, the same for both jobs (local-kms). */
  kek: string;
  /** Source records count the jobs must report, per topic. */
  counts: { customers: number; orders: number };
  /** Merged (deeply) into each job's `spec` (e.g. a join group naming both target subjects). */
  spec?: (targets: SivTargets) => Record<string, unknown>;
  /** Runs before the jobs, once the target topics are named (e.g. to register keys by hand). */
  prepare?: (targets: SivTargets) => Promise<void>;
}

/** The SIV topics' names, chosen before the jobs create them; their subjects are "<topic>-value". */
export interface SivTargets {
  customers: string;
  orders: string;
}

/** A reencrypt job from `source` to `target` with one ENCRYPT rule: JOIN_KEY fields under AES256_SIV. */
export function sivJob(source: string, target: string, kek: string, spec: Record<string, unknown> = {}): string {
  return stringify(merge({
    apiVersion: 'recrypt/v1',
    kind: 'Job',
    metadata: { name: uniqueName('join-siv').toLowerCase() },
    spec: {
      mode: 'reencrypt',
      source: { topic: source, startAt: 'earliest', stopAt: 'end' },
      target: { topic: target, createTopic: true },
      rules: {
        domainRules: [{
          name: 'encryptJoinKeys', type: 'ENCRYPT', mode: 'WRITEREAD', tags: [JOIN_KEY_TAG],
          params: {
            'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': JOIN_KMS_KEY_ID,
            'encrypt.dek.algorithm': 'AES256_SIV',
          },
          onFailure: 'ERROR,ERROR',
        }],
      },
    },
  }, { spec }));
}

type Tree = Record<string, unknown>;

const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `extra` laid over `base`: objects merge key by key, anything else (arrays too) replaces. */
function merge(base: Tree, extra: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? merge(current, value) : value;
  }
  return out;
}

/** Runs both jobs and returns the SIV topics, joinable on the same fields as the sources. */
export async function reencryptToSiv(sources: JoinTopics, options: SivJobOptions): Promise<JoinTopics> {
  const targets: SivTargets = { customers: uniqueName('join-customers-siv'), orders: uniqueName('join-orders-siv') };
  const spec = options.spec?.(targets) ?? {};
  await options.prepare?.(targets);
  for (const side of ['customers', 'orders'] as const) {
    const result = await recrypt(['run', writeJobFile(sivJob(sources[side].topic, targets[side], options.kek, spec))]);
    if (result.code !== 0) throw new Error(`recrypt run (${side}) exited with ${result.code}:\n${result.stderr}`);
    const count = options.counts[side];
    if (!new RegExp(`\\b${count} records \\(${count} written, 0 to DLQ\\)`).test(result.stdout)) {
      throw new Error(`recrypt run (${side}) did not write ${count} records:\n${result.stdout}`);
    }
  }
  return {
    customers: { ...sources.customers, topic: targets.customers },
    orders: { ...sources.orders, topic: targets.orders },
  };
}
