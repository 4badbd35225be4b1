// DcrdClient: one long-lived websocket JSON-RPC connection to dcrd.
//
// Facts this relies on (dcrd internal/rpcserver):
// - endpoint wss://host:port/ws; HTTP basic auth is checked before the
//   upgrade and a bad one is answered with "401 Unauthorized." (rpcserver.go
//   route, jsonAuthFail);
// - dcrd answers websocket pings with pongs (rpcserver.go SetPingHandler);
// - notifyblocks / notifywinningtickets register the *connection*; a new
//   connection starts with no subscriptions (rpcwebsocket.go
//   notificationRegister*/notificationUnregisterClient), so they are re-issued
//   after every reconnect.
//
// The client keeps itself connected until close(): failed attempts back off
// exponentially with jitter up to a cap; a 401 backs off on its own slower
// schedule because retrying quickly cannot help until the operator fixes the
// config.

import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { DcrdRpcError, classifyFrame, peerText } from './jsonrpc.js';
import { parseNotification, type DcrdNotification } from './notifications.js';
import { errorMessage } from '../errors.js';

export type ConnectErrorKind = 'auth' | 'tls' | 'network' | 'protocol';

/** A failed connection attempt, with an operator-facing message. */
export class DcrdConnectError extends Error {
  override readonly name = 'DcrdConnectError';
  constructor(
    readonly kind: ConnectErrorKind,
    message: string,
    /** Config key the operator should look at, when one is to blame. */
    readonly configKey?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class DcrdNotConnectedError extends Error {
  override readonly name = 'DcrdNotConnectedError';
  constructor(method: string) {
    super(`dcrd is not connected; ${method} not sent`);
  }
}

export class DcrdDisconnectedError extends Error {
  override readonly name = 'DcrdDisconnectedError';
  constructor(method: string, reason: string) {
    super(`dcrd connection lost before ${method} was answered: ${reason}`);
  }
}

export class DcrdTimeoutError extends Error {
  override readonly name = 'DcrdTimeoutError';
  constructor(method: string, timeoutMs: number) {
    super(`dcrd did not answer ${method} within ${timeoutMs} ms`);
  }
}

/** Minimal structural logger; a pino Logger fits. */
export interface DcrdClientLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

export interface DcrdClientOptions {
  host: string;
  port: number;
  user: string;
  /** Raw password bytes (read from dcrd.passwordFile); never logged. */
  password: Buffer;
  /** PEM of dcrd's rpc.cert (config key dcrd.caCert). */
  caCert: string | Buffer;
  /** TLS server name to verify, when it differs from host. */
  serverName?: string;
  logger?: DcrdClientLogger;
  /** Default per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
  /** TLS + HTTP upgrade must finish within this. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** A ping every interval; a missing pong by the next tick drops the link. Default 10 s (dead peer noticed within 20 s). */
  pingIntervalMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Delay between attempts while dcrd rejects the credentials. Default 60 s. */
  authRetryMs?: number;
  /** Re-issued after every (re)connect, before 'connected'. */
  subscriptions?: readonly string[];
  /**
   * Largest websocket frame accepted from dcrd. A bigger one is refused
   * (counted as malformed), and the connection is dropped and made again.
   * Default DEFAULT_MAX_MESSAGE_BYTES.
   */
  maxMessageBytes?: number;
}

/**
 * 32 MiB. Notifications are small (a blockconnected is a 180-byte header
 * and, with no tx filter loaded, no transactions), but replies share the
 * socket and `getblock <hash> true true` on a full block (1.25 MiB with the
 * maxblocksize agenda) is several MiB of verbose JSON: keep ample room.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/**
 * Notifications held back while subscribing are capped: dcrd has no reason
 * to send many before 'connected', and the catch-up that follows every
 * connect covers whatever was dropped.
 */
export const MAX_HELD_NOTIFICATIONS = 256;

/** Methods whose malformed frames are counted under their own name; any other is 'other'. */
const COUNTED_METHODS = new Set(['winningtickets', 'blockconnected', 'blockdisconnected']);

export interface ConnectedInfo {
  /** True for the first successful connection of this client. */
  first: boolean;
  reconnects: number;
}

export interface DisconnectedInfo {
  reason: string;
}

export interface ConnectFailedInfo {
  error: DcrdConnectError;
  attempt: number;
  retryInMs: number;
}

export interface MalformedInfo {
  raw: string;
  reason: string;
  /** One of the notifications we parse, or 'other': never the peer's own text (it is a metric label). */
  method?: string;
}

/** Counters of what this client refused or dropped. */
export interface DcrdClientStats {
  /** Frames that could not be understood (also emitted as 'malformed'). */
  malformed: number;
  /** Frames over maxMessageBytes (each dropped the connection). */
  oversized: number;
  /** Notifications dropped because too many arrived before subscribing finished. */
  heldDropped: number;
}

export interface DcrdClientEvents {
  connected: [ConnectedInfo];
  disconnected: [DisconnectedInfo];
  connectFailed: [ConnectFailedInfo];
  notification: [DcrdNotification];
  malformed: [MalformedInfo];
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);
const RAW_SNIPPET = 512;

export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** Math.max(0, attempt));
  const spread = 1 - o.jitter + random() * 2 * o.jitter;
  return Math.max(0, Math.round(Math.min(o.maxMs, base * spread)));
}

