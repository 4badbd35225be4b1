// A local notification receiver on a real socket (HTTP, or HTTPS with the
// test PKI's server certificate) that records every request exactly as it
// arrived. It answers as told: 200, a failing status for the first N
// requests, or never (a hung receiver).

import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { Socket } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Behaviour = { kind: 'ok' } | { kind: 'fail'; status: number; times: number } | { kind: 'hang' };

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests answered 2xx. */
  readonly delivered: Received[];
  behave(b: Behaviour): void;
  close(): Promise<void>;
}

export async function startReceiver(opts: { tls?: { cert: Buffer; key: Buffer }; path?: string } = {}): Promise<Receiver> {
  let behaviour: Behaviour = { kind: 'ok' };
  let failed = 0;
  const received: Received[] = [];
  const delivered: Received[] = [];
  const sockets = new Set<Socket>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      if (behaviour.kind === 'hang') return;
      if (behaviour.kind === 'fail' && failed < behaviour.times) {
        failed++;
        res.writeHead(behaviour.status).end('nope');
        return;
      }
      delivered.push(r);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"ok"}');
    });
  };
  const server: Server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, handle) : createHttp(handle);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}${opts.path ?? '/hook'}`,
    received,
    delivered,
    behave(b) {
      behaviour = b;
      failed = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
