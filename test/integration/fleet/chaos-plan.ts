// The chaos schedule: which faults, in which order, how far apart and against which instance, all
// from one seeded RNG, so a failing seed replays the same schedule (RECRYPT_CHAOS_SEED).

export type ChaosKind = 'kill' | 'terminate' | 'scale-out-in' | 'broker-restart' | 'kms-freeze' | 'registry-restart';

export interface ChaosStep {
  readonly kind: ChaosKind;
  /** Wait before the step, after the previous one finished. */
  readonly delayMs: number;
  /** Which of the fleet's instances (an index into its names) the step hits, where it hits one. */
  readonly target: number;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every fault once, shuffled, each after a random 2-6 s of steady running. */
export function chaosPlan(seed: number, fleetSize: number): ChaosStep[] {
  const random = seededRandom(seed);
  const kinds: ChaosKind[] = ['kill', 'terminate', 'scale-out-in', 'broker-restart', 'kms-freeze', 'registry-restart'];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds.map((kind) => ({ kind, delayMs: 2000 + Math.floor(random() * 4000), target: Math.floor(random() * fleetSize) }));
}
