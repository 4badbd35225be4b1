// The wallet's gRPC client and walletinfo probe as a config entry describes
// them; the daemon and the one-shot commands build them the same way.

import type { WalletConfig } from '../config/load.js';
import { WalletClient } from './grpc-client.js';
import { StatusProbe } from './status-probe.js';

export function walletClientFor(w: WalletConfig): WalletClient {
  return new WalletClient({
    name: w.name,
    address: w.grpc.address,
    caCert: w.caCert.bytes,
    clientCert: w.clientCert.bytes,
    clientKey: w.clientKey.reveal(),
    callTimeoutMs: w.callTimeoutMs,
    hints: {
      caCertPath: w.caCert.path,
      clientCertPath: w.clientCert.path,
      ...(w.passphrasePath ? { passphraseFile: w.passphrasePath } : {}),
    },
  });
}

export function statusProbeFor(w: WalletConfig): StatusProbe {
  return new StatusProbe({
    name: w.name,
    address: w.jsonrpc.endpoint.address,
    caCert: w.caCert.bytes,
    auth:
      w.jsonrpc.auth === 'basic' && w.jsonrpc.password
        ? { type: 'basic', user: w.jsonrpc.user, password: w.jsonrpc.password.reveal() }
        : { type: 'clientcert', cert: w.clientCert.bytes, key: w.clientKey.reveal() },
    timeoutMs: w.callTimeoutMs,
  });
}
