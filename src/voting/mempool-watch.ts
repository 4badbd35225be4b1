// Watches dcrd's mempool for the votes of one block's winning tickets of
// ours. One poll lists only vote transactions (getrawmempool "votes"), and
// each vote is decoded once, so the cost per block follows the number of
// votes in flight (a handful), not the number of tickets we own.

import type { ChainReader, DecodedVote } from './ports.js';

export interface SeenVote {
  ticket: string;
  txid: string;
  afterMs: number;
}

export interface MempoolWatchOptions {
  chain: ChainReader;
  blockHash: string;
  tickets: string[];
  startedAt: number;
  pollMs: number;
  deadlineMs: number;
  /** Stop looking after this long even if undecided (the next block decides anyway). */
  maxWatchMs: number;
  onSeen(v: SeenVote): void;
  onDeadline(unseen: string[]): void;
  onError(err: unknown): void;
  now?: () => number;
}

export class MempoolWatch {
  readonly #o: MempoolWatchOptions;
  readonly #unseen: Set<string>;
  readonly #decoded = new Map<string, DecodedVote | null>();
  #timer: NodeJS.Timeout | null = null;
  #deadlineTimer: NodeJS.Timeout | null = null;
  #stopped = false;
  #polling = false;

  constructor(opts: MempoolWatchOptions) {
    this.#o = opts;
    this.#unseen = new Set(opts.tickets);
  }

  start(): void {
    const now = this.#now();
    const untilDeadline = Math.max(0, this.#o.startedAt + this.#o.deadlineMs - now);
    this.#deadlineTimer = setTimeout(() => {
      if (!this.#stopped && this.#unseen.size > 0) this.#o.onDeadline([...this.#unseen]);
    }, untilDeadline);
    this.#deadlineTimer.unref();
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async #poll(): Promise<void> {
    if (this.#stopped || this.#polling) return;
    this.#polling = true;
    try {
      const txids = await this.#o.chain.getRawMempoolVotes();
      for (const txid of txids) {
        if (this.#stopped || this.#unseen.size === 0) break;
        if (this.#decoded.has(txid)) continue;
        const vote = await this.#o.chain.getVoteTx(txid).catch(() => null);
        this.#decoded.set(txid, vote);
        if (vote && vote.votedBlock.hash === this.#o.blockHash && this.#unseen.delete(vote.ticketHash)) {
          this.#o.onSeen({ ticket: vote.ticketHash, txid, afterMs: this.#now() - this.#o.startedAt });
        }
      }
    } catch (err) {
      this.#o.onError(err);
    } finally {
      this.#polling = false;
    }
    const watched = this.#now() - this.#o.startedAt;
    if (!this.#stopped && this.#unseen.size > 0 && watched < this.#o.maxWatchMs) {
      this.#timer = setTimeout(() => void this.#poll(), this.#o.pollMs);
      this.#timer.unref();
    }
  }
}
