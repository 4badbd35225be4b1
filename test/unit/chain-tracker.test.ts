// The chain tracker alone: the only listener on the dcrd pool, owner of the
// tip and of the dcrd metrics, and the source of the typed chain events.
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ChainTracker } from '../../src/dcrd/chain.js';
import type { DcrdPool } from '../../src/dcrd/pool.js';
import type { DcrdRpc } from '../../src/dcrd/rpc.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

const h = (n: number) => n.toString(16).padStart(64, '0');

function setup(network = 'simnet') {
  const pool = Object.assign(new EventEmitter(), {
    isConnected: true,
    reconnects: 0,
    lastError: null,
    connectedNodes: () => ['main'],
    start: () => undefined,
    close: async () => undefined,
  });
  const rpc = { getNetworkName: async () => network, getBestBlock: async () => ({ hash: h(42), height: 42 }) };
  const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
  const chain = new ChainTracker({
    pool: pool as unknown as DcrdPool,
    rpc: rpc as unknown as DcrdRpc,
    network: 'simnet',
    nodes: [
      { name: 'main', address: '127.0.0.1:19556' },
      { name: 'backup', address: '127.0.0.1:29556' },
    ],
    metrics,
    logger: pino({ level: 'silent' }),
    configErrorExitCode: 78,
    now: () => 1_700_000_000_000,
  });
  const events: string[] = [];
  chain.on('winners', (e) => events.push(`winners:${e.block.height}`));
  chain.on('blockConnected', (e) => events.push(`connected:${e.block.height}`));
  chain.on('blockDisconnected', (e) => events.push(`disconnected:${e.block.height}`));
  chain.on('reconnected', (e) => events.push(`reconnected:${e.node}`));
  const fatal: { message: string; exitCode: number }[] = [];
  chain.on('fatal', (f) => fatal.push(f));
  const value = async (name: string, labels: Record<string, string> = {}) =>
    (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
  return { pool, chain, events, fatal, value };
}

describe('chain tracker', () => {
  it('owns the tip and the dcrd metrics, and passes dcrd’s events on in order', async () => {
    const { pool, chain, events, value } = setup();
    expect(await value('dcrvoted_dcrd_node_connected', { node: 'backup' })).toBe(0);
    pool.emit('connected', { node: 'main', first: true });
    await new Promise((r) => setImmediate(r));
    expect(chain.tip).toEqual({ hash: h(42), height: 42 });
    pool.emit('notification', { kind: 'blockconnected', block: { hash: h(43), height: 43 }, previousHash: h(42), node: 'main' });
    pool.emit('notification', { kind: 'winningtickets', block: { hash: h(43), height: 43 }, tickets: ['aa'], node: 'main' });
    pool.emit('notification', { kind: 'blockdisconnected', block: { hash: h(43), height: 43 }, previousHash: h(42), node: 'main' });
    expect(events).toEqual(['reconnected:main', 'connected:43', 'winners:43', 'disconnected:43']);
    expect(chain.tip).toEqual({ hash: h(42), height: 42 });
    expect(await value('dcrvoted_dcrd_best_block_height')).toBe(42);
    expect(await value('dcrvoted_last_block_timestamp_seconds')).toBe(1_700_000_000);
    expect(await value('dcrvoted_dcrd_connected')).toBe(1);
    pool.emit('connected', { node: 'backup', first: false });
    expect(await value('dcrvoted_reconnects_total', { peer: 'dcrd:backup' })).toBe(1);
    pool.emit('malformed', { node: 'main', raw: '{', reason: 'invalid JSON', method: 'other' });
    expect(await value('dcrvoted_malformed_notifications_total', { method: 'other' })).toBe(1);
  });

  it('a second node leaving its own fork (a block our tip is not) leaves the tip where the winning branch put it', async () => {
    // What two linked dcrds emit through the pool after a fork at height 43
    // heals: main mined 43a and then 44 on it; backup, which had 43b,
    // disconnects 43b and connects 43a and 44, copies the pool drops.
    const { pool, chain, events, value } = setup();
    const a43 = h(0xa43);
    const b43 = h(0xb43);
    pool.emit('notification', { kind: 'blockconnected', block: { hash: a43, height: 43 }, previousHash: h(42), node: 'main' });
    pool.emit('notification', { kind: 'blockconnected', block: { hash: b43, height: 43 }, previousHash: h(42), node: 'backup' });
    pool.emit('notification', { kind: 'blockconnected', block: { hash: h(44), height: 44 }, previousHash: a43, node: 'main' });
    pool.emit('notification', { kind: 'blockdisconnected', block: { hash: b43, height: 43 }, previousHash: h(42), node: 'backup' });
    expect(chain.tip).toEqual({ hash: h(44), height: 44 });
    expect(await value('dcrvoted_dcrd_best_block_height')).toBe(44);
    // The disconnection still goes out: winners recorded on 43b are superseded.
    expect(events).toEqual(['connected:43', 'connected:43', 'connected:44', 'disconnected:43']);
  });

  it('a node on another network is fatal with the configuration exit code, and nothing is announced', async () => {
    const { pool, events, fatal } = setup('testnet');
    pool.emit('connected', { node: 'main', first: true });
    await new Promise((r) => setImmediate(r));
    expect(fatal).toEqual([{ message: expect.stringMatching(/dcrd main at 127\.0\.0\.1:19556 is on testnet, but dcrvoted is configured for simnet/), exitCode: 78 }]);
    expect(events).toEqual([]);
  });
});
