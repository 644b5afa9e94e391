import { createHash } from 'node:crypto';
import type { Job } from '../jobs/index.js';
import { stableStringify } from '../registry/stable-json.js';

/**
 * Fingerprint of a job definition (after defaults), independent of key order in the YAML. Submit stores
 * it; a worker holding a different definition of the job leaves the backfill's tasks alone.
 */
export function jobDigest(job: Job): string {
  return createHash('sha256').update(stableStringify(job)).digest('hex');
}
