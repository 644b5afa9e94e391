/**
 * Topic and subject names of a job: the `{topic}` placeholder of target.topic, target.subject,
 * target.keySubject and dlq.topic, the default target subjects (value and key), and which existing topics a source selector picks.
 */
import type { Job, JobSource } from './job-types.js';

export const TOPIC_PLACEHOLDER = '{topic}';

export function renderTemplate(template: string, sourceTopic: string): string {
  return template.split(TOPIC_PLACEHOLDER).join(sourceTopic);
}

export function hasPlaceholder(template: string): boolean {
  return template.includes(TOPIC_PLACEHOLDER);
}

/** Several source topics (a list of more than one, or a pattern): templates need {topic}. */
export function hasSeveralSources(source: Pick<JobSource, 'topics' | 'topicPattern'>): boolean {
  return source.topicPattern !== undefined || (source.topics !== undefined && source.topics.length > 1);
}

export function targetTopicFor(job: Job, sourceTopic: string): string {
  return renderTemplate(job.spec.target.topic, sourceTopic);
}

/** target.subject rendered, or '<target topic>-value' (Confluent's default topic name strategy). */
export function targetSubjectFor(job: Job, sourceTopic: string): string {
  const subject = job.spec.target.subject;
  return subject === undefined ? `${targetTopicFor(job, sourceTopic)}-value` : renderTemplate(subject, sourceTopic);
}

/** target.keySubject rendered, or '<target topic>-key' (Confluent's default topic name strategy for keys). */
export function targetKeySubjectFor(job: Job, sourceTopic: string): string {
  const subject = job.spec.target.keySubject;
  return subject === undefined ? `${targetTopicFor(job, sourceTopic)}-key` : renderTemplate(subject, sourceTopic);
}

export function dlqTopicFor(job: Job, sourceTopic: string): string | undefined {
  const dlq = job.spec.dlq;
  return dlq === undefined ? undefined : renderTemplate(dlq.topic, sourceTopic);
}

/** The whole name must match, as Kafka's Java client does with subscribe(Pattern). */
export function topicRegExp(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/**
 * The source topics a job reads, given the topics that exist: listed topics as listed; a pattern
 * picks existing topics it matches, never internal ones (`__*`), and never a topic that is the target
 * or DLQ of another picked topic (so a job does not read its own output).
 */
export function sourceTopicsOf(job: Job, existing: readonly string[]): string[] {
  const source = job.spec.source;
  if (source.topic !== undefined) return [source.topic];
  if (source.topics !== undefined) return [...source.topics];
  const re = topicRegExp(source.topicPattern);
  const picked = existing.filter((t) => !t.startsWith('__') && re.test(t));
  const outputs = new Set(picked.flatMap((t) => [targetTopicFor(job, t), dlqTopicFor(job, t)].filter((x): x is string => x !== undefined)));
  return picked.filter((t) => !outputs.has(t)).sort();
}
