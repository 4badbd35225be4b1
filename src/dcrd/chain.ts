// The chain as dcrvoted sees it: the only subscriber to the dcrd node pool.
// It owns the tip, when the last block arrived, each node's connection state
// and the network check, sets every dcrd-side metric and logs connects and
// losses; everything that reacts to blocks (the vote tracker, the
// supervisors, the caster's chain adapter) subscribes to its typed events
// instead of to dcrd.
//
// Events are emitted synchronously in the order dcrd sent them, so a
// subscriber that queues its work keeps dcrd's order.

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BlockRef, NetworkName } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { DcrdPool } from './pool.js';
import type { DcrdRpc } from './rpc.js';

/** A block as blockconnected/blockdisconnected describe it. */
export interface ChainBlock extends BlockRef {
  previousHash: string;
}

export interface ChainEvents {
  /** The winning tickets of a block (main or side chain), first report only. */
  winners: [{ block: BlockRef; tickets: string[]; receivedAt: number; node: string }];
  blockConnected: [{ block: ChainBlock; receivedAt: number; node: string }];
  blockDisconnected: [{ block: ChainBlock; receivedAt: number; node: string }];
  /** A node (re)connected, subscribed and is on our network: look at what passed meanwhile. */
  reconnected: [{ node: string; first: boolean }];
  /** A problem no retry fixes (a node on another network). */
  fatal: [{ message: string; exitCode: number }];
}

export interface ChainTrackerOptions {
  pool: DcrdPool;
  rpc: DcrdRpc;
  network: NetworkName;
  /** Each node's name and address, the primary first. */
  nodes: readonly { name: string; address: string }[];
  metrics: Metrics;
  logger: Logger;
  /** EXIT_CONFIG: a node on another network is a configuration error. */
  configErrorExitCode: number;
  now?: () => number;
}

export interface ChainView {
  connected: boolean;
  bestBlock: BlockRef | null;
  lastBlockAt: string | null;
  reconnects: number;
  nodes: { name: string; address: string; connected: boolean }[];
}

export class ChainTracker extends EventEmitter<ChainEvents> {
  readonly #o: ChainTrackerOptions;
  readonly #log: Logger;
  #tip: BlockRef | null = null;
  #lastBlockAt: number | null = null;
  #stopping = false;

  constructor(opts: ChainTrackerOptions) {
    super();
    this.#o = opts;
    this.#log = opts.logger.child({ component: 'chain' });
    this.#initMetrics();
    this.#subscribe();
  }

  /** dcrd's best block as last notified. */
  get tip(): BlockRef | null {
    return this.#tip;
  }

  /** When the last block was connected (ms epoch); null before the first. */
  get lastBlockAt(): number | null {
    return this.#lastBlockAt;
  }

  get isConnected(): boolean {
    return this.#o.pool.isConnected;
  }

  get lastError(): Error | null {
    return this.#o.pool.lastError;
  }

  start(): void {
    this.#o.pool.start();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#o.pool.close();
  }

  view(): ChainView {
    const connected = new Set(this.#o.pool.connectedNodes());
    const tip = this.#tip;
    return {
      connected: this.#o.pool.isConnected,
      bestBlock: tip ? { hash: tip.hash, height: tip.height } : null,
      lastBlockAt: this.#lastBlockAt ? new Date(this.#lastBlockAt).toISOString() : null,
      reconnects: this.#o.pool.reconnects,
      nodes: this.#o.nodes.map((n) => ({ name: n.name, address: n.address, connected: connected.has(n.name) })),
    };
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #address(node: string): string {
    return this.#o.nodes.find((n) => n.name === node)?.address ?? node;
  }

  #peer(node: string): string {
    return node === this.#o.nodes[0]?.name ? 'dcrd' : `dcrd:${node}`;
  }

  #initMetrics(): void {
    const m = this.#o.metrics;
    m.dcrdConnected.set(0);
    for (const n of this.#o.nodes) {
      m.dcrdNodeConnected.set({ node: n.name }, 0);
      m.reconnectsTotal.inc({ peer: this.#peer(n.name) }, 0);
    }
  }

  #setTip(block: BlockRef): void {
    this.#tip = { hash: block.hash, height: block.height };
    this.#o.metrics.dcrdBestBlockHeight.set(block.height);
  }

