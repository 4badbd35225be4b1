// Keeps one wallet's TicketIndex filled: subscribe to the wallet's
// TransactionNotifications first, then list every ticket (GetTickets), then
// apply what was notified meanwhile, so nothing that happens during the fill
// is lost. While the stream runs the index is "loaded"; when it ends (wallet
// restarted, unreachable, dcrvoted reconnecting) the index is unloaded at
// once — winners then take the GetTicket path, and a wallet that cannot
// answer is deferred as before — and filled again with capped backoff.

import type { Logger } from 'pino';
import type { BlockRef } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { TicketStatus, WalletTicket, WalletTxNotification } from './grpc-client.js';
import type { TicketIndex } from './ticket-index.js';
import { WakeableDelay } from '../wakeable-delay.js';

/** The stream as the feed uses it (WalletStream implements it). */
export interface NotificationStream {
  on(event: 'data', cb: (n: WalletTxNotification) => void): unknown;
  on(event: 'end', cb: () => void): unknown;
  cancel(): void;
  readonly ended: boolean;
}

export interface TicketIndexWallet {
  /** GetTickets from a height (0: all), unmined included (WalletClient.listTickets). */
  listTickets(fromHeight: number, onTicket: (t: { hash: string; status: TicketStatus; blockHeight: number | null }, tx: Buffer) => void): Promise<void>;
  transactionNotifications(): NotificationStream;
  bestBlock(): Promise<BlockRef>;
}

export interface TicketIndexFeedOptions {
  walletName: string;
  wallet: TicketIndexWallet;
  index: TicketIndex;
  logger: Logger;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  now?: () => number;
}

/** Notifications held while GetTickets runs; a wallet busier than this during a fill is listed again. */
const MAX_HELD = 10_000;

export class TicketIndexFeed {
  readonly #o: TicketIndexFeedOptions;
  #stopped = false;
  #stream: NotificationStream | null = null;
  readonly #pause = new WakeableDelay();
  #loop: Promise<void> | null = null;
  /** Completed fills (a refill after a reconnect counts again). */
  fills = 0;

  constructor(opts: TicketIndexFeedOptions) {
    this.#o = opts;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stream?.cancel();
    this.#pause.wake();
    await this.#loop;
  }

  /** Retry now instead of waiting out the backoff (the wallet is back). */
  retryNow(): void {
    this.#pause.wake();
  }

  async #run(): Promise<void> {
    const min = this.#o.backoffMinMs ?? 1000;
    const max = this.#o.backoffMaxMs ?? 30_000;
    let delay = min;
    while (!this.#stopped) {
      const filled = await this.#followOnce();
      if (this.#stopped) break;
      delay = filled ? min : Math.min(max, delay * 2);
      await this.#pause.sleep(delay);
    }
    this.#o.index.unload();
  }

  /** One subscription: fill, then follow until the stream ends. True when the fill completed. */
  async #followOnce(): Promise<boolean> {
    const { index, wallet, logger, walletName } = this.#o;
    const now = this.#o.now ?? Date.now;
    const stream = wallet.transactionNotifications();
    this.#stream = stream;
    const held: WalletTxNotification[] = [];
    let following = false;
    let overflow = false;
    stream.on('data', (n) => {
      if (following) index.apply(n);
      else if (held.length < MAX_HELD) held.push(n);
      else overflow = true;
    });
    const ended = new Promise<void>((resolve) => {
      if (stream.ended) resolve();
      else stream.on('end', resolve);
    });
    const startedAt = now();
    let filled = false;
    try {
      const tickets: WalletTicket[] = [];
      const [best] = await Promise.all([wallet.bestBlock(), wallet.listTickets(0, (t, tx) => tickets.push({ hash: t.hash, status: t.status, tx, blockHeight: t.blockHeight }))]);
      if (stream.ended) throw new Error('transaction notifications ended during the fill');
      if (overflow) throw new Error(`more than ${MAX_HELD} transaction notifications during the fill`);
      index.fill(tickets, best.height);
      for (const n of held) index.apply(n);
      held.length = 0;
      following = true;
      filled = true;
      this.fills++;
      logger.info(
        { event: 'ticket_index_loaded', wallet: walletName, tickets: index.size, listed: tickets.length, ms: now() - startedAt, approxBytes: index.approxBytes() },
        `ticket index of wallet ${walletName} loaded: ${index.size} ticket(s) that can win, in ${now() - startedAt} ms`,
      );
    } catch (err) {
      if (!this.#stopped) {
        logger.warn({ event: 'ticket_index_fill_failed', wallet: walletName, err: { message: errorMessage(err) } }, `cannot fill the ticket index of wallet ${walletName}: ${errorMessage(err)}; winners are looked up with GetTicket meanwhile`);
      }
      stream.cancel();
    }
    await ended;
    if (this.#stream === stream) this.#stream = null;
    if (index.loaded) {
      index.unload();
      if (!this.#stopped) logger.warn({ event: 'ticket_index_unloaded', wallet: walletName }, `wallet ${walletName}'s transaction notifications ended; its ticket index is filled again once the wallet answers (GetTicket meanwhile)`);
    }
    return filled;
  }

}
