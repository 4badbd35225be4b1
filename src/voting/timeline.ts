// Each vote's timeline: when each dcrd node announced the winners, when
// dcrvoted's vote was built, signed and accepted by each node, when each
// node's mempool was seen holding it, and the block that decided it. Fed by
// events from the pool, the chain tracker, the caster, the rebroadcaster and
// the vote tracker, in whatever order they come; nothing here is on the
// vote's path: each event only stores a timestamp, and the record is
// assembled and written later (deferred), after the outcome is recorded.
// An event that comes after the outcome (a cast that finished after the
// next block: a lost race) rewrites the timeline, a bounded number of times.

import type { Logger } from 'pino';
import { trimOldest } from '../bounded.js';
import type { BlockRef } from '../domain.js';
import { errorMessage } from '../errors.js';
import { TIMELINE_LIMITS, type NodeTime, type TimelineCaster, type TimelineRecord } from '../ledger/ledger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { CastStages } from '../vote/caster.js';
import type { OutcomeRecord, WinnerRecord } from './ports.js';
import type { DecidingBlock } from './tracker.js';

/** The stages /metrics reports, each in seconds after the first notification (notified: each other node's delay). */
export const TIMELINE_STAGES = ['notified', 'built', 'signed', 'accepted', 'mempool', 'next_block'] as const;
export type TimelineStage = (typeof TIMELINE_STAGES)[number];

export interface TimelineSink {
  recordTimeline(r: TimelineRecord): Promise<boolean>;
}

export interface VoteTimelinesOptions {
  ledger: TimelineSink;
  metrics: Metrics;
  logger: Logger;
  /** The wallet's votingMode: who builds and signs its votes. */
  casterOf(wallet: string): TimelineCaster;
  now?: () => number;
  /** Runs the assembly later; setImmediate unless a test steps it by hand. */
  defer?: (job: () => void) => void;
}

interface Notifications {
  first?: { node: string; at: number };
  others: Map<string, number>;
}

interface VoteStages {
  cast?: CastStages;
  castFailed?: string;
  /** Earliest time each node was seen holding the vote. */
  mempool: Map<string, number>;
  resent: Map<string, number>;
  decided?: { winner: WinnerRecord; next: DecidingBlock | null };
  writes: number;
  /** Stages already observed in /metrics, so a rewrite does not count them twice. */
  observed: Set<string>;
  scheduled: boolean;
}

const BLOCKS_KEPT = 64;
const VOTES_KEPT = 1024;
/** Writes per vote at most: once at the outcome, then again (twice at most) for stages that came after it. */
const MAX_WRITES = 3;

export class VoteTimelines {
  readonly #o: VoteTimelinesOptions;
  readonly #blocks = new Map<string, Notifications>();
  readonly #votes = new Map<string, VoteStages>();
  readonly #defer: (job: () => void) => void;

