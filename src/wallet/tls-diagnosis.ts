// One plain TLS handshake against a wallet, to tell "wallet down" from
// "wallet refuses our certificate" from "we do not trust the wallet's
// certificate". grpc-js reports all three as UNAVAILABLE with racy, loosely
// worded details (a client certificate the wallet refuses shows up either as
// a TLS alert or as a bare "Failed to connect", depending on timing and on the
// server's TLS stack), so the wallet client runs this on UNAVAILABLE with the
// same credentials. The status probe shares the list of untrusted-certificate
// codes.
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { oneLine, splitHostPort } from './wire.js';
import { errorMessage } from '../errors.js';

// ---------------------------------------------------------------------------
// TLS diagnosis.

type TlsVerdict =
  | { verdict: 'ok'; alpn: string | false | null }
  | { verdict: 'rejected'; detail: string }
  | { verdict: 'untrusted'; detail: string }
  | { verdict: 'unreachable'; detail: string };

// Node's codes for a server certificate we cannot verify.
export const UNTRUSTED_TLS_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * One TLS handshake with the client's own credentials, then an HTTP/2
 * preface. A gRPC server that accepted us answers with a SETTINGS frame; one
 * that refused our certificate sends an alert (Go, OpenSSL in TLS 1.2) or just
 * hangs up right after the TLS 1.3 handshake (Node's TLS server). Both are
 * "rejected". Errors verifying the server's chain are "untrusted".
 */
export function diagnoseTls(opts: {
  address: string;
  caCert: Buffer;
  clientCert?: Buffer;
  clientKey?: Buffer;
  serverName?: string;
  timeoutMs: number;
}): Promise<TlsVerdict> {
  return new Promise((resolve) => {
    let settled = false;
    let handshakeDone = false;
    let socket: tls.TLSSocket | undefined;
    const finish = (v: TlsVerdict): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(v);
    };
    const timer = setTimeout(
      () => finish({ verdict: 'unreachable', detail: `no TLS answer within ${opts.timeoutMs} ms` }),
      opts.timeoutMs,
    );
    let host: string;
    let port: number;
    try {
      ({ host, port } = splitHostPort(opts.address));
    } catch (err) {
      finish({ verdict: 'unreachable', detail: errorMessage(err) });
      return;
    }
    const serverName = opts.serverName ?? (isIP(host) ? undefined : host);
    socket = tls.connect({
      host,
      port,
      ca: opts.caCert,
      cert: opts.clientCert,
      key: opts.clientKey,
      ALPNProtocols: ['h2'],
      ...(serverName !== undefined ? { servername: serverName } : {}),
    });
    socket.on('secureConnect', () => {
      handshakeDone = true;
      if (socket?.alpnProtocol !== 'h2') {
        finish({ verdict: 'ok', alpn: socket?.alpnProtocol ?? null });
        return;
      }
      // HTTP/2 client preface + empty SETTINGS frame.
      socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
      socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    });
    socket.on('data', () => finish({ verdict: 'ok', alpn: 'h2' }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (UNTRUSTED_TLS_CODES.has(code)) {
        finish({ verdict: 'untrusted', detail: oneLine(err.message) });
      } else if (/ALERT/.test(code) || /alert/i.test(err.message)) {
        finish({ verdict: 'rejected', detail: alertText(err.message) });
      } else if (handshakeDone) {
        finish({ verdict: 'rejected', detail: `the wallet reset the connection right after the TLS handshake, ${code || oneLine(err.message)}` });
      } else {
        finish({ verdict: 'unreachable', detail: code ? `${code} ${oneLine(err.message)}` : oneLine(err.message) });
      }
    });
    socket.on('close', () => {
      finish(
        handshakeDone
          ? { verdict: 'rejected', detail: 'the wallet closed the connection right after the TLS handshake' }
          : { verdict: 'unreachable', detail: 'connection closed during the TLS handshake' },
      );
    });
  });
}

/** "…:tlsv13 alert certificate required:…" → "tlsv13 alert certificate required". */
function alertText(message: string): string {
  const m = /(tlsv1\d? alert [a-z ]+|sslv3 alert [a-z ]+)/i.exec(message);
  return m?.[1] ?? oneLine(message);
}
