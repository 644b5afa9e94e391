import { describe, expect, it } from 'vitest';
import { restartBackoff } from '../../../src/service/service.js';

describe('a serve job\'s restart back-off', () => {
  it('doubles from 2 s to 60 s while the job keeps failing before it runs, or soon after', () => {
    let failures = 0;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = restartBackoff(failures, i % 2 === 0 ? undefined : 5_000);
      failures = next.failures;
      delays.push(next.delayMs);
    }
    expect(delays).toEqual([2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('starts again from 2 s after a run that lasted (the back-off no longer grows over a process lifetime)', () => {
    expect(restartBackoff(7, 60_000)).toEqual({ failures: 1, delayMs: 2000 });
    expect(restartBackoff(7, 59_999)).toEqual({ failures: 8, delayMs: 60000 });
  });
});
