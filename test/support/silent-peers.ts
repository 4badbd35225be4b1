// Peers that accept a connection and then never answer, as a frozen
// dcrwallet or dcrd does: a plain TCP listener that never writes, and a TLS
// listener that completes the handshake (offering h2 for gRPC) and never
// sends a byte of HTTP/2 or websocket after it.

import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface SilentPeer {
  port: number;
  address: string;
  /** Connections accepted so far (TLS: handshakes completed). */
  readonly accepted: number;
  close(): Promise<void>;
}

function wrap(server: Server, sockets: Set<Socket>, counter: { n: number }): Promise<SilentPeer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        port,
        address: `127.0.0.1:${port}`,
        get accepted() {
          return counter.n;
        },
        close: async () => {
          for (const s of sockets) s.destroy();
          await new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}

/** Accepts TCP connections and never writes to them. */
export function startSilentTcp(): Promise<SilentPeer> {
  const sockets = new Set<Socket>();
  const counter = { n: 0 };
  const server = createTcpServer((s) => {
    counter.n++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.resume(); // read and discard
  });
  return wrap(server, sockets, counter);
}

/** Completes TLS handshakes (client certificates optional) and never answers. */
export function startSilentTls(opts: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer }): Promise<SilentPeer> {
  const sockets = new Set<Socket>();
  const counter = { n: 0 };
  const server = createTlsServer(
    {
      cert: opts.cert,
      key: opts.key,
      ALPNProtocols: ['h2', 'http/1.1'],
      ...(opts.ca ? { ca: opts.ca, requestCert: true, rejectUnauthorized: true } : {}),
    },
    (s) => {
      counter.n++;
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
      s.resume();
    },
  );
  server.on('tlsClientError', () => undefined);
  return wrap(server, sockets, counter);
}
