/**
 * What keys/ reports, and how: a counter callback per KMS attempt and registry call, and a warn-only
 * logger. Both carry KEK names, subjects, versions and error codes, never key material.
 */

export type KeysMetric =
  | 'kms_wrap'
  | 'kms_unwrap'
  | 'registry_get_kek'
  | 'registry_create_kek'
  | 'registry_get_dek'
  | 'registry_create_dek';

export interface KeysMetricLabels {
  readonly outcome: 'ok' | 'error';
  /** Only for kms_* metrics. */
  readonly kmsType?: string;
}

/** Counter callback: called once per KMS operation attempt and per registry call. */
export type KeysMetricsHook = (metric: KeysMetric, labels: KeysMetricLabels) => void;

export type KeysLogFields = Readonly<Record<string, string | number | boolean>>;

export interface KeysLogger {
  warn(message: string, fields?: KeysLogFields): void;
}

export const NO_LOGGER: KeysLogger = { warn: () => undefined };
export const NO_METRICS: KeysMetricsHook = () => undefined;

/** Runs one registry call and counts it under `metric` by outcome. */
export type TrackedCall = <T>(metric: KeysMetric, call: () => Promise<T>) => Promise<T>;

export function trackedWith(count: KeysMetricsHook): TrackedCall {
  return async (metric, call) => {
    try {
      const out = await call();
      count(metric, { outcome: 'ok' });
      return out;
    } catch (err) {
      count(metric, { outcome: 'error' });
      throw err;
    }
  };
}
