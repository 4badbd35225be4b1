// Is every configured dcrd on the chain the rest of the network is on?
//
// dcrd sends winningtickets only while it considers itself current, so a
// dcrd that lags, sits on a fork or has fallen out of sync stops every vote
// without a word. The chain tracker (chain.ts) owns the tip as notified;
// this guard asks each node directly (getblockchaininfo, getpeerinfo, and
// getblockhash where two nodes' tips must be compared) on a schedule and
// compares the nodes with each other and with their p2p peers:
//
// - lagging: 2 or more blocks below the highest height any configured node,
//   any of their peers (currentheight) or the node's own best header claims;
// - forked: two configured nodes hold different blocks at the same height;
// - not_current: dcrd itself says so (initialblockdownload).
//
// A finding turns into a problem (not ready, metric, alert) only when it
// lasts longer than the grace period: a node catching up after a restart or
// a one-block tie between miners is normal for a short while.

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';

/** Blocks behind that count as lagging (one block behind is a block in flight). */
export const MIN_BLOCKS_BEHIND = 2;

export const SYNC_PROBLEM_KINDS = ['lagging', 'forked', 'not_current'] as const;
export type SyncProblemKind = (typeof SYNC_PROBLEM_KINDS)[number];

/** What one node says of itself, from getblockchaininfo and getpeerinfo. */
export interface NodeChainInfo {
  node: string;
  height: number;
  hash: string;
  /** Height of the best header it knows (it has not got those blocks yet). */
  headers: number;
  /** !initialblockdownload: dcrd considers itself current. */
  current: boolean;
  /** Its p2p peers' last announced heights (getpeerinfo currentheight). */
  peers: { addr: string; height: number }[];
}

export interface SyncFinding {
  node: string;
  kind: SyncProblemKind;
  /** One line naming the heights and hashes involved. */
  message: string;
  height: number;
  hash: string;
  /** lagging: the height it is measured against, and who claims it. */
  reference?: { height: number; source: string };
  /** forked: the other node and its block at the same height. */
  fork?: { height: number; otherNode: string; otherHash: string };
}

/** A block hash one node has at a height, for comparing a lower node's tip with a higher node's chain. */
export interface HashLookup {
  node: string;
  height: number;
}

const lookupKey = (node: string, height: number) => `${node}@${height}`;

/** The heights at which a higher node's chain must be read to see whether a lower node's tip is on it. */
export function forkLookups(infos: readonly NodeChainInfo[]): HashLookup[] {
  const out: HashLookup[] = [];
  for (const low of infos) {
    for (const high of infos) if (high.height > low.height) out.push({ node: high.node, height: low.height });
  }
  return out;
}

/**
 * Pure verdict on what the nodes report. `hashes` holds the answers to
 * forkLookups (node@height → hash); a missing answer is no evidence.
 */
export function assessSync(infos: readonly NodeChainInfo[], hashes: ReadonlyMap<string, string>): SyncFinding[] {
  const findings: SyncFinding[] = [];
  for (const n of infos) {
    const ref = referenceFor(n, infos);
    const behind = ref.height - n.height;
    if (behind >= MIN_BLOCKS_BEHIND) {
      findings.push({
        node: n.node,
        kind: 'lagging',
        height: n.height,
        hash: n.hash,
        reference: ref,
        message: `dcrd ${n.node} is ${behind} blocks behind: its tip is height ${n.height} (${n.hash}) while ${ref.source} is at height ${ref.height}`,
      });
    }
    if (!n.current) {
      findings.push({
        node: n.node,
        kind: 'not_current',
        height: n.height,
        hash: n.hash,
        message: `dcrd ${n.node} does not consider itself current (initialblockdownload) at height ${n.height} (${n.hash}): it sends no winning tickets, so no vote is seen through it`,
      });
    }
  }
  for (const a of infos) {
    for (const b of infos) {
      if (a === b) continue;
      // b's block at a's height: b's tip itself, or read from b's chain.
      const bHash = b.height === a.height ? b.hash : b.height > a.height ? hashes.get(lookupKey(b.node, a.height)) : undefined;
      if (bHash === undefined || bHash === a.hash) continue;
      findings.push({
        node: a.node,
        kind: 'forked',
        height: a.height,
        hash: a.hash,
        fork: { height: a.height, otherNode: b.node, otherHash: bHash },
        message: `dcrd ${a.node} and dcrd ${b.node} disagree at height ${a.height}: ${a.node} has ${a.hash}, ${b.node} has ${bHash}`,
      });
      break; // one counterpart names the fork; more would repeat it
    }
  }
  return findings;
}

