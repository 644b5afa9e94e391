/**
 * Whether the brokers answer: a lost connection is reported once when it starts (suspected from a
 * client error event or an unavailable commit, confirmed by a metadata probe) and once when it ends
 * (a probe answers, or a transaction commits).
 */
import { classifyKafkaError } from './kafka-errors.js';
import type { PipelineObserver } from './pipeline-types.js';

export class ConnectionWatch {
  /** When an outage was suspected and when a probe confirmed it. */
  private suspectSince?: number;
  private lostSince?: number;
  private lastProbeAt = 0;

  constructor(private readonly probe: () => Promise<void>, private readonly observer?: Pick<PipelineObserver, 'onConnectionLost' | 'onConnectionRestored'>) {}

  /** A broker outage is suspected: confirmed (reported once) or dismissed by the next probe. */
  suspect(): void {
    this.suspectSince ??= Date.now();
  }

  /** Probes the cluster while an outage is suspected or confirmed, at most every 2 s. */
  async check(): Promise<void> {
    if (this.suspectSince === undefined && this.lostSince === undefined) return;
    if (Date.now() - this.lastProbeAt < 2000) return;
    this.lastProbeAt = Date.now();
    try {
      await this.probe();
      this.back();
    } catch (err) {
      if (this.lostSince === undefined) {
        this.lostSince = this.suspectSince ?? Date.now();
        this.observer?.onConnectionLost?.(classifyKafkaError('reach the brokers', err));
      }
    }
  }

  /** The brokers answered. */
  back(): void {
    const since = this.lostSince;
    this.suspectSince = undefined;
    this.lostSince = undefined;
    if (since !== undefined) this.observer?.onConnectionRestored?.({ downMs: Date.now() - since });
  }
}
