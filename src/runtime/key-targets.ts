/**
 * The key side of a job with `keys: rules` (issue #23), resolved like the value's target: the source key
 * subject (`<topic>-key` under the topic name strategy) must have a schema, whose writer schemas' READ
 * rules decrypt keys; the target key subject (`spec.target.keySubject`, default `<target topic>-key`)
 * must have a schema, whose latest version's WRITE rules encrypt them. recrypt registers nothing here:
 * the key subjects carry their own rules (the job's `spec.rules` are the value's). Refused before the
 * job registers anything or reads a record, with every problem at once.
 */
import { checkKeySubjects, formatProblems, targetKeySubjectFor, type Job, type Problem } from '../jobs/index.js';
import type { DekManager } from '../keys/index.js';
import type { RegisteredSchema, SchemaRegistryApi } from '../registry/types.js';
import { RecryptError } from '../util/errors.js';
import { latestOrNull } from './target-rules.js';

export interface KeySubjects {
  readonly sourceKeySubject: string;
  readonly targetKeySubject: string;
  /** The target key subject's latest schema; null when it has none (a problem says so). */
  readonly targetKeySchema: RegisteredSchema | null;
  readonly problems: readonly Problem[];
}

/** The key subjects of `source` and what is wrong with them (plan shows the problems; run refuses them). */
export async function keySubjectsOf(job: Job, registry: SchemaRegistryApi, source: string): Promise<KeySubjects> {
  const sourceKeySubject = `${source}-key`;
  // Other strategies name the subject after each key's record: known only per record, checked there.
  const sourceKeySchema = job.spec.source.subjectNameStrategy === 'topic' ? await latestOrNull(registry, sourceKeySubject) : undefined;
  const targetKeySubject = targetKeySubjectFor(job, source);
  const targetKeySchema = await latestOrNull(registry, targetKeySubject);
  const problems = [...checkKeySubjects(job, sourceKeySubject, sourceKeySchema, targetKeySubject, targetKeySchema?.ruleSet)];
  if (targetKeySchema === null) {
    problems.push({
      code: 'JOB_INVALID', severity: 'error', path: job.spec.target.keySubject === undefined ? 'spec.keys' : 'spec.target.keySubject',
      message: `keys: rules but the target key subject ${targetKeySubject} has no schema`,
      expected: `the key schema, with the rules that encrypt keys on write, registered under ${targetKeySubject}`,
      job: job.metadata.name,
    });
  }
  return { sourceKeySubject, targetKeySubject, targetKeySchema, problems };
}

/** The key subjects of `source` for a run: refused (JOB_INVALID or JOB_UNSAFE) on any error, the target key rules' KEKs checked. */
export async function keyTargetForRun(job: Job, registry: SchemaRegistryApi, keys: DekManager, source: string): Promise<{ subject: string; schema: RegisteredSchema }> {
  const found = await keySubjectsOf(job, registry, source);
  const errors = found.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0 || found.targetKeySchema === null) {
    const code = errors.some((p) => p.code === 'JOB_UNSAFE') ? 'JOB_UNSAFE' : 'JOB_INVALID';
    throw new RecryptError(code, `job ${job.metadata.name} refused for the keys of ${source}:\n  ${formatProblems(errors).join('\n  ')}`);
  }
  await keys.checkKeks(found.targetKeySchema.ruleSet, found.targetKeySchema);
  return { subject: found.targetKeySubject, schema: found.targetKeySchema };
}
