// Which tickets a wallet owns that can still vote, for the voting-key store:
// the seam between the store (the sink) and what feeds it (the source, the
// wallet's ticket index: src/wallet/index-ticket-source.ts).

export interface LiveTicketSink {
  ticketAdded(hash: string, ticketTx: Buffer): void;
  ticketRemoved(hash: string): void;
  /** Called after each listing: fetch what is still missing. */
  fetchPending(): Promise<void>;
  /** Hashes the sink holds (a full listing removes those it no longer reports as live). */
  listed(): string[];
}

export interface LiveTicketSource {
  /** A block was connected at this height. */
  onBlock(height: number): void;
  /** The wallet became ready (e.g. unlocked): list if never listed, and fetch what is missing. */
  onWalletReady(): void;
  stop(): void;
}
