// rules/cel: compiling CEL and CEL_FIELD expressions (guard split, parse errors with where, not values),
// running them the Go client's way (guard errors skip, CelErrors fail, only false fails a CONDITION),
// and the value model (records as maps, bigint as int, Long as int/uint, bytes, results back into leaves).
import { describe, expect, it } from 'vitest';
import {
  DOES_NOT_FIT, celCompileError, compileCelRule, conditionHolds, fromCelLeaf, leafTypeName, runCel, toCel,
} from '../../../src/rules/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import type { Rule } from '../../../src/model/index.js';

const at = { subject: 'orders-value', version: 3 };
const rule = (expr: string, extra: Partial<Rule> = {}): Rule => ({ name: 'check', type: 'CEL', kind: 'CONDITION', expr, ...extra });
const run = (expr: string, bindings: Record<string, unknown>) => runCel(compileCelRule(rule(expr), at), bindings);

describe('compileCelRule', () => {
  it('refuses an expression that does not parse with subject, version, rule name and the parser message', () => {
    let err: unknown;
    try {
      compileCelRule(rule('message.amount >'), at);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecryptError);
    expect((err as RecryptError).code).toBe('RULE_INVALID');
    expect((err as RecryptError).message).toMatch(/^subject orders-value version 3 rule check: CEL expression does not compile: <input>:1:\d+/);
  });

  it('names the schema id when the version is not known', () => {
    expect(() => compileCelRule(rule('a +'), { subject: 's', id: 42 })).toThrow(/subject s schema id 42 rule check/);
    expect(celCompileError(rule('a +'))).toMatch(/^CEL expression does not compile: <input>:1:/);
    expect(celCompileError(rule('a + 1'))).toBeUndefined();
  });

  it('a rule without expr is a no-op, as in both executors: a CONDITION holds, a TRANSFORM keeps the value', () => {
    const none = compileCelRule({ name: 'x', type: 'CEL_FIELD' }, at);
    expect(runCel(none, { value: 'v' })).toEqual({ kind: 'skipped' });
    expect(conditionHolds(runCel(compileCelRule({ name: 'x', type: 'CEL', kind: 'CONDITION', expr: ' ' }, at), {}))).toBe('pass');
    expect(celCompileError({ name: 'x', type: 'CEL' })).toBeUndefined();
  });

  it('splits at the first ";" into guard and body; a blank guard is no guard', () => {
    const p = compileCelRule(rule("name == 'ssn' ; value + 'x'"), at);
    expect(p.guard).not.toBeNull();
    expect(compileCelRule(rule('  ; true'), at).guard).toBeNull();
    expect(compileCelRule(rule('true'), at).guard).toBeNull();
    // The split ignores string literals, as the clients' indexOf(';') does: the guard does not parse.
    expect(() => compileCelRule(rule("value == 'a;b'"), at)).toThrow(/does not compile/);
  });

  it('notes whether the expression names message', () => {
    expect(compileCelRule(rule('message.a > 0.0'), at).refsMessage).toBe(true);
    expect(compileCelRule(rule("value == 'x'"), at).refsMessage).toBe(false);
  });
});

describe('runCel (Go semantics)', () => {
  it('a guard that is false or does not evaluate skips the body; a CONDITION then holds', () => {
    expect(run("name == 'ssn' ; false", { name: 'other' })).toEqual({ kind: 'skipped' });
    expect(conditionHolds(run("name == 'ssn' ; false", { name: 'other' }))).toBe('pass');
    // JS runs the body when the guard errors; Go (cel_executor.go) skips it.
    expect(run('int(name) > 0 ; false', { name: 'not-a-number' })).toEqual({ kind: 'skipped' });
    expect(conditionHolds(run("name == 'ssn' ; false", { name: 'ssn' }))).toBe('false');
  });

  it('a body that does not evaluate is an error, never a pass (JS is fail-open); no error text is kept', () => {
    const r = run('int(value) > 0', { value: 'CANARY-7731' });
    expect(r).toEqual({ kind: 'error' });
    expect(JSON.stringify(r)).not.toContain('CANARY');
    expect(conditionHolds(r)).toBe('error');
  });

  it('only the boolean false fails a CONDITION: other values pass', () => {
    expect(conditionHolds(run('message.a > 0.0', { message: { a: -1 } }))).toBe('false');
    expect(conditionHolds(run('message.a > 0.0', { message: { a: 1 } }))).toBe('pass');
    expect(conditionHolds(run("'text'", {}))).toBe('pass');
    expect(conditionHolds(run('0', {}))).toBe('pass');
  });
});