function formatDelay(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 1_000)} s`;
}

export class DcrdClient {
  readonly #emitter = new EventEmitter();
  readonly #opts: Required<Omit<DcrdClientOptions, 'logger' | 'serverName' | 'backoff'>> & {
    backoff: BackoffOptions;
    serverName: string | undefined;
  };
  readonly #log: DcrdClientLogger | undefined;
  readonly #authHeader: string;
  #ws: WebSocket | null = null;
  #connected = false;
  #everConnected = false;
  #reconnectCount = 0;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closing = false;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #lastErr: DcrdConnectError | null = null;
  readonly #stats: DcrdClientStats = { malformed: 0, oversized: 0, heldDropped: 0 };

  constructor(options: DcrdClientOptions) {
    this.#opts = {
      host: options.host,
      port: options.port,
      user: options.user,
      password: options.password,
      caCert: options.caCert,
      serverName: options.serverName,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 10_000,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      authRetryMs: options.authRetryMs ?? 60_000,
      subscriptions: options.subscriptions ?? ['notifywinningtickets', 'notifyblocks'],
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    };
    this.#log = options.logger;
    // Built once; the password bytes never reach a log line or an error.
    this.#authHeader =
      'Basic ' + Buffer.concat([Buffer.from(`${options.user}:`, 'utf8'), options.password]).toString('base64');
  }

  get url(): string {
    return `wss://${this.#opts.host.includes(':') ? `[${this.#opts.host}]` : this.#opts.host}:${this.#opts.port}/ws`;
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  /** Successful reconnections after the first connection. */
  get reconnects(): number {
    return this.#reconnectCount;
  }

  /** What this client refused or dropped so far. */
  stats(): DcrdClientStats {
    return { ...this.#stats };
  }

  /** The error of the latest failed attempt, cleared on success. */
  get lastError(): DcrdConnectError | null {
    return this.#lastErr;
  }

  on<K extends keyof DcrdClientEvents>(event: K, listener: (...args: DcrdClientEvents[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof DcrdClientEvents>(event: K, listener: (...args: DcrdClientEvents[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof DcrdClientEvents>(event: K, listener: (...args: DcrdClientEvents[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Start connecting in the background. Idempotent. */
  start(): void {
    if (this.#loop || this.#closing) return;
    this.#loop = this.#run().catch((err: unknown) => {
      // run() handles its own errors; reaching here is a bug worth seeing.
      this.#log?.error({ err }, 'dcrd connection loop crashed');
    });
  }

  /** Stop for good: cancels backoff, closes the socket, rejects pending calls. */
  async close(): Promise<void> {
    if (this.#closing) {
      await this.#loop;
      return;
    }
    this.#closing = true;
    this.#stop.abort();
    this.#ws?.terminate();
    await this.#loop;
    this.#failPending('client closed');
  }

  request<T = unknown>(method: string, params: readonly unknown[] = [], opts: { timeoutMs?: number } = {}): Promise<T> {
    const ws = this.#ws;
    if (!this.#connected || !ws) return Promise.reject(new DcrdNotConnectedError(method));
    return this.#send<T>(ws, method, params, opts.timeoutMs ?? this.#opts.requestTimeoutMs);
  }

  #emit<K extends keyof DcrdClientEvents>(event: K, ...args: DcrdClientEvents[K]): void {
    // A throwing listener must not break the connection machinery.
    for (const listener of this.#emitter.listeners(event)) {
      try {
        (listener as (...a: DcrdClientEvents[K]) => void)(...args);
      } catch (err) {
        this.#log?.error({ err, event }, 'dcrd client listener threw');
      }
    }
  }

  #send<T>(ws: WebSocket, method: string, params: readonly unknown[], timeoutMs: number): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new DcrdTimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ jsonrpc: '1.0', id, method, params }), (err) => {
        if (!err) return;
        const p = this.#pending.get(id);
        if (!p) return;
        clearTimeout(p.timer);
        this.#pending.delete(id);
        p.reject(new DcrdDisconnectedError(method, err.message));
      });
    });
  }

  #failPending(reason: string): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(new DcrdDisconnectedError(p.method, reason));
    }
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#closing) {
      let delay: number;
      try {
        const ws = await this.#open();
        const closed = this.#watch(ws);
        await this.#subscribe(ws);
        attempt = 0;
        const reason = await closed;
        if (this.#closing) break;
        // The link was healthy: come back quickly, the backoff grows only
        // while attempts keep failing.
        delay = backoffDelay(0, this.#opts.backoff);
        this.#log?.warn({ url: this.url, reason, retryInMs: delay }, 'dcrd connection lost');
      } catch (err) {
        if (this.#closing) break;
        const error = err instanceof DcrdConnectError ? err : new DcrdConnectError('protocol', String(err));
        this.#lastErr = error;
        delay = error.kind === 'auth' ? this.#opts.authRetryMs : backoffDelay(attempt, this.#opts.backoff);
        attempt++;
        // Repeated "dcrd is down" lines are noise; config problems stay loud.
        const level = error.kind === 'network' && attempt > 1 ? 'info' : 'warn';
        this.#log?.[level]({ url: this.url, attempt, retryInMs: delay, configKey: error.configKey, kind: error.kind }, error.message);
        this.#emit('connectFailed', { error, attempt, retryInMs: delay });
      }
      await this.#sleep(delay);
    }
  }

  /** Resolves after ms, or early when close() is called. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stop.signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.#stop.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#stop.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One connection attempt: TLS + basic auth + websocket upgrade. */
  #open(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      // ws forwards TLS options (ca, servername) to tls.connect.
      const options: WebSocket.ClientOptions & { servername?: string } = {
        ca: this.#opts.caCert,
        headers: { Authorization: this.#authHeader },
        handshakeTimeout: this.#opts.handshakeTimeoutMs,
        perMessageDeflate: false,
        followRedirects: false,
        // ws refuses a longer frame with close code 1009 and an error
        // (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH) before buffering it whole.
        maxPayload: this.#opts.maxMessageBytes,
        ...(this.#opts.serverName ? { servername: this.#opts.serverName } : {}),
      };
      const ws = new WebSocket(this.url, options);
      this.#ws = ws;
      let httpStatus: number | null = null;
      const fail = (err: DcrdConnectError) => {
        cleanup();
        ws.terminate();
        if (this.#ws === ws) this.#ws = null;
        reject(err);
      };
      const onAbort = () => fail(new DcrdConnectError('network', 'connection attempt cancelled by close()'));
      const onUnexpected = (_req: unknown, res: { statusCode?: number; resume(): void }) => {
        httpStatus = res.statusCode ?? null;
        res.resume();
        fail(this.#httpError(httpStatus));
      };
      const onError = (err: Error) => fail(this.#classify(err));
      const onOpen = () => {
        cleanup();
        resolve(ws);
      };
      const cleanup = () => {
        ws.off('open', onOpen);
        ws.off('error', onError);
        ws.off('unexpected-response', onUnexpected);
        this.#stop.signal.removeEventListener('abort', onAbort);
        // Late errors from a socket we gave up on must not crash the process.
        ws.on('error', () => undefined);
      };
      ws.on('open', onOpen);
      ws.on('error', onError);
      ws.on('unexpected-response', onUnexpected);
      if (this.#stop.signal.aborted) onAbort();
      else this.#stop.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #httpError(status: number | null): DcrdConnectError {
    if (status === 401 || status === 403) {
      return new DcrdConnectError(
        'auth',
        `dcrd at ${this.url} rejected the RPC credentials (HTTP ${status}): make dcrd.user and the contents of ` +
          `dcrd.passwordFile match dcrd's rpcuser/rpcpass; retrying every ${formatDelay(this.#opts.authRetryMs)}`,
        'dcrd.user',
      );
    }
    return new DcrdConnectError(
      'protocol',
      `dcrd at ${this.url} answered the websocket upgrade with HTTP ${status ?? 'unknown'}; is dcrd.host/dcrd.port a dcrd RPC listener?`,
      'dcrd.port',
    );
  }

  #classify(err: Error): DcrdConnectError {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (TLS_TRUST_CODES.has(code)) {
      return new DcrdConnectError(
        'tls',
        `TLS verification of dcrd at ${this.url} failed (${code}): the certificate in dcrd.caCert does not ` +
          `match dcrd's rpc.cert; copy dcrd's current rpc.cert to dcrd.caCert`,
        'dcrd.caCert',
        { cause: err },
      );
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new DcrdConnectError(
        'tls',
        `dcrd's certificate is not valid for "${this.#opts.serverName ?? this.#opts.host}" (${err.message}); set dcrd.host ` +
          `to a name in the certificate or regenerate rpc.cert with --altdnsnames`,
        'dcrd.host',
        { cause: err },
      );
    }
    if (/^(?:ERR_SSL|ERR_TLS|EPROTO)/.test(code)) {
      return new DcrdConnectError(
        'tls',
        `TLS handshake with dcrd at ${this.url} failed (${code}: ${err.message}); is dcrd.port dcrd's TLS RPC port and dcrd.caCert its rpc.cert?`,
        'dcrd.caCert',
        { cause: err },
      );
    }
    return new DcrdConnectError(
      'network',
      `cannot reach dcrd at ${this.url}: ${code ? `${code} ` : ''}${err.message}`,
      'dcrd.host',
      { cause: err },
    );
  }

  /**
   * Wire an open socket's message/close/keepalive handling. Resolves with the
   * close reason. Notifications that arrive before subscribe() finished are
   * held back and delivered right after 'connected', so listeners always see
   * 'connected' first and no winning-ticket event is dropped in between.
   */
  #watch(ws: WebSocket): Promise<string> {
    let held: DcrdNotification[] | null = [];
    const deliver = (n: DcrdNotification) => {
      if (!held) this.#emit('notification', n);
      else if (held.length < MAX_HELD_NOTIFICATIONS) held.push(n);
      else this.#stats.heldDropped++;
    };
    this.#releaseHeld = () => {
      const queue = held ?? [];
      held = null;
      for (const n of queue) this.#emit('notification', n);
    };

    let awaitingPong = false;
    let dropReason: string | null = null;
    const ping = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (awaitingPong) {
        dropReason = `no pong within ${this.#opts.pingIntervalMs} ms (dcrd or the network is unresponsive)`;
        ws.terminate();
        return;
      }
      awaitingPong = true;
      ws.ping();
    }, this.#opts.pingIntervalMs);
    ping.unref();
    ws.on('pong', () => {
      awaitingPong = false;
    });

    ws.on('message', (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      this.#onMessage(text, deliver);
    });

    return new Promise((resolve) => {
      ws.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
          const reason = `frame larger than ${this.#opts.maxMessageBytes} bytes refused; reconnecting`;
          dropReason ??= reason;
          this.#stats.oversized++;
          this.#malformed({ raw: '', reason });
          return;
        }
        dropReason ??= err.message;
      });
      ws.on('close', (code, reasonBuf) => {
        clearInterval(ping);
        const reason =
          dropReason ?? (this.#closing ? 'client closed' : `socket closed (code ${code}${reasonBuf.length ? `: ${reasonBuf.toString()}` : ''})`);
        if (this.#ws === ws) this.#ws = null;
        const wasConnected = this.#connected;
        this.#connected = false;
        this.#failPending(reason);
        if (wasConnected) this.#emit('disconnected', { reason });
        resolve(reason);
      });
    });
  }

  #releaseHeld: () => void = () => undefined;

  async #subscribe(ws: WebSocket): Promise<void> {
    try {
      for (const method of this.#opts.subscriptions) {
        await this.#send(ws, method, [], this.#opts.requestTimeoutMs);
      }
    } catch (err) {
      ws.terminate();
      if (err instanceof DcrdRpcError) {
        throw new DcrdConnectError('protocol', `dcrd refused subscription: ${err.message}`, undefined, { cause: err });
      }
      throw new DcrdConnectError('network', `subscribing to dcrd notifications failed: ${errorMessage(err)}`, undefined, {
        cause: err,
      });
    }
    if (ws.readyState !== WebSocket.OPEN) throw new DcrdConnectError('network', 'dcrd closed the connection while subscribing');
    this.#connected = true;
    this.#lastErr = null;
    const first = !this.#everConnected;
    if (!first) this.#reconnectCount++;
    this.#everConnected = true;
    this.#log?.info({ url: this.url, reconnects: this.#reconnectCount }, first ? 'connected to dcrd' : 'reconnected to dcrd');
    this.#emit('connected', { first, reconnects: this.#reconnectCount });
    this.#releaseHeld();
  }

  #onMessage(text: string, deliver: (n: DcrdNotification) => void): void {
    const raw = text.length > RAW_SNIPPET ? `${text.slice(0, RAW_SNIPPET)}…` : text;
    try {
      this.#handleFrame(text, raw, deliver);
    } catch (err) {
      // Parsing never throws by design; should a hostile frame find a way,
      // it is one more malformed frame, not the end of the connection.
      this.#malformed({ raw, reason: `frame could not be handled: ${peerText(String((err as Error)?.message))}` });
    }
  }

  #malformed(info: { raw: string; reason: string; method?: string }): void {
    this.#stats.malformed++;
    const { method } = info;
    const counted = method === undefined || COUNTED_METHODS.has(method);
    this.#emit('malformed', {
      raw: info.raw,
      reason: counted ? info.reason : `${peerText(method)}: ${info.reason}`,
      ...(method !== undefined ? { method: counted ? method : 'other' } : {}),
    });
  }

  #handleFrame(text: string, raw: string, deliver: (n: DcrdNotification) => void): void {
    const frame = classifyFrame(text);
    if (frame.type === 'malformed') {
      this.#malformed({ raw, reason: frame.reason, ...(frame.method !== undefined ? { method: frame.method } : {}) });
      return;
    }
    if (frame.type === 'response') {
      const p = this.#pending.get(frame.id);
      if (!p) {
        // A reply after its timeout fired: harmless, but worth a debug line.
        this.#log?.debug({ id: frame.id }, 'dcrd reply for an unknown or timed-out request');
        return;
      }
      clearTimeout(p.timer);
      this.#pending.delete(frame.id);
      if (frame.error) p.reject(new DcrdRpcError(p.method, frame.error.code, frame.error.message));
      else p.resolve(frame.result);
      return;
    }
    const parsed = parseNotification(frame.method, frame.params);
    if (parsed.kind === 'malformed') {
      this.#malformed({ raw, reason: parsed.reason, method: parsed.method });
    } else if (parsed.kind === 'unhandled') {
      this.#log?.debug({ method: peerText(parsed.method) }, 'ignoring dcrd notification we did not subscribe to');
    } else {
      deliver(parsed);
    }
  }
}
