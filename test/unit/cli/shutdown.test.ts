// The shutdown helper of `run` and `serve`: the first signal asks to stop and starts the timeout;
// the timeout or a second signal exits at once with the forced exit code; dispose ends both.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { onShutdownSignals } from '../../../src/cli/shutdown.js';
import { createLogger } from '../../../src/util/logger.js';

afterEach(() => { vi.useRealTimers(); });

function setup(timeoutMs = 3000) {
  const lines: string[] = [];
  const exits: number[] = [];
  const stops: string[] = [];
  const handle = onShutdownSignals({
    timeoutMs, logger: createLogger({ write: (l) => lines.push(l) }), forcedExitCode: 5,
    onStop: (s) => stops.push(s), exit: (code) => { exits.push(code); },
  });
  return { lines, exits, stops, handle };
}

describe('onShutdownSignals', () => {
  it('stops on the first signal and exits with the forced code when the timeout passes', () => {
    vi.useFakeTimers();
    const { exits, stops, handle, lines } = setup(3000);
    try {
      process.emit('SIGTERM', 'SIGTERM');
      expect(stops).toEqual(['SIGTERM']);
      expect(handle.signal).toBe('SIGTERM');
      vi.advanceTimersByTime(2999);
      expect(exits).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(exits).toEqual([5]);
      expect(lines.some((l) => l.includes('shutdown timeout passed'))).toBe(true);
    } finally {
      handle.dispose();
    }
  });

  it('exits at once on a second signal', () => {
    const { exits, stops, handle } = setup(60_000);
    try {
      process.emit('SIGINT', 'SIGINT');
      process.emit('SIGTERM', 'SIGTERM');
      expect(stops).toEqual(['SIGINT']);
      expect(exits).toEqual([5]);
    } finally {
      handle.dispose();
    }
  });

  it('dispose clears the timeout and the handlers', () => {
    vi.useFakeTimers();
    const before = process.listenerCount('SIGTERM');
    const { exits, handle } = setup(1000);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    handle.dispose();
    vi.advanceTimersByTime(5000);
    expect(exits).toEqual([]);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
