/**
 * The Kubernetes surface: /healthz (the process is alive), /readyz (every job runs with no halted
 * partition), /metrics (Prometheus text format).
 */
import { createServer, type Server } from 'node:http';
import type { JobMetrics } from './metrics.js';

export interface Readiness {
  /** Reasons the service is not ready; empty when ready. Names jobs and partitions, never values. */
  notReadyReasons(): string[];
}

export function startHttpServer(port: number, metrics: JobMetrics, readiness: Readiness, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const reasons = readiness.notReadyReasons();
      res.writeHead(reasons.length ? 503 : 200, { 'content-type': 'text/plain' }).end(reasons.length ? reasons.join('\n') + '\n' : 'ready\n');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