function referenceFor(n: NodeChainInfo, infos: readonly NodeChainInfo[]): { height: number; source: string } {
  let best = { height: n.height, source: `dcrd ${n.node}` };
  const consider = (height: number, source: string) => {
    if (height > best.height) best = { height, source };
  };
  consider(n.headers, `dcrd ${n.node}'s own best header`);
  for (const o of infos) {
    if (o !== n) consider(o.height, `dcrd ${o.node}`);
    for (const p of o.peers) consider(p.height, `peer ${p.addr} of dcrd ${o.node}`);
  }
  return best;
}

// ------------------------------------------------------------ the driver --

/** Asks one named dcrd node. */
export type NodeRequest = (node: string, method: string, params: readonly unknown[]) => Promise<unknown>;

export interface SyncProblemEvent {
  node: string;
  kind: SyncProblemKind;
  message: string;
  /** When the finding was first seen (ms epoch). */
  since: number;
  finding: SyncFinding;
}

export interface SyncGuardEvents {
  /** A finding outlasted the grace period: the node is a problem now. */
  problem: [SyncProblemEvent];
  /** A problem is gone. */
  recovered: [{ node: string; kind: SyncProblemKind; message: string; since: number; durationMs: number }];
}

export interface SyncNodeView {
  name: string;
  /** null: not asked yet, or it did not answer. */
  height: number | null;
  hash: string | null;
  current: boolean | null;
  blocksBehind: number | null;
  peers: number | null;
  problems: { kind: SyncProblemKind; message: string; since: string; active: boolean }[];
}

export interface SyncGuardView {
  checkedAt: string | null;
  graceMs: number;
  nodes: SyncNodeView[];
}

export interface SyncGuardOptions {
  nodes: readonly string[];
  request: NodeRequest;
  /** Only connected nodes are asked; a lost node is the chain tracker's to report. */
  connectedNodes: () => string[];
  metrics: Metrics;
  logger: Logger;
  intervalMs: number;
  graceMs: number;
  now?: () => number;
}

interface Tracked {
  finding: SyncFinding;
  since: number;
  active: boolean;
}

export class SyncGuard extends EventEmitter<SyncGuardEvents> {
  readonly #o: SyncGuardOptions;
  readonly #log: Logger;
  readonly #tracked = new Map<string, Tracked>();
  readonly #infos = new Map<string, NodeChainInfo>();
  readonly #behind = new Map<string, number>();
  readonly #forkSeries = new Map<string, Record<string, string>>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #checkedAt: number | null = null;