  #subscribe(): void {
    const { pool, metrics: m } = this.#o;
    const log = this.#log;
    pool.on('connected', ({ node, first }) => {
      m.dcrdConnected.set(1);
      m.dcrdNodeConnected.set({ node }, 1);
      if (!first) m.reconnectsTotal.inc({ peer: this.#peer(node) });
      log.info({ event: 'dcrd_connected', node, first }, `${first ? 'connected' : 'reconnected'} to dcrd ${node} at ${this.#address(node)}; subscribed to winning tickets and blocks`);
      void this.#checkAndAnnounce(node, first);
    });
    pool.on('disconnected', ({ node, reason, anyConnected }) => {
      m.dcrdNodeConnected.set({ node }, 0);
      m.dcrdConnected.set(anyConnected ? 1 : 0);
      if (this.#stopping) return;
      if (anyConnected) {
        log.warn({ event: 'dcrd_disconnected', node, reason }, `lost dcrd ${node} at ${this.#address(node)}: ${reason}; reconnecting (still connected to ${pool.connectedNodes().join(', ')})`);
      } else {
        log.error({ event: 'dcrd_disconnected', node, reason }, `lost dcrd ${node} at ${this.#address(node)}: ${reason}; no dcrd node is connected — reconnecting`);
      }
    });
    pool.on('connectFailed', ({ node, error, attempt, retryInMs }) => {
      const level = attempt <= 1 || error.kind === 'auth' || error.kind === 'tls' ? 'error' : 'debug';
      log[level]({ event: 'dcrd_connect_failed', node, kind: error.kind, attempt, retryInMs }, `cannot connect to dcrd ${node}: ${error.message} (retry in ${Math.round(retryInMs / 1000)} s)`);
    });
    pool.on('malformed', ({ node, reason, method, raw }) => {
      m.malformedNotificationsTotal.inc({ method: method ?? 'unknown' });
      log.warn({ event: 'malformed_notification', node, method, reason, raw: raw.slice(0, 200) }, `dropped a notification from dcrd ${node} that could not be understood: ${reason}`);
    });
    pool.on('notification', (n) => {
      const receivedAt = this.#now();
      switch (n.kind) {
        case 'winningtickets':
          this.emit('winners', { block: n.block, tickets: n.tickets, receivedAt, node: n.node });
          break;
        case 'blockconnected': {
          this.#setTip(n.block);
          this.#lastBlockAt = receivedAt;
          m.lastBlockTimestampSeconds.set(Math.floor(receivedAt / 1000));
          this.emit('blockConnected', { block: { ...n.block, previousHash: n.previousHash }, receivedAt, node: n.node });
          break;
        }
        case 'blockdisconnected':
          log.warn({ event: 'block_disconnected', block: n.block }, `block ${n.block.height} ${n.block.hash} was disconnected (reorg)`);
          // The pool merges every node's stream: a node leaving its own fork
          // (a block another node never had) disconnects a block that is not
          // our tip, and its reconnects onto the winning branch are copies the
          // pool drops. Stepping the tip back then would leave it below every
          // node's real tip, and each wallet would look out of sync.
          if (this.#tip?.hash === n.block.hash) this.#setTip({ hash: n.previousHash, height: n.block.height - 1 });
          this.emit('blockDisconnected', { block: { ...n.block, previousHash: n.previousHash }, receivedAt, node: n.node });
          break;
      }
    });
  }

  /** A node on another network must never feed the vote path. */
  async #checkAndAnnounce(node: string, first: boolean): Promise<void> {
    const rpc = this.#o.rpc;
    try {
      const net = await rpc.getNetworkName();
      if (net !== this.#o.network) {
        if (!this.#stopping) {
          this.emit('fatal', {
            message: `dcrd ${node} at ${this.#address(node)} is on ${net}, but dcrvoted is configured for ${this.#o.network} (config key network, dcrd.address or dcrd.additionalNodes)`,
            exitCode: this.#o.configErrorExitCode,
          });
        }
        return;
      }
    } catch (err) {
      this.#log.warn({ err: { message: errorMessage(err) } }, 'could not ask dcrd for its network');
    }
    try {
      this.#setTip(await rpc.getBestBlock());
    } catch (err) {
      this.#log.debug({ err: { message: errorMessage(err) } }, 'could not ask dcrd for its best block');
    }
    this.emit('reconnected', { node, first });
  }
}
