// The life of each winning ticket of ours: noticed → (vote seen in the
// mempool) → decided by the next main-chain block as voted or missed (with a
// reason), or superseded when a reorg removes the block it won in. It reacts
// to the chain tracker's events (follow()); the tip and the dcrd metrics are
// the chain tracker's.
//
// Chain events are handled one at a time, in arrival order, on a single
// queue: a block must never be decided while its winners are still being
// recorded. Mempool watching runs beside the queue and only annotates.
// Every per-block step asks about the block's few winners and votes; nothing
// here walks the wallet's whole ticket list.

import type { Logger } from 'pino';
import { trimOldest } from '../bounded.js';
import type { BlockRef, MissReason, WalletReadiness } from '../domain.js';
import type { Metrics } from '../telemetry/metrics.js';
import { classify, describeMiss } from './classify.js';
import type { ChainCursor } from './cursor.js';
import { MempoolWatch } from './mempool-watch.js';
import type { VoteRebroadcaster } from './rebroadcast.js';
import type { BlockVotes, ChainReader, LedgerEntry, OutcomeRecord, OwnerAnswer, TicketOwners, VoteLedger, WinnerRecord } from './ports.js';
import { errorFields, errorMessage } from '../errors.js';
import { CastError } from '../vote/caster.js';
import { NO_ALERTS, type Alerts } from '../notify/api.js';

export interface ConnectedBlock extends BlockRef {
  previousHash: string;
}

/** The chain tracker's events this tracker reacts to (src/dcrd/chain.ts). */
export interface ChainEventSource {
  on(event: 'winners', cb: (e: { block: BlockRef; tickets: string[]; receivedAt: number }) => void): unknown;
  on(event: 'blockConnected', cb: (e: { block: ConnectedBlock; receivedAt: number }) => void): unknown;
  on(event: 'blockDisconnected', cb: (e: { block: ConnectedBlock }) => void): unknown;
  on(event: 'reconnected', cb: () => void): unknown;
}

/** Casts votes for a wallet's winning tickets itself (votingMode daemon or both). */
export interface WalletVoteCaster {
  /** daemon: only dcrvoted votes, so the wallet's lock and voting state say nothing about a miss. */
  mode: 'daemon' | 'both';
  /** firstAcceptedMs: from the notification until the first dcrd accepted it (null: none did). */
  cast(ticket: string, block: BlockRef, notifiedAt: number): Promise<{ txid: string; hex?: string; accepted: string[]; firstAcceptedMs: number | null }>;
}

/** Told what the tracker observes of each vote, to assemble its timeline elsewhere. Must return at once and never throw. */
export interface VoteStageObserver {
  /** The mempool watch found the vote (in the node the pool asks first). */
  seen(ticket: string, block: BlockRef, txid: string, at: number): void;
  /** An outcome was recorded; `next` is the block that decided it, when there was one. */
  decided(winner: WinnerRecord, outcome: OutcomeRecord, next: DecidingBlock | null): void;
}

export interface DecidingBlock {
  block: BlockRef;
  /** When it arrived (ms epoch); null when it was not watched live. */
  arrivedAt: number | null;
  votes: number;
}

export interface VoteTrackerOptions {
  chain: ChainReader;
  /**
   * Each connected dcrd node's own reader, the primary first. A decision
   * reads the blocks from a node that has them: the node that announced the
   * next block may be ahead of the primary, or the primary on a fork of its
   * own. Without it, every read goes through `chain`.
   */
  nodeReaders?: () => ChainReader[];
  owners: TicketOwners;
  ledger: VoteLedger;
  cursor: ChainCursor;
  metrics: Metrics;
  logger: Logger;
  walletNames: string[];
  /** Wallets whose votes dcrvoted casts itself, by wallet name. */
  casters?: ReadonlyMap<string, WalletVoteCaster>;
  voteSeenDeadlineMs: number;
  mempoolPollMs: number;
  /**
   * How long a not-included decision waits for the vote of a ready wallet
   * that has not been seen yet (0: decide at once). A vote that arrives
   * within it makes the miss `late` (the race was lost), not
   * `vote_not_broadcast`. Winners whose wallet had a fault, and votes
   * already seen, are decided at once.
   */
  decisionGraceMs?: number;
  /** Runs `fn` after `ms` (default setTimeout); returns a cancel function. Tests fire it by hand. */
  schedule?: (ms: number, fn: () => void) => () => void;
  /** Keeps our votes in every dcrd node's mempool until the next block (dcrd never rebroadcasts them). */
  rebroadcaster?: VoteRebroadcaster;
  /** Stage observations for the votes' timelines (off the hot path). */
  stages?: VoteStageObserver;
  /** Blocks examined at most when catching up after an outage. */
  maxCatchUpBlocks?: number;
  /** Tells a person about votes at risk and missed (src/notify); never waited for. */
  alerts?: Alerts;
  now?: () => number;
}

interface ActiveVote {
  wallet: string;
  seen: { txid: string; afterMs: number } | null;
  atDeadline: WalletReadiness | null;
  /** When our vote was first known to be at a dcrd (ms epoch): accepted from our broadcast, or seen in the mempool. */
  reachedAt: number | null;
}

