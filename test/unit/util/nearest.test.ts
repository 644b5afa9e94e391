// "Did you mean": one implementation for CLI commands, options and job-file keys.
import { describe, expect, it } from 'vitest';
import { editDistance, nearest } from '../../../src/util/nearest.js';

describe('nearest', () => {
  it('suggests the closest name for transpositions, a dropped or an extra letter', () => {
    expect(nearest('rnu', ['run', 'serve', 'plan'])).toBe('run');
    expect(nearest('--jbo', ['--job', '--json'])).toBe('--job');
    expect(nearest('topicc', ['topic', 'topicPattern'])).toBe('topic');
    expect(nearest('Serve', ['run', 'serve'])).toBe('serve');
  });

  it('suggests nothing for a different word', () => {
    expect(nearest('deploy', ['run', 'serve', 'plan', 'audit'])).toBeUndefined();
    expect(nearest('--force', ['--job', '--json'])).toBeUndefined();
  });

  it('a prefix of a longer name finds it', () => {
    expect(nearest('rewrap', ['rewrap-deks', 'run'])).toBe('rewrap-deks');
  });

  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
