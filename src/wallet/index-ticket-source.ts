// The voting-key store's LiveTicketSource fed by the wallet's ticket index
// instead of GetTickets listings: the index already follows the wallet's
// tickets (GetTickets once, then TransactionNotifications), so the store hears
// each ticket that joins or leaves as it happens and no listing runs per block.

import type { LiveTicketSink, LiveTicketSource } from '../vote/live-tickets.js';
import type { TicketIndex } from './ticket-index.js';

export class IndexTicketSource implements LiveTicketSource {
  readonly #index: TicketIndex;
  readonly #sink: LiveTicketSink;
  #stopped = false;
  #fetchQueued = false;
  readonly #off: (() => void)[] = [];

  constructor(index: TicketIndex, sink: LiveTicketSink) {
    this.#index = index;
    this.#sink = sink;
    const on = <E extends 'added' | 'removed' | 'loaded'>(event: E, cb: (...args: never[]) => void) => {
      index.on(event, cb as never);
      this.#off.push(() => index.off(event, cb as never));
    };
    on('added', (ticket: string) => {
      this.#add(ticket);
      this.#fetchSoon();
    });
    on('removed', (ticket: string) => sink.ticketRemoved(ticket));
    on('loaded', () => this.#sync());
    if (index.loaded) this.#sync();
  }

  /** Keys a wallet deferred are asked for again at the next block. */
  onBlock(_height: number): void {
    this.#fetchSoon();
  }

  onWalletReady(): void {
    this.#fetchSoon();
  }

  stop(): void {
    this.#stopped = true;
    for (const off of this.#off) off();
  }

  #add(ticket: string): void {
    const tx = this.#index.ticketTx(ticket);
    if (tx) this.#sink.ticketAdded(ticket, tx);
  }

  /** The index (re)loaded: what the store holds and the index does not is gone; what it lacks is added. */
  #sync(): void {
    for (const hash of this.#sink.listed()) if (!this.#index.has(hash)) this.#sink.ticketRemoved(hash);
    for (const hash of this.#index.tickets()) this.#add(hash);
    this.#fetchSoon();
  }

  /** Many tickets join at once during a fill: one fetch after them. */
  #fetchSoon(): void {
    if (this.#stopped || this.#fetchQueued) return;
    this.#fetchQueued = true;
    queueMicrotask(() => {
      this.#fetchQueued = false;
      if (!this.#stopped) void this.#sink.fetchPending();
    });
  }
}