  constructor(opts: VoteTimelinesOptions) {
    this.#o = opts;
    this.#defer = opts.defer ?? ((job) => void setImmediate(job));
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** The first dcrd's winningtickets for a block (the chain tracker acts on this one). */
  notified(blockHash: string, node: string, at: number): void {
    const n = this.#block(blockHash);
    n.first = { node, at };
    n.others.delete(node);
  }

  /** Another node's copy of a block's winningtickets, which the pool drops. */
  notifiedAgain(blockHash: string, node: string, at: number = this.#now()): void {
    const n = this.#block(blockHash);
    if (n.first?.node === node) return; // the same node repeating itself
    const known = n.others.get(node);
    if (known === undefined || at < known) n.others.set(node, at);
  }

  castDone(ticket: string, block: BlockRef, stages: CastStages): void {
    const v = this.#vote(ticket, block.hash);
    v.cast = stages;
    this.#touch(v);
  }

  castFailed(ticket: string, block: BlockRef, reason: string): void {
    const v = this.#vote(ticket, block.hash);
    v.castFailed = reason.slice(0, TIMELINE_LIMITS.error);
    this.#touch(v);
  }

  /** A node's mempool held the vote at `at` (it got there at or before then). */
  inMempool(ticket: string, blockHash: string, node: string, at: number): void {
    const v = this.#vote(ticket, blockHash);
    const known = v.mempool.get(node);
    if (known !== undefined && known <= at) return;
    v.mempool.set(node, at);
    this.#touch(v);
  }

  resent(ticket: string, blockHash: string, node: string, at: number): void {
    const v = this.#vote(ticket, blockHash);
    if (!v.resent.has(node)) v.resent.set(node, at);
    this.#touch(v);
  }

  decided(winner: WinnerRecord, _outcome: OutcomeRecord, next: DecidingBlock | null): void {
    const v = this.#vote(winner.ticket, winner.block.hash);
    v.decided = { winner, next };
    this.#touch(v);
  }

  /** The record as it would be written now, or null before the outcome. */
  assemble(ticket: string, blockHash: string): TimelineRecord | null {
    const v = this.#votes.get(key(ticket, blockHash));
    return v?.decided ? this.#assemble(v, v.decided.winner, v.decided.next) : null;
  }

  #block(hash: string): Notifications {
    let n = this.#blocks.get(hash);
    if (!n) {
      n = { others: new Map() };
      this.#blocks.set(hash, n);
      trimOldest(this.#blocks, BLOCKS_KEPT);
    }
    return n;
  }

  #vote(ticket: string, blockHash: string): VoteStages {
    const k = key(ticket, blockHash);
    let v = this.#votes.get(k);
    if (!v) {
      v = { mempool: new Map(), resent: new Map(), writes: 0, observed: new Set(), scheduled: false };
      this.#votes.set(k, v);
      trimOldest(this.#votes, VOTES_KEPT);
    }
    return v;
  }

  /** Something changed: once the outcome is known, (re)write the record later. */
  #touch(v: VoteStages): void {
    if (!v.decided || v.scheduled || v.writes >= MAX_WRITES) return;
    v.scheduled = true;
    this.#defer(() => {
      v.scheduled = false;
      this.#write(v);
    });
  }

  #write(v: VoteStages): void {
    if (!v.decided) return;
    const { winner, next } = v.decided;
    // A winner found after the fact (its block went by while dcrvoted was not listening) has nothing to show.
    if (!this.#observedAnything(v, winner.block.hash, next)) return;
    const rec = this.#assemble(v, winner, next);
    v.writes++;
    this.#observe(v, winner.wallet, rec);
    this.#o.ledger.recordTimeline(rec).catch((err: unknown) => {
      this.#o.logger.warn({ event: 'timeline_not_recorded', ticket: winner.ticket, block: winner.block, err: { message: errorMessage(err) } }, `could not record the timeline of ticket ${winner.ticket.slice(0, 12)}'s vote: ${errorMessage(err)}`);
    });
  }

  #observedAnything(v: VoteStages, blockHash: string, next: DecidingBlock | null): boolean {
    const n = this.#blocks.get(blockHash);
    return Boolean(n?.first || n?.others.size || v.cast || v.castFailed !== undefined || v.mempool.size || v.resent.size || next);
  }

  #assemble(v: VoteStages, winner: WinnerRecord, next: DecidingBlock | null): TimelineRecord {
    const t0 = winner.notifiedAt;
    const n = this.#blocks.get(winner.block.hash);
    // Other nodes' delays are against the first node's copy; without it, against the notification the winner was recorded at.
    const firstAt = n?.first?.at ?? t0;
    const rec: TimelineRecord = {
      kind: 'timeline',
      ticket: winner.ticket,
      block: { hash: winner.block.hash, height: winner.block.height },
      notifiedAt: t0,
      otherNodes: nodeTimes(n?.others ?? new Map(), firstAt),
      caster: this.#o.casterOf(winner.wallet),
      accepted: [],
      rejected: [],
      mempool: nodeTimes(v.mempool, t0),
      rebroadcast: nodeTimes(v.resent, t0),
    };
    if (n?.first) rec.firstNode = name(n.first.node);
    if (v.cast) {
      rec.builtMs = ms(v.cast.builtAt - t0);
      rec.signedMs = ms(v.cast.signedAt - t0);
      rec.signer = v.cast.signer;
      const nodes = [...v.cast.nodes].sort((a, b) => a.at - b.at).slice(0, TIMELINE_LIMITS.nodes);
      rec.accepted = nodes.filter((x) => x.ok).map((x) => ({ node: name(x.node), ms: ms(x.at - t0) }));
      rec.rejected = nodes.filter((x) => !x.ok).map((x) => ({ node: name(x.node), ms: ms(x.at - t0), error: (x.error ?? 'rejected').slice(0, TIMELINE_LIMITS.error) }));
    }
    if (v.castFailed !== undefined) rec.castFailed = v.castFailed;
    if (next) {
      rec.nextBlock = { hash: next.block.hash, height: next.block.height, votes: next.votes };
      if (next.arrivedAt !== null) rec.nextBlock.ms = ms(next.arrivedAt - t0);
    }
    return rec;
  }

  #observe(v: VoteStages, wallet: string, rec: TimelineRecord): void {
    const h = this.#o.metrics.voteStageSeconds;
    const once = (stage: TimelineStage, seconds: number | undefined, id: string = stage): void => {
      if (seconds === undefined || v.observed.has(id)) return;
      v.observed.add(id);
      h.observe({ wallet, stage }, Math.max(0, seconds));
    };
    for (const o of rec.otherNodes) once('notified', o.ms / 1000, `notified:${o.node}`);
    once('built', sec(rec.builtMs));
    once('signed', sec(rec.signedMs));
    once('accepted', sec(rec.accepted[0]?.ms));
    once('mempool', sec(rec.mempool[0]?.ms));
    once('next_block', sec(rec.nextBlock?.ms));
  }
}

function nodeTimes(times: ReadonlyMap<string, number>, from: number): NodeTime[] {
  return [...times]
    .sort((a, b) => a[1] - b[1])
    .slice(0, TIMELINE_LIMITS.nodes)
    .map(([node, at]) => ({ node: name(node), ms: ms(at - from) }));
}

/** Tenths of a millisecond: finer than the clock, coarse enough to keep the record short. */
function ms(x: number): number {
  return Math.round(x * 10) / 10;
}

function sec(x: number | undefined): number | undefined {
  return x === undefined ? undefined : x / 1000;
}

function name(node: string): string {
  return node.slice(0, TIMELINE_LIMITS.name);
}

function key(ticket: string, blockHash: string): string {
  return `${ticket}:${blockHash}`;
}
