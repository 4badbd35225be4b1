// dcrd never rebroadcasts a vote it received through sendrawtransaction, and
// dcrwallet re-sends its votes only when it resyncs. So until the next block
// arrives, each vote of ours — whoever cast it — is looked for in every dcrd
// node's mempool on a short schedule and sent again to each node that lacks
// it: a node that dropped the vote, or never got it (the wallet talks to one
// dcrd only), still gets it to its miners in time.

import type { Logger } from 'pino';
import type { BlockRef } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';

export interface RebroadcastChain {
  connectedNodes(): string[];
  /** Whether the node's mempool holds the transaction. */
  mempoolHas(node: string, txid: string): Promise<boolean>;
  /** The transaction's hex from whichever node has it; null when none does. */
  rawTx(txid: string): Promise<string | null>;
  sendTo(node: string, hex: string): Promise<void>;
}

export interface OurVote {
  wallet: string;
  ticket: string;
  block: BlockRef;
  txid: string;
  /** Known when dcrvoted cast it; otherwise read from a node that has it. */
  hex?: string;
}

/** After the vote first reached a dcrd: soon enough for the miners' 2.5 s wait, and once more. */
export const REBROADCAST_SCHEDULE_MS: readonly number[] = [1_000, 3_000];

/** What one check found at one node, for the vote's timeline. */
export type RebroadcastObservation =
  | { kind: 'in_mempool'; vote: OurVote; node: string; at: number }
  | { kind: 'resent'; vote: OurVote; node: string; at: number };

interface Watch {
  vote: OurVote;
  timers: NodeJS.Timeout[];
}

export class VoteRebroadcaster {
  readonly #chain: RebroadcastChain;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #schedule: readonly number[];
  readonly #watches = new Map<string, Watch>();
  readonly #observe: (o: RebroadcastObservation) => void;
  readonly #now: () => number;

  constructor(opts: { chain: RebroadcastChain; metrics: Metrics; logger: Logger; scheduleMs?: readonly number[]; observe?: (o: RebroadcastObservation) => void; now?: () => number }) {
    this.#chain = opts.chain;
    this.#observe = opts.observe ?? (() => undefined);
    this.#now = opts.now ?? Date.now;
    this.#metrics = opts.metrics;
    this.#log = opts.logger;
    this.#schedule = opts.scheduleMs ?? REBROADCAST_SCHEDULE_MS;
  }

  /** Keep this vote in every node's mempool until a block at the next height arrives. */
  watch(vote: OurVote): void {
    const known = this.#watches.get(vote.txid);
    if (known) {
      if (vote.hex && !known.vote.hex) known.vote.hex = vote.hex;
      return;
    }
    const w: Watch = { vote: { ...vote }, timers: [] };
    for (const ms of this.#schedule) {
      const t = setTimeout(() => void this.#check(w), ms);
      t.unref();
      w.timers.push(t);
    }
    this.#watches.set(vote.txid, w);
  }

  /** A block at this height arrived: votes on blocks below it are decided now. */
  blockArrived(height: number): void {
    for (const [txid, w] of this.#watches) if (w.vote.block.height < height) this.#forget(txid, w);
  }

  stop(): void {
    for (const [txid, w] of this.#watches) this.#forget(txid, w);
  }

  #forget(txid: string, w: Watch): void {
    for (const t of w.timers) clearTimeout(t);
    this.#watches.delete(txid);
  }

  async #check(w: Watch): Promise<void> {
    if (!this.#watches.has(w.vote.txid)) return;
    const { txid, wallet, ticket } = w.vote;
    const lacking: string[] = [];
    await Promise.all(
      this.#chain.connectedNodes().map(async (node) => {
        try {
          if (!(await this.#chain.mempoolHas(node, txid))) lacking.push(node);
          else this.#observe({ kind: 'in_mempool', vote: w.vote, node, at: this.#now() });
        } catch (err) {
          this.#log.debug({ node, err: { message: errorMessage(err) } }, 'could not look into a dcrd mempool');
        }
      }),
    );
    if (lacking.length === 0 || !this.#watches.has(txid)) return;
    const hex = w.vote.hex ?? (await this.#chain.rawTx(txid).catch(() => null));
    if (!hex) {
      this.#log.warn({ event: 'vote_rebroadcast_impossible', wallet, ticket, txid, lacking }, `vote ${txid.slice(0, 12)} for ticket ${ticket.slice(0, 12)} is missing from dcrd ${lacking.join(', ')} and no node has it to send again`);
      return;
    }
    w.vote.hex = hex;
    for (const node of lacking) {
      try {
        await this.#chain.sendTo(node, hex);
      } catch (err) {
        const message = errorMessage(err);
        if (!/already have|already exists|duplicate/i.test(message)) {
          this.#log.warn({ event: 'vote_rebroadcast_failed', wallet, ticket, txid, node, err: { message } }, `dcrd ${node} refused vote ${txid.slice(0, 12)} sent again: ${message}`);
          continue;
        }
      }
      this.#metrics.votesRebroadcastTotal.inc({ wallet, node });
      this.#observe({ kind: 'resent', vote: w.vote, node, at: this.#now() });
      this.#log.info({ event: 'vote_rebroadcast', wallet, ticket, txid, node }, `sent vote ${txid.slice(0, 12)} for ticket ${ticket.slice(0, 12)} again to dcrd ${node}, whose mempool lacked it`);
    }
  }
}
