import { describe, expect, it } from 'vitest';
import { JobMetrics } from '../../../src/service/metrics.js';

async function lagSeries(metrics: JobMetrics): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text.split('\n').filter((line) => line.startsWith('recrypt_consumer_lag{')).sort();
}

describe('consumer lag series', () => {
  it('publishes each owned partition and removes the series of a partition revoked from this pod', async () => {
    const metrics = new JobMetrics();
    metrics.publishLag('orders', [{ topic: 't', partition: 0, lag: 5 }, { topic: 't', partition: 1, lag: 7 }]);
    expect(await lagSeries(metrics)).toEqual([
      'recrypt_consumer_lag{job="orders",topic="t",partition="0"} 5',
      'recrypt_consumer_lag{job="orders",topic="t",partition="1"} 7',
    ]);
    // A rebalance moved partition 1 away: its last value must not stay behind.
    metrics.publishLag('orders', [{ topic: 't', partition: 0, lag: 2 }]);
    expect(await lagSeries(metrics)).toEqual(['recrypt_consumer_lag{job="orders",topic="t",partition="0"} 2']);
  });

  it('keeps other jobs\' series and clears a stopped job', async () => {
    const metrics = new JobMetrics();
    metrics.publishLag('a', [{ topic: 't', partition: 0, lag: 1 }]);
    metrics.publishLag('b', [{ topic: 'u', partition: 3, lag: 4 }]);
    metrics.publishLag('a', []);
    expect(await lagSeries(metrics)).toEqual(['recrypt_consumer_lag{job="b",topic="u",partition="3"} 4']);
  });
});
