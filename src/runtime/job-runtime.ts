/**
 * One job's runtime: what `recrypt run`, `recrypt serve`, `recrypt plan` and the backfill worker all
 * build from the configuration and the job, once. It holds the configuration, logger, metrics, KMS
 * drivers and Kafka client factory, makes registry clients (read-only for `plan`) and resolves the
 * job's source topics; prepare.ts turns it into routes and start.ts into a running pipeline.
 */
import { sourceTopicsOf, type Job } from '../jobs/index.js';
import { kafkaClients, type KafkaClients } from '../kafka/client-factory.js';
import { listTopics } from '../kafka/topics.js';
import type { KmsDriverRegistry } from '../kms/kms-driver.js';
import { RecryptError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { RuntimeConfig } from './config.js';
import { kmsRegistryFor } from './kms.js';
import type { RuntimeMetrics } from './metrics.js';
import { readOnlyRegistryClients, registryClients, type RegistryClients } from './registry.js';

export interface RuntimeOptions {
  readonly logger: Logger;
  readonly metrics?: RuntimeMetrics;
  /** Registry clients that refuse every write (`recrypt plan`). */
  readonly readOnly?: boolean;
  /** Default: every kms/ driver with the configuration's timeout and secret, counted in `metrics`. */
  readonly kms?: KmsDriverRegistry;
  /** Where the pipeline's consumers and producers come from. Default: real clients on the configured brokers. */
  readonly clients?: KafkaClients;
}

export class JobRuntime {
  readonly job: Job;
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly metrics: RuntimeMetrics | undefined;
  readonly readOnly: boolean;
  #kms: KmsDriverRegistry | undefined;
  #clients: KafkaClients | undefined;

  constructor(config: RuntimeConfig, job: Job, options: RuntimeOptions) {
    this.config = config;
    this.job = job;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.readOnly = options.readOnly === true;
    this.#kms = options.kms;
    this.#clients = options.clients;
  }

  get name(): string {
    return this.job.metadata.name;
  }

  /** Built on first use: a dry run without a KMS check never needs it. */
  get kms(): KmsDriverRegistry {
    this.#kms ??= kmsRegistryFor(this.config, this.metrics);
    return this.#kms;
  }

  /** The Kafka client factory of the job's pipelines. */
  get clients(): KafkaClients {
    this.#clients ??= kafkaClients(this.config.kafka);
    return this.#clients;
  }

  /** New clients (with empty caches) for each preparation, so a restarted job reads the registry afresh. */
  registries(): RegistryClients {
    return this.readOnly ? readOnlyRegistryClients(this.config) : registryClients(this.config);
  }

  /** The job's source topics (a topic pattern is matched against the broker's topic list). */
  async sourceTopics(): Promise<string[]> {
    const existing = this.job.spec.source.topicPattern !== undefined ? await listTopics(this.config.kafka) : [];
    const topics = sourceTopicsOf(this.job, existing);
    // An empty job would read as "nothing to do" when the pattern is wrong.
    if (topics.length === 0) throw new RecryptError('JOB_INVALID', `job ${this.name}: no source topic matches`);
    return topics;
  }
}

export function createJobRuntime(config: RuntimeConfig, job: Job, options: RuntimeOptions): JobRuntime {
  return new JobRuntime(config, job, options);
}
