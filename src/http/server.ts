// The one HTTP listener: /metrics for Prometheus, /healthz for liveness,
// /readyz for "every wallet could vote right now", /status for humans and
// scripts. Nothing here writes; it only reports what the daemon knows.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  /** Per component (wallet name or "dcrd"): what stops it from voting. */
  reasons: Record<string, string[]>;
}

export interface StatusSource {
  readiness(): Readiness;
  status(): unknown;
  /** False once shutdown has begun or the main loop stalled. */
  alive(): boolean;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  registry: Registry;
  source: StatusSource;
}

export class HttpServer {
  readonly #o: HttpServerOptions;
  readonly #server: Server;

  constructor(opts: HttpServerOptions) {
    this.#o = opts;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      });
    });
    this.#server.keepAliveTimeout = 5_000;
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `http.listen ${this.#o.host}:${this.#o.port} is already in use (another dcrvoted?); choose another address`
              : `cannot listen on http.listen ${this.#o.host}:${this.#o.port}: ${err.message}`,
          ),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    return this.#server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, { error: 'method not allowed' });
    }
    const path = (req.url ?? '/').split('?')[0];
    const src = this.#o.source;
    switch (path) {
      case '/metrics': {
        const body = await this.#o.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.#o.registry.contentType });
        res.end(body);
        return;
      }
      case '/healthz':
        return src.alive() ? send(res, 200, { status: 'ok' }) : send(res, 503, { status: 'stalled or stopping' });
      case '/readyz': {
        const r = src.readiness();
        return send(res, r.ready ? 200 : 503, r);
      }
      case '/status':
        return send(res, 200, src.status());
      case '/':
        return send(res, 200, { endpoints: ['/metrics', '/healthz', '/readyz', '/status'] });
      default:
        return send(res, 404, { error: `no such endpoint ${path}` });
    }
  }
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}