/** What a later block already showed about a winner whose owner could not be asked. */
type FoundAfter = { voted: { txid: string; includedIn: BlockRef } } | { revokedIn: BlockRef };

interface DeferredWinner {
  ticket: string;
  block: BlockRef;
  notifiedAt: number;
  /** Wallets that could not say whether they own the ticket, with their state then. */
  waiting: Map<string, WalletReadiness>;
  /** Found while catching up: the block after `block` holds its vote or its revocation. */
  found?: FoundAfter;
}

/** Readiness recorded for a ticket found after the fact: nobody watched it. */
const UNOBSERVED: WalletReadiness = { reachable: true, unlocked: null, voting: null, daemonConnected: null, synced: null };
const MAX_DEFERRED = 2048;
/** Recent ledger entries searched for outcomes a disconnected block had decided. */
const REVISION_WINDOW = 1024;

export class VoteTracker {
  readonly #o: VoteTrackerOptions;
  readonly #log: Logger;
  #queue: Promise<void> = Promise.resolve();
  readonly #active = new Map<string, ActiveVote>();
  readonly #watches = new Map<string, MempoolWatch>();
  readonly #deferred = new Map<string, DeferredWinner>();
  /** Blocks whose winners a disconnection superseded (recent ones only): if such a block comes back, so do they. */
  readonly #supersededBlocks = new Set<string>();
  /** The last block this queue has processed: where its decisions stand, not the chain's tip (the chain tracker owns that). */
  #processed: ConnectedBlock | null = null;
  /** Blocks whose winning-ticket notification we received (recent ones only). */
  readonly #winnersSeen = new Set<string>();
  /** When recent blocks arrived (ms epoch), to tell a lost race from a miner's omission. */
  readonly #arrivals = new Map<string, number>();
  /** Casts accepted before their winner was recorded (the cast starts first). */
  readonly #early = new Map<string, number>();
  /** Winners whose cast has started (recent ones only). */
  readonly #castStarted = new Set<string>();
  #stopped = false;
  /** Not-included decisions held for a ready wallet's vote: key → cancel of the timer that ends the grace. */
  readonly #graced = new Map<string, () => void>();
  /** Winners whose grace is over: decided as the chain shows, whatever arrives later. */
  readonly #graceOver = new Set<string>();

  readonly #alerts: Alerts;

