import { describe, expect, it } from 'vitest';
import { sourceTopicsOf, targetSubjectFor, targetTopicFor, validateJobFiles, type Job } from '../../../src/jobs/index.js';
import { writeJobFiles } from './helpers.js';

const job = (source: string, target: string, extra = ''): string => `apiVersion: recrypt/v1
kind: Job
metadata: { name: t }
spec:
  mode: decrypt
  source: ${source}
  target: ${target}
${extra}`;

async function validate(yaml: string) {
  const [file] = writeJobFiles({ 'job.yaml': yaml }) as [string];
  return validateJobFiles([file]);
}

describe('topic templates', () => {
  it('renders {topic} in target topic and subject; default subject is <target>-value', async () => {
    const { jobs } = await validate(job('{ topics: [a, b] }', "{ topic: '{topic}.plain' }"));
    const j = jobs[0] as Job;
    expect(targetTopicFor(j, 'a')).toBe('a.plain');
    expect(targetSubjectFor(j, 'b')).toBe('b.plain-value');
  });

  it('a pattern never picks internal topics or its own outputs', async () => {
    const { jobs } = await validate(job("{ topicPattern: 'legacy\\..*' }", "{ topic: '{topic}.enc' }", "  dlq: { topic: '{topic}.dlq' }\n"));
    expect(sourceTopicsOf(jobs[0] as Job, ['legacy.a', 'legacy.a.enc', 'legacy.a.dlq', 'legacy.b', 'other', '__consumer_offsets'])).toEqual(['legacy.a', 'legacy.b']);
  });

  it('refuses a target that is its own source', async () => {
    const { problems } = await validate(job('{ topic: a }', "{ topic: '{topic}' }"));
    expect(problems.map((p) => [p.path, p.message])).toEqual([['spec.target.topic', 'the target of source a is itself a source topic']]);
  });

  it('refuses an invalid topicPattern', async () => {
    const { problems } = await validate(job("{ topicPattern: 'legacy.(' }", "{ topic: '{topic}.x' }"));
    expect(problems.map((p) => [p.path, p.line, p.column])).toEqual([['spec.source.topicPattern', 6, 27]]);
  });

  it('warns when several targets share one subject', async () => {
    const { problems, ok } = await validate(job('{ topics: [a, b] }', "{ topic: '{topic}.x', subject: shared-value }"));
    expect(ok).toBe(true);
    expect(problems.map((p) => [p.severity, p.path])).toEqual([['warning', 'spec.target.subject']]);
  });

  it('one listed topic needs no placeholder', async () => {
    const { problems } = await validate(job('{ topics: [a] }', '{ topic: b }'));
    expect(problems).toEqual([]);
  });

  it('refuses a target subject in a Schema Registry context (its KEKs would be looked up in the default context); the default context written out is fine', async () => {
    const { problems } = await validate(job('{ topic: a }', "{ topic: a.plain, subject: ':.team:a.plain-value' }"));
    expect(problems.map((p) => [p.path, p.code])).toEqual([['spec.target.subject', 'JOB_UNSAFE']]);
    const { problems: none } = await validate(job('{ topic: a }', "{ topic: a.plain, subject: ':.:a.plain-value' }"));
    expect(none).toEqual([]);
  });
});
