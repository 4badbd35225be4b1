// One short conversation with the primary dcrd, for commands that run once
// (`dcrvoted agendas`, `dcrvoted plan`): connect, ask, close. The first failed connection
// attempt ends it with that error instead of retrying forever.

import type { DaemonConfig } from '../config/load.js';
import { DcrdRpc } from './rpc.js';
import { DcrdClient } from './ws-client.js';

export async function withPrimaryDcrd<T>(config: DaemonConfig, fn: (rpc: DcrdRpc) => Promise<T>): Promise<T> {
  const n = config.dcrd.nodes[0];
  const client = new DcrdClient({
    host: n.endpoint.host,
    port: n.endpoint.port,
    user: n.user,
    password: n.password.reveal(),
    caCert: n.caCert.bytes,
    requestTimeoutMs: config.dcrd.callTimeoutMs,
    handshakeTimeoutMs: config.dcrd.callTimeoutMs,
    // It only asks: no block or winner notifications to listen to.
    subscriptions: [],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connected', () => resolve());
      client.once('connectFailed', ({ error }) => reject(error));
      client.start();
    });
    return await fn(new DcrdRpc((method, params, opts) => client.request(method, params, opts)));
  } finally {
    await client.close();
  }
}
