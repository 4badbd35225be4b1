// One HTTP(S) request to a notification receiver, with a deadline and an
// abort signal. Its errors never carry the URL: a receiver's URL can hold a
// token (an ntfy topic is itself a password), so failures say only what went
// wrong (status, network error code, timeout), and the caller names the
// target by its configured name.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

export interface SendOptions {
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  /** Extra CA certificate(s) for a receiver with a private certificate. */
  ca?: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A failed delivery, described without the URL or any credential. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** Worth trying again (network trouble, 5xx, 429), or not (4xx: the receiver refuses this request). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

const MAX_RESPONSE_BYTES = 64 * 1024;

export function send(url: URL, o: SendOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new DeliveryError('cancelled: dcrvoted is stopping', false));
    const headers: Record<string, string | number> = { ...o.headers, 'user-agent': 'dcrvoted' };
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const fail = (err: DeliveryError) => {
      if (settled) return;
      settled = true;
      cleanup();
      req.destroy();
      reject(err);
    };
    // No SNI for an IP address (RFC 6066 allows host names only).
    const tls = url.protocol === 'https:' ? { ...(o.ca ? { ca: o.ca } : {}), ...(isIP(url.hostname.replace(/^\[|\]$/g, '')) ? { servername: '' } : {}) } : {};
    const req = make(url, { method: o.method, headers, ...tls }, (res: IncomingMessage) => {
      // The answer is read (bounded) and dropped: only its status matters.
      let seen = 0;
      res.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        if (settled) return;
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) {
          settled = true;
          cleanup();
          resolve();
        } else {
          fail(new DeliveryError(`receiver answered HTTP ${code}`, code >= 500 || code === 429 || code === 408));
        }
      });
    });
    const timer = setTimeout(() => fail(new DeliveryError(`no answer within ${o.timeoutMs} ms`, true)), o.timeoutMs);
    const onAbort = () => fail(new DeliveryError('cancelled: dcrvoted is stopping', false));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    function cleanup() {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
    req.on('error', (err: NodeJS.ErrnoException) => fail(new DeliveryError(networkReason(err), true)));
    req.end(o.body);
  });
}

/** The error's code and a generic phrase; Node's own messages can include the host and URL. */
function networkReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? 'unknown error';
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host name not resolved (${code})`;
  if (code === 'ECONNRESET') return 'connection reset (ECONNRESET)';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') return `TLS certificate not trusted (${code}): set the target's caCert`;
  return `request failed (${code})`;
}
