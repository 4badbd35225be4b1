// The wallet's RpcSync stream (WalletLoaderService.RpcSync) as an event
// emitter. Unlike every unary call it has no deadline: it lives as long as the
// wallet syncs and is ended with cancel().
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { WalletRpcError } from './rpc-errors.js';
import { WalletStream } from './wallet-stream.js';

export interface RpcSyncOptions {
  /** dcrd host:port as the wallet should dial it. */
  networkAddress: string;
  username: string;
  password: Buffer;
  /** dcrd's rpc.cert, PEM. */
  certificate: Buffer;
  discoverAccounts?: boolean;
  /** Required by the wallet when discoverAccounts is true. */
  privatePassphrase?: Buffer;
}

export type SyncNotificationType =
  | 'SYNCED'
  | 'UNSYNCED'
  | 'PEER_CONNECTED'
  | 'PEER_DISCONNECTED'
  | 'FETCHED_MISSING_CFILTERS_STARTED'
  | 'FETCHED_MISSING_CFILTERS_PROGRESS'
  | 'FETCHED_MISSING_CFILTERS_FINISHED'
  | 'FETCHED_HEADERS_STARTED'
  | 'FETCHED_HEADERS_PROGRESS'
  | 'FETCHED_HEADERS_FINISHED'
  | 'DISCOVER_ADDRESSES_STARTED'
  | 'DISCOVER_ADDRESSES_FINISHED'
  | 'RESCAN_STARTED'
  | 'RESCAN_PROGRESS'
  | 'RESCAN_FINISHED';

// The stream's message as proto-loader decodes it (see proto.ts).
interface RawRpcSyncResponse {
  synced: boolean;
  notification_type: SyncNotificationType;
}

// ---------------------------------------------------------------------------
// RpcSync stream handle: a WalletStream (one 'end', translated errors) that
// also keeps the sync state the wallet reports.

/**
 * Events:
 * - 'synced'   the wallet reports it is synced with dcrd
 * - 'unsynced' the wallet reports it lost sync
 * - 'notification' (type: SyncNotificationType) every message
 * - 'error'    (err: WalletRpcError) the stream failed (not emitted after cancel(),
 *              and only when someone listens: an unhandled 'error' must not crash the daemon)
 * - 'end'      the stream is over, always emitted once, after 'error' if any
 */
export class RpcSyncHandle extends EventEmitter {
  /** Last sync state the wallet reported. */
  synced = false;
  readonly #stream: WalletStream<RawRpcSyncResponse>;

  constructor(call: grpc.ClientReadableStream<object>, translate: (err: Error) => Promise<WalletRpcError>) {
    super();
    this.#stream = new WalletStream(call, (raw) => raw as RawRpcSyncResponse, translate);
    this.#stream.on('data', (msg) => {
      this.emit('notification', msg.notification_type);
      // notification_type SYNCED is the proto3 zero value, so trust the
      // explicit bool rather than the enum.
      if (msg.synced) {
        this.synced = true;
        this.emit('synced');
      } else if (msg.notification_type === 'UNSYNCED') {
        this.synced = false;
        this.emit('unsynced');
      }
    });
    this.#stream.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    this.#stream.on('end', () => {
      this.synced = false;
      this.emit('end');
    });
  }

  /** The error that ended the stream, if any. */
  get lastError(): WalletRpcError | null {
    return this.#stream.lastError;
  }

  /** End the sync stream (the wallet stops syncing when its stream context ends). */
  cancel(): void {
    this.#stream.cancel();
  }
}
