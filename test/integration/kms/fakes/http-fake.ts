// A tiny node:http server for KMS fakes: JSON in and out, a call log, and fault injection (the next N
// calls answer a given status) so tests can check retries and error mapping without timing tricks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  readonly rawBody: string;
}

export interface FakeResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export type FakeHandler = (req: FakeRequest) => FakeResponse;

export interface InjectedFault {
  readonly status: number;
  readonly body?: unknown;
  /** Only requests whose path matches are failed (default: all). */
  readonly match?: RegExp;
}

export class HttpFake {
  readonly calls: FakeRequest[] = [];
  readonly #server: Server;
  readonly #faults: InjectedFault[] = [];
  #port = 0;

  constructor(handler: FakeHandler) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.#dispatch(handler, req, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The next `times` matching requests answer `status` (and `body`) instead of being handled. */
  failNext(times: number, fault: InjectedFault): void {
    for (let i = 0; i < times; i++) this.#faults.push(fault);
  }

  /** Calls whose path matches. */
  callsTo(pattern: RegExp): FakeRequest[] {
    return this.calls.filter((c) => pattern.test(c.path));
  }

  reset(): void {
    this.calls.length = 0;
    this.#faults.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #dispatch(handler: FakeHandler, req: IncomingMessage, rawBody: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: unknown;
    try {
      body = rawBody === '' ? undefined : JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const request: FakeRequest = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers, body, rawBody };
    this.calls.push(request);
    const faultIndex = this.#faults.findIndex((f) => f.match === undefined || f.match.test(request.path));
    let answer: FakeResponse;
    if (faultIndex >= 0) {
      const fault = this.#faults.splice(faultIndex, 1)[0]!;
      answer = { status: fault.status, body: fault.body ?? {} };
    } else {
      try {
        answer = handler(request);
      } catch (err) {
        answer = { status: 500, body: { error: String(err) } };
      }
    }
    res.writeHead(answer.status, { 'Content-Type': 'application/json', ...(answer.headers ?? {}) });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
