// Several dcrd nodes seen as one: every node is subscribed, a notification
// is acted on from whichever node reports it first (later copies are
// dropped), requests go to the first connected node in config order, and a
// vote is broadcast to all of them at once. Each dropped copy is still
// announced ('duplicate'), so a vote's timeline can show every node's
// delay. One node down is a warning; the pool is down only when no node is
// connected.

import { EventEmitter } from 'node:events';
import { trimOldest } from '../bounded.js';
import type { DcrdNotification } from './notifications.js';
import { DcrdClient, DcrdNotConnectedError, type DcrdClientOptions, type DcrdClientStats, type DcrdConnectError } from './ws-client.js';
import { errorMessage } from '../errors.js';

export interface PoolNode {
  name: string;
  client: DcrdClient;
}

export interface PoolEvents {
  connected: [{ node: string; first: boolean }];
  disconnected: [{ node: string; reason: string; anyConnected: boolean }];
  connectFailed: [{ node: string; error: DcrdConnectError; attempt: number; retryInMs: number }];
  notification: [DcrdNotification & { node: string }];
  /** A copy of a notification already delivered, just before it is dropped: how late each other node reported it. */
  duplicate: [{ node: string; kind: DcrdNotification['kind']; blockHash: string }];
  malformed: [{ node: string; raw: string; reason: string; method?: string }];
}

export interface BroadcastResult {
  node: string;
  ok: boolean;
  /** Milliseconds from the start of the broadcast to this node's answer. */
  ms: number;
  error?: string;
}

const DEDUP_WINDOW = 512;

/** What the pool and its clients refused or dropped, and how full the dedup window is. */
export interface PoolStats extends DcrdClientStats {
  /** Copies of a notification already delivered (from another node, or repeated by one). */
  duplicatesDropped: number;
  dedupEntries: number;
  dedupWindow: number;
}

export class DcrdPool extends EventEmitter<PoolEvents> {
  readonly nodes: PoolNode[];
  readonly #seen = new Set<string>();
  #duplicates = 0;

  constructor(nodes: { name: string; options: DcrdClientOptions }[]) {
    super();
    this.nodes = nodes.map(({ name, options }) => ({ name, client: new DcrdClient(options) }));
    for (const { name, client } of this.nodes) {
      client.on('connected', ({ first }) => this.emit('connected', { node: name, first }));
      client.on('disconnected', ({ reason }) => this.emit('disconnected', { node: name, reason, anyConnected: this.isConnected }));
      client.on('connectFailed', (f) => this.emit('connectFailed', { node: name, ...f }));
      client.on('malformed', (m) => this.emit('malformed', { node: name, ...m }));
      client.on('notification', (n) => this.#deliver(name, n));
    }
  }

  get isConnected(): boolean {
    return this.nodes.some((n) => n.client.isConnected);
  }

  get reconnects(): number {
    return this.nodes.reduce((sum, n) => sum + n.client.reconnects, 0);
  }

  get lastError(): DcrdConnectError | null {
    return this.nodes.map((n) => n.client.lastError).find((e) => e !== null) ?? null;
  }

  stats(): PoolStats {
    const sum: DcrdClientStats = { malformed: 0, oversized: 0, heldDropped: 0 };
    for (const { client } of this.nodes) {
      const s = client.stats();
      sum.malformed += s.malformed;
      sum.oversized += s.oversized;
      sum.heldDropped += s.heldDropped;
    }
    return { ...sum, duplicatesDropped: this.#duplicates, dedupEntries: this.#seen.size, dedupWindow: DEDUP_WINDOW };
  }

  connectedNodes(): string[] {
    return this.nodes.filter((n) => n.client.isConnected).map((n) => n.name);
  }

  start(): void {
    for (const n of this.nodes) n.client.start();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.client.close()));
  }

  request<T = unknown>(method: string, params: readonly unknown[] = [], opts: { timeoutMs?: number } = {}): Promise<T> {
    const node = this.nodes.find((n) => n.client.isConnected) ?? this.nodes[0];
    if (!node) return Promise.reject(new DcrdNotConnectedError(method));
    return node.client.request<T>(method, params, opts);
  }

  /** A request to one named node (e.g. to look into that node's mempool). */
  requestTo<T = unknown>(node: string, method: string, params: readonly unknown[] = [], opts: { timeoutMs?: number } = {}): Promise<T> {
    const n = this.nodes.find((x) => x.name === node);
    if (!n) return Promise.reject(new DcrdNotConnectedError(method));
    return n.client.request<T>(method, params, opts);
  }

  /** Sends the same request to every connected node at once. */
  async broadcast(method: string, params: readonly unknown[], opts: { timeoutMs?: number } = {}): Promise<BroadcastResult[]> {
    const start = performance.now();
    const targets = this.nodes.filter((n) => n.client.isConnected);
    return Promise.all(
      targets.map(async ({ name, client }) => {
        try {
          await client.request(method, params, opts);
          return { node: name, ok: true, ms: performance.now() - start };
        } catch (err) {
          return { node: name, ok: false, ms: performance.now() - start, error: errorMessage(err) };
        }
      }),
    );
  }

  #deliver(node: string, n: DcrdNotification): void {
    const key = `${n.kind}:${n.block.hash}`;
    if (this.#seen.has(key)) {
      this.#duplicates++;
      this.emit('duplicate', { node, kind: n.kind, blockHash: n.block.hash });
      return;
    }
    this.#seen.add(key);
    // A block can leave the main chain and come back (A → B → A): its
    // return is news, not a copy from another node.
    if (n.kind === 'blockconnected') this.#seen.delete(`blockdisconnected:${n.block.hash}`);
    if (n.kind === 'blockdisconnected') this.#seen.delete(`blockconnected:${n.block.hash}`);
    trimOldest(this.#seen, DEDUP_WINDOW);
    this.emit('notification', { ...n, node });
  }
}