  constructor(opts: VoteTrackerOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ component: 'voting' });
    this.#alerts = opts.alerts ?? NO_ALERTS;
  }

  /** Reacts to the chain tracker's events, in the order it emits them. */
  follow(chain: ChainEventSource): void {
    chain.on('winners', ({ block, tickets, receivedAt }) => void this.onWinningTickets(block, tickets, receivedAt));
    chain.on('blockConnected', ({ block, receivedAt }) => void this.onBlockConnected(block, receivedAt));
    chain.on('blockDisconnected', ({ block }) => void this.onBlockDisconnected(block));
    chain.on('reconnected', () => void this.onDcrdConnected());
  }

  onWinningTickets(block: BlockRef, tickets: string[], receivedAt: number): Promise<void> {
    // Casts for winners a ticket index already knows start now, not after
    // the queue has finished the block before (its RPCs and fsync): the race
    // to the miners starts at the notification.
    if (!this.#stopped && this.#o.owners.knownOwner) {
      for (const ticket of tickets) {
        const owner = this.#o.owners.knownOwner(ticket);
        const caster = owner === null ? undefined : this.#o.casters?.get(owner);
        if (owner !== null && caster) this.#startCast(caster, owner, ticket, block, receivedAt);
      }
    }
    return this.#enqueue('winningtickets', () => this.#handleWinners(block, tickets, receivedAt));
  }

  onBlockConnected(block: ConnectedBlock, receivedAt?: number): Promise<void> {
    // Noted on arrival, not when the queue gets to it: the race is against the block's arrival.
    if (receivedAt !== undefined) {
      this.#arrivals.set(block.hash, receivedAt);
      trimOldest(this.#arrivals, 64);
    }
    return this.#enqueue('blockconnected', () => this.#handleConnected(block));
  }

  onBlockDisconnected(block: ConnectedBlock): Promise<void> {
    return this.#enqueue('blockdisconnected', () => this.#handleDisconnected(block));
  }

  /** dcrd (re)connected: examine what happened while we were not listening. */
  onDcrdConnected(): Promise<void> {
    return this.#enqueue('catchup', () => this.#catchUp());
  }

  /** A wallet is reachable again: ask it about winners it could not answer for. */
  onWalletReady(wallet: string): Promise<void> {
    return this.#enqueue('wallet-ready', () => this.#recheckDeferred(wallet));
  }

  /** Resolves when everything queued so far has been handled. */
  idle(): Promise<void> {
    return this.#queue;
  }

  stop(): void {
    this.#stopped = true;
    this.#o.rebroadcaster?.stop();
    for (const w of this.#watches.values()) w.stop();
    this.#watches.clear();
    for (const cancel of this.#graced.values()) cancel();
    this.#graced.clear();
  }

  /** In-flight winners for /status. */
  pendingView(): { ticket: string; wallet: string; block: BlockRef; voteSeenMs: number | null }[] {
    return this.#o.ledger.pending().map((e) => ({
      ticket: e.winner.ticket,
      wallet: e.winner.wallet,
      block: e.winner.block,
      voteSeenMs: this.#active.get(key(e.winner.ticket, e.winner.block.hash))?.seen?.afterMs ?? null,
    }));
  }

  #enqueue(what: string, job: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#stopped) return;
      try {
        await job();
      } catch (err) {
        // A failed step leaves its winners pending; the next block or
        // reconnect retries them. Never let one bad step stop the queue.
        this.#log.warn({ err: errorFields(err), step: what }, `vote tracking step ${what} failed; will retry on the next block`);
      }
    });
    this.#queue = run;
    return run;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async #handleWinners(block: BlockRef, tickets: string[], receivedAt: number): Promise<void> {
    this.#winnersSeen.add(block.hash);
    trimOldest(this.#winnersSeen, 64);
    const answers = await Promise.all(
      tickets.map(async (ticket) => {
        try {
          const owners = this.#o.owners;
          return { ticket, answer: await (owners.findLiveOwner ? owners.findLiveOwner(ticket) : owners.findOwner(ticket)) };
        } catch {
          return { ticket, answer: { owner: null, unreachable: [...this.#o.walletNames] } as OwnerAnswer };
        }
      }),
    );
    const watched: string[] = [];
    for (const { ticket, answer } of answers) {
      if (answer.owner !== null) {
        const caster = this.#o.casters?.get(answer.owner);
        // Cast first: every millisecond before the vote reaches the miners counts.
        if (caster) this.#startCast(caster, answer.owner, ticket, block, receivedAt);
        if (await this.#recordWinner(ticket, answer.owner, block, receivedAt, this.#readinessFor(answer.owner))) {
          watched.push(ticket);
        }
      } else if (answer.unreachable.length > 0) {
        this.#defer(ticket, block, receivedAt, answer.unreachable);
      }
    }
    if (watched.length > 0) this.#watch(block, watched, receivedAt);
    this.#updatePending();
  }

  /** What the wallet's state says about a possible miss; nothing, when dcrvoted alone votes. */
  #readinessFor(wallet: string, r: WalletReadiness = this.#o.owners.readiness(wallet)): WalletReadiness {
    return this.#o.casters?.get(wallet)?.mode === 'daemon' ? { ...r, unlocked: null, voting: null } : r;
  }

  /** One cast per winner (ticket, block), whichever path starts it first. */
  #startCast(caster: WalletVoteCaster, wallet: string, ticket: string, block: BlockRef, notifiedAt: number): void {
    const k = key(ticket, block.hash);
    if (this.#castStarted.has(k)) return;
    this.#castStarted.add(k);
    trimOldest(this.#castStarted, 256);
    void this.#cast(caster, wallet, ticket, block, notifiedAt);
  }

  async #cast(caster: WalletVoteCaster, wallet: string, ticket: string, block: BlockRef, notifiedAt: number): Promise<void> {
    try {
      const r = await caster.cast(ticket, block, notifiedAt);
      if (r.firstAcceptedMs !== null) this.#reached(ticket, block.hash, notifiedAt + r.firstAcceptedMs);
      this.#o.rebroadcaster?.watch({ wallet, ticket, block, txid: r.txid, ...(r.hex ? { hex: r.hex } : {}) });
    } catch (err) {
      this.#log.error(
        { event: 'vote_cast_failed', wallet, ticket, block, reason: err instanceof CastError ? err.reason : undefined, err: errorFields(err) },
        `VOTE AT RISK: dcrvoted could not cast the vote for ticket ${short(ticket)} (wallet ${wallet}): ${errorMessage(err)}`,
      );
      this.#atRisk(wallet, ticket, block, `dcrvoted could not cast the vote: ${errorMessage(err)}`);
    }
  }

  #atRisk(wallet: string, ticket: string, block: BlockRef, why: string): void {
    // One condition per (ticket, block) whichever path saw it first; resolved when the vote is seen or decided.
    this.#alerts.raise(atRiskKey(ticket, block.hash), 'critical', `VOTE AT RISK: ticket ${short(ticket)} of wallet ${wallet}`, { wallet, ticket, height: block.height, block: block.hash, reason: why });
  }

  /** Records a new winner of ours; null when the ledger already has it. */
  async #recordWinner(ticket: string, wallet: string, block: BlockRef, notifiedAt: number, readiness: WalletReadiness): Promise<WinnerRecord | null> {
    const rec: WinnerRecord = { kind: 'winner', ticket, wallet, block, notifiedAt, readiness };
    if (!(await this.#o.ledger.recordWinner(rec))) return null;
    this.#o.metrics.winningTicketsTotal.inc({ wallet });
    const k = key(ticket, block.hash);
    this.#active.set(k, { wallet, seen: null, atDeadline: null, reachedAt: this.#early.get(k) ?? null });
    this.#early.delete(k);
    this.#log.info({ event: 'winning_ticket', wallet, ticket, block }, `ticket ${short(ticket)} of wallet ${wallet} won in block ${block.height}`);
    return rec;
  }

  /** Our vote is at a dcrd: keep the earliest time. A cast can finish before the winner is recorded. */
  #reached(ticket: string, blockHash: string, at: number): void {
    const k = key(ticket, blockHash);
    const a = this.#active.get(k);
    if (a) {
      a.reachedAt = a.reachedAt === null ? at : Math.min(a.reachedAt, at);
      this.#endGrace(k);
      return;
    }
    this.#early.set(k, Math.min(this.#early.get(k) ?? at, at));
    trimOldest(this.#early, 256);
  }

  #watch(block: BlockRef, tickets: string[], startedAt: number): void {
    const watch = new MempoolWatch({
      chain: this.#o.chain,
      blockHash: block.hash,
      tickets,
      startedAt,
      pollMs: this.#o.mempoolPollMs,
      deadlineMs: this.#o.voteSeenDeadlineMs,
      maxWatchMs: 10 * 60_000,
      now: this.#o.now,
      onSeen: ({ ticket, txid, afterMs }) => {
        const a = this.#active.get(key(ticket, block.hash));
        if (!a) return;
        a.seen = { txid, afterMs };
        this.#reached(ticket, block.hash, startedAt + afterMs);
        this.#o.stages?.seen(ticket, block, txid, startedAt + afterMs);
        this.#o.rebroadcaster?.watch({ wallet: a.wallet, ticket, block, txid });
        this.#o.metrics.voteSeenSeconds.observe({ wallet: a.wallet }, afterMs / 1000);
        if (this.#o.casters?.get(a.wallet)?.mode !== 'daemon') this.#o.metrics.voteAcceptedSeconds.observe({ wallet: a.wallet, path: 'wallet' }, afterMs / 1000);
        this.#log.info({ event: 'vote_seen', wallet: a.wallet, ticket, txid, afterMs }, `vote for ticket ${short(ticket)} in mempool after ${afterMs} ms`);
        this.#alerts.clear(atRiskKey(ticket, block.hash), { wallet: a.wallet, ticket, height: block.height, outcome: `vote in dcrd's mempool after ${afterMs} ms` });
      },
      onDeadline: (unseen) => {
        for (const ticket of unseen) void this.#lateVote(ticket, block);
      },
      onError: (err) => this.#log.debug({ err: errorFields(err) }, 'mempool poll failed'),
    });
    this.#watches.set(block.hash, watch);
    watch.start();
  }

  async #lateVote(ticket: string, block: BlockRef): Promise<void> {
    const a = this.#active.get(key(ticket, block.hash));
    if (!a || a.seen) return;
    const state = await this.#o.owners.probeNow(a.wallet).catch(() => null);
    a.atDeadline = state && this.#readinessFor(a.wallet, state);
    this.#log.warn(
      { event: 'vote_late', wallet: a.wallet, ticket, block, deadlineMs: this.#o.voteSeenDeadlineMs, walletState: state },
      `VOTE AT RISK: no vote for ticket ${short(ticket)} (wallet ${a.wallet}) in dcrd's mempool ${this.#o.voteSeenDeadlineMs} ms after it won in block ${block.height}`,
    );
    this.#atRisk(a.wallet, ticket, block, `no vote in dcrd's mempool ${this.#o.voteSeenDeadlineMs} ms after the ticket won`);
  }

  /**
   * A winner nobody could answer for. It is kept until every wallet that
   * could own it has answered, and the chain cursor is held at its block
   * meanwhile, so a restart examines that block's successor again and finds
   * the ticket's vote or revocation: the winner is never passed over.
   */
  #defer(ticket: string, block: BlockRef, notifiedAt: number, wallets: string[], found?: FoundAfter): void {
    const k = key(ticket, block.hash);
    if (this.#deferred.has(k)) return;
    const waiting = new Map(wallets.map((w) => [w, this.#o.owners.readiness(w)]));
    this.#deferred.set(k, { ticket, block, notifiedAt, waiting, ...(found ? { found } : {}) });
    for (const [oldest, dropped] of this.#deferred) {
      if (this.#deferred.size <= MAX_DEFERRED) break;
      this.#deferred.delete(oldest);
      this.#log.error(
        { event: 'ownership_unknown_dropped', ticket: dropped.ticket, block: dropped.block },
        `gave up waiting to learn whether winning ticket ${short(dropped.ticket)} (block ${dropped.block.height}) is ours: more than ${MAX_DEFERRED} such winners; a restart with the wallets reachable examines it again`,
      );
    }
    this.#log.warn(
      { event: 'ownership_unknown', ticket, block, wallets },
      `cannot tell whether winning ticket ${short(ticket)} (block ${block.height}) is ours: wallet(s) ${wallets.join(', ')} unreachable; will ask again when they are back`,
    );
  }

  /** The block the chain cursor may advance to: never past a winner nobody could answer for. */
  #cursorTarget(block: BlockRef): BlockRef {
    let hold: BlockRef | null = null;
    for (const d of this.#deferred.values()) if (!hold || d.block.height < hold.height) hold = d.block;
    return hold && hold.height < block.height ? hold : block;
  }

  async #recheckDeferred(wallet: string): Promise<void> {
    let found = 0;
    for (const [k, d] of [...this.#deferred]) {
      const readiness = d.waiting.get(wallet);
      if (!readiness) continue;
      let owned: boolean;
      try {
        owned = await this.#o.owners.ownedBy(wallet, d.ticket);
      } catch {
        break; // still away: everything stays deferred
      }
      if (owned) {
        if (!(await this.#recordDeferred(d, wallet, readiness))) break;
        this.#deferred.delete(k);
        found++;
        continue;
      }
      d.waiting.delete(wallet);
      if (d.waiting.size === 0) this.#deferred.delete(k);
    }
    if (found > 0 && this.#processed) await this.#resolvePending(this.#processed);
    this.#updatePending();
  }

  /** Records a deferred winner now known to be ours; false when the wallet could not finish answering. */
  async #recordDeferred(d: Pick<DeferredWinner, 'ticket' | 'block' | 'notifiedAt' | 'found'>, wallet: string, readiness: WalletReadiness): Promise<boolean> {
    if (!d.found) {
      await this.#recordWinner(d.ticket, wallet, d.block, d.notifiedAt, readiness);
      return true;
    }
    if ('voted' in d.found) {
      const winner = await this.#recordWinner(d.ticket, wallet, d.block, d.notifiedAt, UNOBSERVED);
      const { txid, includedIn } = d.found.voted;
      if (winner) await this.#decide(winner, { outcome: 'voted', voteTxid: txid, includedIn, decidedBy: includedIn });
      return true;
    }
    let status: string | null;
    try {
      status = await this.#o.owners.ticketStatus(wallet, d.ticket);
    } catch {
      return false;
    }
    if (status === 'EXPIRED') return true;
    const winner = await this.#recordWinner(d.ticket, wallet, d.block, d.notifiedAt, UNOBSERVED);
    if (winner) await this.#decide(winner, { outcome: 'missed', reason: 'vote_not_broadcast', decidedBy: d.found.revokedIn });
    return true;
  }

  async #handleConnected(block: ConnectedBlock): Promise<void> {
    this.#processed = block;
    this.#o.rebroadcaster?.blockArrived(block.height);
    // The parent's winners were announced before we were listening (startup,
    // reconnect): this block's votes and revocations still tell what they did.
    if (!this.#winnersSeen.has(block.previousHash)) {
      await this.#scanMissedBlock(await this.#blockVotesFromAnyNode(block.hash));
    }
    if (this.#supersededBlocks.delete(block.hash)) await this.#reopenReturned(block);
    // A wallet that answers again, even one not ready to vote, can say what it owns.
    if (this.#deferred.size > 0) {
      for (const w of this.#o.walletNames) if (this.#o.owners.readiness(w).reachable) await this.#recheckDeferred(w);
    }
    await this.#resolvePending(block);
    await this.#o.cursor.save(this.#cursorTarget(block));
  }

  async #handleDisconnected(block: ConnectedBlock): Promise<void> {
    // Outcomes this block decided are withdrawn; those of its own winners
    // become superseded, whatever they were. The newest entries first, so a
    // winner reopened here is superseded below if its own block goes too.
    for (const entry of this.#o.ledger.recent(REVISION_WINDOW)) {
      const o = entry.outcome;
      if (!o || o.outcome === 'superseded') continue;
      if (entry.winner.block.hash === block.hash) await this.#decide(entry.winner, { outcome: 'superseded' });
      else if (decidingBlockHash(entry, block) === block.hash) await this.#reopen(entry, block);
    }
    for (const entry of this.#o.ledger.pending()) {
      if (entry.winner.block.hash === block.hash) await this.#decide(entry.winner, { outcome: 'superseded' });
    }
    this.#supersededBlocks.add(block.hash);
    trimOldest(this.#supersededBlocks, 64);
    for (const [k, d] of [...this.#deferred]) if (d.block.hash === block.hash) this.#deferred.delete(k);
    this.#stopWatch(block.hash);
    this.#processed = { hash: block.previousHash, height: block.height - 1, previousHash: '' };
    this.#updatePending();
  }

  /**
   * Decide every pending winner whose next block exists. Each winner is
   * decided on its own: one that no node can answer for yet stays pending
   * (the next block, reconnect or wallet answer retries it) without holding
   * up the others or the cursor.
   */
  async #resolvePending(tip: ConnectedBlock | BlockRef): Promise<void> {
    const readers = this.#o.nodeReaders?.() ?? [];
    const sources = readers.length > 0 ? readers : [this.#o.chain];
    const blocks = new Map<string, BlockVotes>();
    for (const entry of this.#o.ledger.pending()) {
      const w = entry.winner;
      if (w.block.height >= tip.height) continue;
      try {
        const found = await this.#nextBlockOf(w, tip, sources, blocks);
        if (found === 'superseded') await this.#decide(w, { outcome: 'superseded' });
        else if (found) await this.#decideOn(w, found);
        else this.#log.warn({ event: 'decision_deferred', ticket: w.ticket, block: w.block, tip }, `cannot decide ticket ${short(w.ticket)} (block ${w.block.height}) yet: no connected dcrd has the block after it; retrying on the next block`);
      } catch (err) {
        this.#log.warn({ err: errorFields(err), event: 'decision_failed', ticket: w.ticket, block: w.block }, `deciding ticket ${short(w.ticket)} (block ${w.block.height}) failed; will retry on the next block`);
      }
    }
    this.#updatePending();
  }

  /**
   * The block after the winner's, from the first node that has both; null
   * when none has. 'superseded' only from a node whose best chain reaches
   * the tip we decide on and leaves the winner's block out: a node behind
   * or on a fork of its own says nothing about the chain that stands.
   */
  async #nextBlockOf(w: WinnerRecord, tip: ConnectedBlock | BlockRef, sources: ChainReader[], blocks: Map<string, BlockVotes>): Promise<BlockVotes | 'superseded' | null> {
    const childOfWinner = 'previousHash' in tip && tip.previousHash === w.block.hash && tip.height === w.block.height + 1 ? tip.hash : null;
    for (const src of sources) {
      try {
        const cached = childOfWinner ? blocks.get(childOfWinner) : undefined;
        if (cached) return cached;
        const header = await src.getBlockHeader(w.block.hash);
        if (header.confirmations < 0) {
          if (childOfWinner) continue; // the announced next block builds on it: this node is on a fork of its own
          if ((await src.getBestBlock()).height >= tip.height) return 'superseded';
          continue;
        }
        const nextHash = childOfWinner ?? (await src.getBlockHash(w.block.height + 1));
        let bv = blocks.get(nextHash);
        if (!bv) {
          bv = await src.getBlockVotes(nextHash);
          blocks.set(nextHash, bv);
        }
        return bv;
      } catch (err) {
        this.#log.debug({ err: errorFields(err), ticket: w.ticket, block: w.block }, 'a dcrd could not answer for the block after a winner; asking the next one');
      }
    }
    return null;
  }

  /** True while the decision waits for the vote; starts the grace on the first call. */
  #holdForVote(k: string): boolean {
    const grace = this.#o.decisionGraceMs ?? 0;
    if (grace <= 0 || this.#graceOver.has(k)) return false;
    if (this.#graced.has(k)) return true;
    const schedule = this.#o.schedule ?? defaultSchedule;
    this.#graced.set(k, schedule(grace, () => this.#endGrace(k)));
    return true;
  }

  /** The vote was seen or reached a dcrd, or the grace ran out: decide now, on the queue. */
  #endGrace(k: string): void {
    const cancel = this.#graced.get(k);
    if (!cancel) return;
    cancel();
    this.#graced.delete(k);
    this.#graceOver.add(k);
    trimOldest(this.#graceOver, 256);
    void this.#enqueue('decision-grace', async () => {
      if (this.#processed) await this.#resolvePending(this.#processed);
    });
  }

  /** A block's votes from the first connected node that has it (the one that announced it may be the only one yet). */
  async #blockVotesFromAnyNode(hash: string): Promise<BlockVotes> {
    const readers = this.#o.nodeReaders?.() ?? [];
    let failure: unknown = new Error(`no dcrd node has block ${hash}`);
    for (const src of readers.length > 0 ? readers : [this.#o.chain]) {
      try {
        return await src.getBlockVotes(hash);
      } catch (err) {
        failure = err;
      }
    }
    throw failure;
  }

  async #decideOn(w: WinnerRecord, next: BlockVotes): Promise<void> {
    const nextHash = next.block.hash;
    const vote = next.votes.find((v) => v.ticketHash === w.ticket && v.votedBlock.hash === w.block.hash);
    const k = key(w.ticket, w.block.hash);
    const active = this.#active.get(k);
    const decision = classify({
      includedInNextBlock: vote !== undefined,
      seenInMempool: active ? active.seen !== null : null,
      atNotification: w.readiness,
      atDeadline: active?.atDeadline ?? null,
      voteReachedDcrdAt: active?.reachedAt ?? null,
      nextBlockAt: this.#arrivals.get(nextHash) ?? null,
    });
    const includedIn = { hash: next.block.hash, height: next.block.height };
    const deciding: DecidingBlock = { block: includedIn, arrivedAt: this.#arrivals.get(nextHash) ?? null, votes: next.votes.length };
    // A ready wallet whose vote nobody has seen yet may be a lost race by
    // milliseconds (or our own cast still in flight): hold the decision a
    // little, off the queue, so later events and casts are not delayed.
    if (decision.outcome === 'missed' && decision.reason === 'vote_not_broadcast' && active && this.#holdForVote(k)) return;
    if (decision.outcome === 'voted') {
      await this.#decide(w, { outcome: 'voted', voteTxid: vote?.txid, includedIn, decidedBy: includedIn, voteSeenMs: active?.seen?.afterMs }, deciding);
    } else {
      await this.#decide(w, { outcome: 'missed', reason: decision.reason, voteTxid: active?.seen?.txid, decidedBy: includedIn, voteSeenMs: active?.seen?.afterMs }, deciding);
    }
  }

  async #decide(w: WinnerRecord, d: Omit<OutcomeRecord, 'kind' | 'ticket' | 'block' | 'decidedAt' | 'revision'>, deciding: DecidingBlock | null = null): Promise<void> {
    // A winner decided before (and since reopened or now revised) gets the next revision.
    const prev = this.#o.ledger.get(w.ticket, w.block.hash);
    const revision = prev && (prev.outcome || prev.revision) ? (prev.revision ?? 0) + 1 : undefined;
    const rec: OutcomeRecord = { kind: 'outcome', ticket: w.ticket, block: w.block, decidedAt: this.#now(), ...stripUndefined({ ...d, revision }) };
    const k = key(w.ticket, w.block.hash);
    this.#active.delete(k);
    this.#graced.get(k)?.();
    this.#graced.delete(k);
    if (![...this.#active.keys()].some((ak) => ak.endsWith(w.block.hash))) this.#stopWatch(w.block.hash);
    if (!(await this.#o.ledger.recordOutcome(rec))) return;
    this.#o.stages?.decided(w, rec, deciding);
    const wallet = w.wallet;
    this.#alerts.clear(atRiskKey(w.ticket, w.block.hash), { wallet, ticket: w.ticket, height: w.block.height, outcome: rec.reason ? `${rec.outcome} (${rec.reason})` : rec.outcome });
    if (prev?.outcome) this.#countRevision(wallet, prev.outcome, rec.outcome);
    this.#o.metrics.votesTotal.inc({ wallet, outcome: rec.outcome });
    const fields = { event: 'vote_outcome', wallet, ticket: w.ticket, block: w.block, outcome: rec.outcome, reason: rec.reason, voteTxid: rec.voteTxid, includedIn: rec.includedIn, voteSeenMs: rec.voteSeenMs };
    if (rec.outcome === 'voted') {
      this.#log.info(fields, `voted: ticket ${short(w.ticket)} (wallet ${wallet}) voted on block ${w.block.height}, included in block ${rec.includedIn?.height}`);
    } else if (rec.outcome === 'missed') {
      const reason = rec.reason as MissReason;
      this.#o.metrics.missedVotesTotal.inc({ wallet, reason });
      this.#log.error(fields, `MISSED VOTE: ticket ${short(w.ticket)} (wallet ${wallet}) won in block ${w.block.height}: ${reason}: ${describeMiss(reason)}`);
      this.#alerts.event(`vote_missed:${w.ticket}:${w.block.hash}`, 'critical', `MISSED VOTE: ticket ${short(w.ticket)} of wallet ${wallet}`, {
        wallet,
        ticket: w.ticket,
        height: w.block.height,
        block: w.block.hash,
        reason,
        explanation: describeMiss(reason),
      });
    } else if (prev?.outcome) {
      this.#log.warn(
        { ...fields, revisedFrom: prev.outcome.outcome, revisedReason: prev.outcome.reason },
        `revised: ticket ${short(w.ticket)} (wallet ${wallet}) was recorded ${prev.outcome.outcome}${prev.outcome.reason ? ` (${prev.outcome.reason})` : ''}, but block ${w.block.height} it won in was reorganised away: superseded`,
      );
    } else {
      this.#log.warn(fields, `superseded: block ${w.block.height} was reorganised away, so ticket ${short(w.ticket)} no longer votes on it`);
    }
  }

  /**
   * The block that decided this outcome is gone but the ticket's own block
   * stays, or the ticket's block came back after a reorg superseded it:
   * withdraw the outcome; the next block at that height decides again.
   */
  async #reopen(entry: LedgerEntry, because: BlockRef): Promise<void> {
    const o = entry.outcome;
    if (!o) return;
    const w = entry.winner;
    const ok = await this.#o.ledger.recordReopen({ kind: 'reopened', ticket: w.ticket, block: w.block, revision: (entry.revision ?? 0) + 1, because: { hash: because.hash, height: because.height }, at: this.#now() });
    if (!ok) return;
    this.#countRevision(w.wallet, o, 'reopened');
    this.#graceOver.delete(key(w.ticket, w.block.hash));
    // What the mempool showed still counts for the new decision.
    this.#active.set(key(w.ticket, w.block.hash), {
      wallet: w.wallet,
      seen: o.voteTxid && o.voteSeenMs !== undefined ? { txid: o.voteTxid, afterMs: o.voteSeenMs } : null,
      atDeadline: null,
      reachedAt: o.voteSeenMs !== undefined ? w.notifiedAt + o.voteSeenMs : null,
    });
    this.#log.warn(
      { event: 'vote_outcome_reopened', wallet: w.wallet, ticket: w.ticket, block: w.block, was: o.outcome, reason: o.reason, because },
      o.outcome === 'superseded'
        ? `reopened: block ${w.block.height} that ticket ${short(w.ticket)} (wallet ${w.wallet}) won in is back on the main chain; the next block decides its vote`
        : `reopened: ticket ${short(w.ticket)} (wallet ${w.wallet}) was recorded ${o.outcome}${o.reason ? ` (${o.reason})` : ''} on block ${because.height}, which was reorganised away; the new block at that height decides again`,
    );
  }

  /** A block that was disconnected is on the main chain again (A → B → A): its winners are live again. */
  async #reopenReturned(block: BlockRef): Promise<void> {
    for (const entry of this.#o.ledger.recent(REVISION_WINDOW)) {
      if (entry.winner.block.hash === block.hash && entry.outcome?.outcome === 'superseded') await this.#reopen(entry, block);
    }
  }

  #countRevision(wallet: string, from: OutcomeRecord, to: string): void {
    this.#o.metrics.outcomesRevisedTotal.inc({ wallet, from: from.outcome, to });
    if (from.outcome === 'missed' && from.reason) this.#o.metrics.missedVotesRevisedTotal.inc({ wallet, reason: from.reason });
  }

  #stopWatch(blockHash: string): void {
    this.#watches.get(blockHash)?.stop();
    this.#watches.delete(blockHash);
  }

  async #catchUp(): Promise<void> {
    const best = await this.#o.chain.getBestBlock();
    const cursor = this.#o.cursor.load();
    const max = this.#o.maxCatchUpBlocks ?? 4096;
    if (cursor && cursor.height < best.height) {
      const from = Math.max(cursor.height + 1, best.height - max + 1);
      if (from > cursor.height + 1) {
        this.#log.error(
          { event: 'catch_up_truncated', cursor, from, to: best.height },
          `blocks ${cursor.height + 1}–${from - 1} passed while dcrvoted was not listening and are beyond the catch-up window of ${max} blocks: winners in them are not examined`,
        );
      }
      for (let h = from; h <= best.height; h++) {
        await this.#scanMissedBlock(await this.#o.chain.getBlockVotes(await this.#o.chain.getBlockHash(h)));
      }
      this.#log.info({ event: 'catch_up', from, to: best.height }, `examined ${best.height - from + 1} block(s) connected while dcrvoted was not listening`);
    }
    this.#processed = { hash: best.hash, height: best.height, previousHash: '' };
    await this.#resolvePending(best);
    await this.#o.cursor.save(this.#cursorTarget(best));
  }

  /**
   * A block we did not watch live: its votes show which of our tickets voted
   * on its parent, and (with automatic revocations, DCP0009) its revocations
   * show which of the parent's winners missed or expired.
   */
  async #scanMissedBlock(bv: BlockVotes): Promise<void> {
    const parent = { hash: bv.block.previousHash, height: bv.block.height - 1 };
    const at = bv.block.time * 1000;
    const here = { hash: bv.block.hash, height: bv.block.height };
    for (const v of bv.votes) {
      if (this.#o.ledger.get(v.ticketHash, v.votedBlock.hash)) continue;
      const found: FoundAfter = { voted: { txid: v.txid, includedIn: here } };
      const answer = await this.#o.owners.findOwner(v.ticketHash);
      if (answer.owner === null) {
        if (answer.unreachable.length > 0) this.#defer(v.ticketHash, v.votedBlock, at, answer.unreachable, found);
        continue;
      }
      await this.#recordDeferred({ ticket: v.ticketHash, block: v.votedBlock, notifiedAt: at, found }, answer.owner, UNOBSERVED);
    }
    for (const r of bv.revocations) {
      if (this.#o.ledger.get(r.ticketHash, parent.hash)) continue;
      const found: FoundAfter = { revokedIn: here };
      const answer = await this.#o.owners.findOwner(r.ticketHash);
      if (answer.owner === null) {
        if (answer.unreachable.length > 0) this.#defer(r.ticketHash, parent, at, answer.unreachable, found);
        continue;
      }
      // The wallet went away between the two questions: keep asking.
      if (!(await this.#recordDeferred({ ticket: r.ticketHash, block: parent, notifiedAt: at, found }, answer.owner, UNOBSERVED))) this.#defer(r.ticketHash, parent, at, [answer.owner], found);
    }
  }

  #updatePending(): void {
    const counts = new Map<string, number>(this.#o.walletNames.map((w) => [w, 0]));
    for (const e of this.#o.ledger.pending()) counts.set(e.winner.wallet, (counts.get(e.winner.wallet) ?? 0) + 1);
    for (const [wallet, n] of counts) this.#o.metrics.votesPending.set({ wallet }, n);
  }
}

/** The block an outcome was decided on; records from before decidedBy existed were decided by the next block. */
function decidingBlockHash(e: LedgerEntry, disconnected: BlockRef): string | undefined {
  const o = e.outcome;
  if (!o) return undefined;
  if (o.decidedBy) return o.decidedBy.hash;
  if (o.includedIn) return o.includedIn.hash;
  return e.winner.block.height === disconnected.height - 1 ? disconnected.hash : undefined;
}

function defaultSchedule(ms: number, fn: () => void): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

function key(ticket: string, blockHash: string): string {
  return `${ticket}:${blockHash}`;
}

function short(hash: string): string {
  return hash.slice(0, 12);
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}


function atRiskKey(ticket: string, blockHash: string): string {
  return `vote_at_risk:${ticket}:${blockHash}`;
}

export type { LedgerEntry };
