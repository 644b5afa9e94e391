import { describe, expect, it } from 'vitest';
import type { Rule } from '../../../src/registry/types.js';
import { actionFor, parseActions, validateActions } from '../../../src/rules/actions.js';
import { RecryptError } from '../../../src/util/errors.js';

const rule = (over: Partial<Rule> = {}): Rule => ({ name: 'r1', type: 'ENCRYPT', ...over });

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RecryptError);
    expect((err as RecryptError).code).toBe('RULE_INVALID');
    return;
  }
  throw new Error('expected RULE_INVALID');
}

describe('actionFor', () => {
  it('defaults: failure ERROR, success NONE, both directions', () => {
    const r = rule();
    expect(actionFor(r, 'write', 'failure')).toBe('ERROR');
    expect(actionFor(r, 'read', 'failure')).toBe('ERROR');
    expect(actionFor(r, 'write', 'success')).toBe('NONE');
    expect(actionFor(r, 'read', 'success')).toBe('NONE');
    expect(actionFor(rule({ onFailure: '  ' }), 'read', 'failure')).toBe('ERROR');
  });

  it('a single action applies to both directions', () => {
    const r = rule({ onFailure: 'DLQ', onSuccess: 'NONE' });
    expect(actionFor(r, 'write', 'failure')).toBe('DLQ');
    expect(actionFor(r, 'read', 'failure')).toBe('DLQ');
  });

  it('a pair "A,B" on a WRITEREAD rule: A on write, B on read (mode defaults to WRITEREAD)', () => {
    const r = rule({ onFailure: 'ERROR,NONE', onSuccess: 'NONE,DLQ' });
    expect(actionFor(r, 'write', 'failure')).toBe('ERROR');
    expect(actionFor(r, 'read', 'failure')).toBe('NONE');
    expect(actionFor(r, 'write', 'success')).toBe('NONE');
    expect(actionFor(r, 'read', 'success')).toBe('DLQ');
    const explicit = rule({ mode: 'WRITEREAD', onFailure: 'DLQ,ERROR' });
    expect(parseActions(explicit, 'failure')).toEqual({ write: 'DLQ', read: 'ERROR' });
  });

  it('is case-insensitive and trims, like the Java client', () => {
    expect(parseActions(rule({ onFailure: ' none , error ' }), 'failure')).toEqual({ write: 'NONE', read: 'ERROR' });
    expect(actionFor(rule({ onFailure: 'dlq' }), 'write', 'failure')).toBe('DLQ');
  });

  it('unknown actions are RULE_INVALID', () => {
    expectInvalid(() => actionFor(rule({ onFailure: 'RETRY' }), 'write', 'failure'));
    expectInvalid(() => actionFor(rule({ onSuccess: 'NONE,IGNORE' }), 'read', 'success'));
    expectInvalid(() => validateActions(rule({ onSuccess: 'LOG' })));
  });

  it('malformed pairs and pairs on single-direction rules are RULE_INVALID', () => {
    expectInvalid(() => parseActions(rule({ onFailure: 'ERROR,' }), 'failure'));
    expectInvalid(() => parseActions(rule({ onFailure: ',ERROR' }), 'failure'));
    expectInvalid(() => parseActions(rule({ onFailure: 'ERROR,NONE,DLQ' }), 'failure'));
    expectInvalid(() => parseActions(rule({ mode: 'WRITE', onFailure: 'ERROR,NONE' }), 'failure'));
    expectInvalid(() => parseActions(rule({ mode: 'READ', onFailure: 'ERROR,NONE' }), 'failure'));
  });

  it('validateActions accepts a valid rule', () => {
    expect(() => validateActions(rule({ onFailure: 'ERROR,DLQ', onSuccess: 'NONE' }))).not.toThrow();
  });
});
