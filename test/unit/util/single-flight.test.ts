// The one single-flight of recrypt: keys/ (KEK and DEK loads) and registry/ (schema GETs).
import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../../src/util/single-flight.js';

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('SingleFlight', () => {
  it('shares one in-flight call per key and forgets it when done', async () => {
    const sf = new SingleFlight<string, number>();
    let calls = 0;
    const fn = async () => {
      calls++;
      await tick();
      return calls;
    };
    const pending = [sf.run('k', fn), sf.run('k', fn)];
    expect(sf.size).toBe(1);
    const [a, b] = await Promise.all(pending);
    expect([a, b]).toEqual([1, 1]);
    expect(sf.size).toBe(0);
    await expect(sf.run('k', fn)).resolves.toBe(2);
  });

  it('different keys never wait on each other', async () => {
    const sf = new SingleFlight<string, string>();
    let release: () => void = () => undefined;
    const slow = sf.run('slow', () => new Promise<string>((r) => (release = () => r('slow'))));
    await expect(sf.run('fast', async () => 'fast')).resolves.toBe('fast');
    expect(sf.size).toBe(1);
    release();
    await expect(slow).resolves.toBe('slow');
  });

  it('shares failures with the callers that were waiting, then allows a retry (failures are not cached)', async () => {
    const sf = new SingleFlight<string, number>();
    const failing = sf.run('k', async () => {
      await tick();
      throw new Error('boom');
    });
    const same = sf.run('k', async () => 1);
    await expect(failing).rejects.toThrow('boom');
    await expect(same).rejects.toThrow('boom');
    expect(sf.size).toBe(0);
    await expect(sf.run('k', async () => 2)).resolves.toBe(2);
  });

  it('propagates the error object itself (code and cause intact)', async () => {
    const sf = new SingleFlight<string, number>();
    const err = Object.assign(new Error('unavailable'), { code: 'KMS_UNAVAILABLE' });
    await expect(sf.run('k', () => Promise.reject(err))).rejects.toBe(err);
  });

  it('a work function that throws synchronously gives a rejected promise and leaves nothing behind', async () => {
    const sf = new SingleFlight<string, number>();
    const p = sf.run('k', () => {
      throw new Error('sync');
    });
    expect(sf.size).toBe(0);
    await expect(p).rejects.toThrow('sync');
    await expect(sf.run('k', async () => 3)).resolves.toBe(3);
  });

  it('keys may be any value, compared as Map keys', async () => {
    const sf = new SingleFlight<number, number>();
    let calls = 0;
    const work = async () => {
      const call = ++calls;
      await tick();
      return call;
    };
    await expect(Promise.all([sf.run(1, work), sf.run(1, work), sf.run(2, work)])).resolves.toEqual([1, 1, 2]);
  });
});