describe('value model', () => {
  class AvscLike {
    name = 'n';
    amount = 5;
    big = 2n ** 60n;
    data = Buffer.from('ab');
    items = [{ x: 1 }];
  }
  it('records become maps (avsc instances too, which JS refuses), bigints ints, Buffers bytes', () => {
    const v = toCel(new AvscLike()) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v['data']).toBeInstanceOf(Uint8Array);
    expect(conditionHolds(run("message.name == 'n' && message.amount > 4.0 && message.big > 1 && message.data.size() == 2 && message.items[0].x == 1.0", { message: v }))).toBe('pass');
  });

  it('protobufjs Longs become int, or uint when unsigned', () => {
    const signed = toCel({ low: -1, high: -1, unsigned: false });
    expect(signed).toBe(-1n);
    expect(conditionHolds(run('message.u == 4294967295u', { message: toCel({ u: { low: -1, high: 0, unsigned: true } }) }))).toBe('pass');
  });

  it('protobufjs-like messages: prototype defaults are fields, $-reflection (cyclic) and methods are not', () => {
    const proto: Record<string, unknown> = { note: '', amount: 0, toJSON() { return {}; } };
    proto['$type'] = { self: proto };
    const message = Object.create(proto) as Record<string, unknown>;
    message['amount'] = 5;
    expect(toCel(message)).toEqual({ note: '', amount: 5 });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(() => toCel(cyclic)).not.toThrow();
  });

  it('maps stay maps; null stays null', () => {
    expect(conditionHolds(run("message.m['k'] == 'v' && message.n == null", { message: toCel({ m: new Map([['k', 'v']]), n: null }) }))).toBe('pass');
  });

  it('a result goes back into its leaf only when it fits the field', () => {
    expect(fromCelLeaf('x', 'a', 'string')).toBe('x');
    expect(fromCelLeaf(1, 'a', 'string')).toBe(DOES_NOT_FIT);
    expect(Buffer.isBuffer(fromCelLeaf(new Uint8Array([1]), Buffer.from('a'), 'bytes'))).toBe(true);
    expect(fromCelLeaf('x', Buffer.from('a'), 'bytes')).toBe(DOES_NOT_FIT);
    expect(fromCelLeaf(3n, 2, 'other')).toBe(3);
    expect(fromCelLeaf(3.5, 2n, 'other')).toBe(DOES_NOT_FIT);
    expect(fromCelLeaf(true, false, 'other')).toBe(true);
    expect(fromCelLeaf(null, 'a', 'string')).toBeNull();
    // A protobufjs Long leaf gets the same shape back, within its range.
    const long = { low: 5, high: 0, unsigned: false };
    expect(toCel(fromCelLeaf(-(2n ** 62n), long, 'other'))).toBe(-(2n ** 62n));
    expect(toCel(fromCelLeaf(7, long, 'other'))).toBe(7n);
    expect(fromCelLeaf(2n ** 63n, long, 'other')).toBe(DOES_NOT_FIT);
    expect(fromCelLeaf(-1n, { ...long, unsigned: true }, 'other')).toBe(DOES_NOT_FIT);
  });

  it('typeName of a leaf, null for non-primitives (an Avro enum symbol on an other leaf)', () => {
    expect(leafTypeName('a', 'string')).toBe('STRING');
    expect(leafTypeName(Buffer.from('a'), 'bytes')).toBe('BYTES');
    expect(leafTypeName(true, 'other')).toBe('BOOLEAN');
    expect(leafTypeName(1n, 'other')).toBe('LONG');
    expect(leafTypeName(2, 'other')).toBe('INT');
    expect(leafTypeName(2.5, 'other')).toBe('DOUBLE');
    expect(leafTypeName('SYMBOL', 'other')).toBeNull();
  });
});