  constructor(opts: SyncGuardOptions) {
    super();
    this.#o = opts;
    this.#log = opts.logger.child({ component: 'sync-guard' });
    for (const node of opts.nodes) {
      for (const kind of SYNC_PROBLEM_KINDS) opts.metrics.dcrdSyncProblem.set({ node, kind }, 0);
    }
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One round: ask every connected node, compare, update problems. Rounds never overlap. */
  check(): Promise<void> {
    this.#running ??= this.#round().finally(() => (this.#running = null));
    return this.#running;
  }

  /** Why dcrd is not fit to vote through, one line per problem past its grace period. */
  reasons(): string[] {
    const now = this.#now();
    return [...this.#tracked.values()]
      .filter((t) => t.active)
      .map((t) => `${t.finding.message} (for ${Math.round((now - t.since) / 1000)} s)`);
  }

  view(): SyncGuardView {
    return {
      checkedAt: this.#checkedAt === null ? null : new Date(this.#checkedAt).toISOString(),
      graceMs: this.#o.graceMs,
      nodes: this.#o.nodes.map((name) => {
        const info = this.#infos.get(name);
        return {
          name,
          height: info?.height ?? null,
          hash: info?.hash ?? null,
          current: info?.current ?? null,
          blocksBehind: info ? (this.#behind.get(name) ?? 0) : null,
          peers: info?.peers.length ?? null,
          problems: [...this.#tracked.values()]
            .filter((t) => t.finding.node === name)
            .map((t) => ({ kind: t.finding.kind, message: t.finding.message, since: new Date(t.since).toISOString(), active: t.active })),
        };
      }),
    };
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async #round(): Promise<void> {
    const connected = new Set(this.#o.connectedNodes());
    const asked = this.#o.nodes.filter((n) => connected.has(n));
    const answers = await Promise.all(asked.map((n) => this.#ask(n)));
    const infos = answers.filter((a): a is NodeChainInfo => a !== null);
    const hashes = new Map<string, string>();
    await Promise.all(
      forkLookups(infos).map(async ({ node, height }) => {
        try {
          const hash = await this.#o.request(node, 'getblockhash', [height]);
          if (typeof hash === 'string') hashes.set(lookupKey(node, height), hash);
        } catch (err) {
          this.#log.debug({ node, height, err: { message: errorMessage(err) } }, 'could not read a block hash to compare tips');
        }
      }),
    );
    this.#checkedAt = this.#now();
    this.#infos.clear();
    for (const i of infos) this.#infos.set(i.node, i);
    const answered = new Set(infos.map((i) => i.node));
    this.#apply(assessSync(infos, hashes), answered);
  }

  async #ask(node: string): Promise<NodeChainInfo | null> {
    try {
      const [chainInfo, peerInfo] = await Promise.all([
        this.#o.request(node, 'getblockchaininfo', []),
        this.#o.request(node, 'getpeerinfo', []),
      ]);
      return parseNodeChainInfo(node, chainInfo, peerInfo);
    } catch (err) {
      this.#log.warn({ event: 'sync_check_failed', node, err: { message: errorMessage(err) } }, `could not check whether dcrd ${node} is in sync: ${errorMessage(err)}`);
      return null;
    }
  }

  /** Findings of nodes that did not answer are kept as they were: silence is no recovery. */
  #apply(findings: SyncFinding[], answered: ReadonlySet<string>): void {
    const now = this.#now();
    const m = this.#o.metrics;
    this.#behind.clear();
    for (const i of this.#infos.values()) {
      const behind = referenceFor(i, [...this.#infos.values()]).height - i.height;
      this.#behind.set(i.node, behind);
      m.dcrdNodeHeight.set({ node: i.node }, i.height);
      m.dcrdBlocksBehind.set({ node: i.node }, behind);
    }
    const seen = new Set<string>();
    for (const f of findings) {
      const key = `${f.node}:${f.kind}`;
      seen.add(key);
      const t = this.#tracked.get(key);
      if (!t) {
        this.#tracked.set(key, { finding: f, since: now, active: false });
        this.#log.warn({ event: 'dcrd_sync_suspect', node: f.node, kind: f.kind, finding: f }, `${f.message}; dcrvoted reports it not ready if this lasts ${Math.round(this.#o.graceMs / 1000)} s`);
        continue;
      }
      t.finding = f;
      if (t.active) this.#publishFork(key, t);
      else if (now - t.since >= this.#o.graceMs) this.#activate(key);
    }
    for (const [key, t] of [...this.#tracked]) {
      if (seen.has(key) || !answered.has(t.finding.node)) continue;
      this.#tracked.delete(key);
      const durationMs = now - t.since;
      if (!t.active) {
        this.#log.info({ event: 'dcrd_sync_suspect_cleared', node: t.finding.node, kind: t.finding.kind }, `dcrd ${t.finding.node} is no longer ${t.finding.kind.replace('_', ' ')} (it cleared within the grace period)`);
        continue;
      }
      m.dcrdSyncProblem.set({ node: t.finding.node, kind: t.finding.kind }, 0);
      this.#clearFork(key);
      const info = this.#infos.get(t.finding.node);
      const message = `dcrd ${t.finding.node} recovered: no longer ${t.finding.kind.replace('_', ' ')} after ${Math.round(durationMs / 1000)} s; tip height ${info?.height} (${info?.hash})`;
      this.#log.info({ event: 'dcrd_sync_recovered', node: t.finding.node, kind: t.finding.kind, durationMs }, message);
      this.emit('recovered', { node: t.finding.node, kind: t.finding.kind, message, since: t.since, durationMs });
    }
  }

  #activate(key: string): void {
    const t = this.#tracked.get(key);
    if (!t || t.active) return;
    t.active = true;
    const f = t.finding;
    this.#o.metrics.dcrdSyncProblem.set({ node: f.node, kind: f.kind }, 1);
    this.#publishFork(key, t);
    this.#log.error(
      { event: 'dcrd_sync_problem', node: f.node, kind: f.kind, finding: f, sinceMs: this.#now() - t.since },
      `DCRD OUT OF SYNC: ${f.message} for ${Math.round((this.#now() - t.since) / 1000)} s; winning tickets seen through it cannot be trusted to reach the network — dcrvoted is not ready`,
    );
    this.emit('problem', { node: f.node, kind: f.kind, message: f.message, since: t.since, finding: f });
  }

  /** dcrvoted_dcrd_fork_info carries the heights and hashes for the alert; one series per fork. */
  #publishFork(key: string, t: Tracked): void {
    const fork = t.finding.fork;
    if (!fork) return;
    const labels = { node: t.finding.node, height: String(fork.height), hash: t.finding.hash, other_node: fork.otherNode, other_hash: fork.otherHash };
    const old = this.#forkSeries.get(key);
    if (old && JSON.stringify(old) === JSON.stringify(labels)) return;
    this.#clearFork(key);
    this.#o.metrics.dcrdForkInfo.set(labels, 1);
    this.#forkSeries.set(key, labels);
  }

  #clearFork(key: string): void {
    const old = this.#forkSeries.get(key);
    if (!old) return;
    this.#o.metrics.dcrdForkInfo.remove(old);
    this.#forkSeries.delete(key);
  }
}

// ------------------------------------------------------------- parsing --

export class SyncAnswerError extends Error {
  constructor(node: string, what: string) {
    super(`dcrd ${node} answered ${what}`);
    this.name = 'SyncAnswerError';
  }
}

/**
 * Reads the fields the guard needs from dcrd's getblockchaininfo and
 * getpeerinfo answers (rpc/jsonrpc/types chainsvrresults.go:
 * GetBlockChainInfoResult, GetPeerInfoResult; currentheight is omitted
 * when 0).
 */
export function parseNodeChainInfo(node: string, chainInfo: unknown, peerInfo: unknown): NodeChainInfo {
  if (typeof chainInfo !== 'object' || chainInfo === null) throw new SyncAnswerError(node, 'getblockchaininfo with something that is not an object');
  const c = chainInfo as Record<string, unknown>;
  const height = c.blocks;
  const headers = c.headers;
  const hash = c.bestblockhash;
  const ibd = c.initialblockdownload;
  if (!Number.isSafeInteger(height) || typeof height !== 'number' || height < 0) throw new SyncAnswerError(node, 'getblockchaininfo without a valid "blocks" height');
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new SyncAnswerError(node, 'getblockchaininfo without a valid "bestblockhash"');
  if (typeof ibd !== 'boolean') throw new SyncAnswerError(node, 'getblockchaininfo without "initialblockdownload"');
  const headerHeight = typeof headers === 'number' && Number.isSafeInteger(headers) && headers >= 0 ? headers : height;
  if (!Array.isArray(peerInfo)) throw new SyncAnswerError(node, 'getpeerinfo with something that is not a list');
  const peers: NodeChainInfo['peers'] = [];
  for (const p of peerInfo as unknown[]) {
    if (typeof p !== 'object' || p === null) continue;
    const { addr, currentheight } = p as Record<string, unknown>;
    if (typeof addr !== 'string') continue;
    // A peer that announced nothing yet has no currentheight: no claim.
    if (typeof currentheight === 'number' && Number.isSafeInteger(currentheight) && currentheight > 0) peers.push({ addr, height: currentheight });
  }
  return { node, height, hash, headers: headerHeight, current: !ibd, peers };
}
