/**
 * Reading the few figures the soak samples out of a Prometheus text exposition (recrypt's /metrics):
 * no client library, the text format is one sample per line.
 */

/** The sum of every sample of `name` (all label sets), or undefined when the metric is absent. */
export function metricSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    // `name{labels} value` or `name value`; a longer name with the same prefix is another metric.
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(rest.slice(rest.lastIndexOf('}') + 1).trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/** What one scrape of a recrypt process gives the soak (bytes, seconds, records). */
export interface ProcessFigures {
  readonly rssBytes?: number;
  readonly heapUsedBytes?: number;
  readonly eventLoopP99Seconds?: number;
  readonly consumerLag?: number;
}

/** recrypt registers Node's default metrics with the prefix recrypt_process_ (src/service/metrics.ts). */
export function processFigures(text: string): ProcessFigures {
  const figures: { -readonly [K in keyof ProcessFigures]: ProcessFigures[K] } = {};
  const rss = metricSum(text, 'recrypt_process_process_resident_memory_bytes');
  const heap = metricSum(text, 'recrypt_process_nodejs_heap_size_used_bytes');
  const loop = metricSum(text, 'recrypt_process_nodejs_eventloop_lag_p99_seconds');
  const lag = metricSum(text, 'recrypt_consumer_lag');
  if (rss !== undefined) figures.rssBytes = rss;
  if (heap !== undefined) figures.heapUsedBytes = heap;
  if (loop !== undefined) figures.eventLoopP99Seconds = loop;
  if (lag !== undefined) figures.consumerLag = lag;
  return figures;
}
