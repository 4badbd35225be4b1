// A server-streaming wallet call (GetTickets, TransactionNotifications) as an
// event emitter: each message already converted, one 'end' whatever happens,
// errors translated like unary ones. Like RpcSync it has no deadline; it is
// ended with cancel() (and by WalletClient.close()).
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { WalletRpcError } from './rpc-errors.js';

type Events<T> = { data: [msg: T]; error: [err: WalletRpcError]; end: [] };

/**
 * Events:
 * - 'data'  every message, converted (a message that does not convert ends the stream with 'error')
 * - 'error' the stream failed (not after cancel(); only emitted to listeners)
 * - 'end'   once, after 'error' if any
 */
export class WalletStream<T> extends EventEmitter<Events<T>> {
  lastError: WalletRpcError | null = null;
  #cancelled = false;
  #ended = false;
  readonly #call: grpc.ClientReadableStream<object>;

  constructor(
    call: grpc.ClientReadableStream<object>,
    convert: (raw: object) => T,
    translate: (err: Error) => Promise<WalletRpcError>,
  ) {
    super();
    this.#call = call;
    call.on('data', (raw: object) => {
      if (this.#ended) return;
      let msg: T;
      try {
        msg = convert(raw);
      } catch (err) {
        this.#fail(err instanceof Error ? err : new Error(String(err)), translate);
        call.cancel();
        return;
      }
      this.emit('data', msg);
    });
    call.on('error', () => {});
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK || (this.#cancelled && s.code === grpc.status.CANCELLED)) {
        this.#finish();
        return;
      }
      this.#fail(Object.assign(new Error(s.details), s), translate);
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Ended by cancel() (or the client's close()), not by the wallet. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  cancel(): void {
    if (this.#ended) return;
    this.#cancelled = true;
    this.#call.cancel();
  }

  #fail(err: Error, translate: (err: Error) => Promise<WalletRpcError>): void {
    if (this.#ended || this.#failing) return;
    this.#failing = true;
    translate(err).then(
      (e) => {
        this.lastError = e;
        if (this.listenerCount('error') > 0) this.emit('error', e);
        this.#finish();
      },
      () => this.#finish(),
    );
  }

  #failing = false;

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit('end');
  }
}
