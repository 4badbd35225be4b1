import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { assessSync, forkLookups, parseNodeChainInfo, SyncGuard, type NodeChainInfo, type SyncProblemEvent } from '../../src/dcrd/sync-guard.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

const h = (c: string) => c.repeat(64);
const info = (node: string, height: number, hash: string, over: Partial<NodeChainInfo> = {}): NodeChainInfo => ({
  node,
  height,
  hash,
  headers: height,
  current: true,
  peers: [],
  ...over,
});

describe('assessSync', () => {
  it('finds nothing when the nodes agree', () => {
    expect(assessSync([info('a', 10, h('1')), info('b', 10, h('1'))], new Map())).toEqual([]);
  });

  it('one block behind is a block in flight, not a lag', () => {
    expect(assessSync([info('a', 10, h('1')), info('b', 11, h('2'))], new Map([['b@10', h('1')]]))).toEqual([]);
  });

  it('a node 2 blocks below another names both heights and its hash', () => {
    const [f, ...rest] = assessSync([info('a', 10, h('1')), info('b', 12, h('2'))], new Map([['b@10', h('1')]]));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ node: 'a', kind: 'lagging', height: 10, reference: { height: 12, source: 'dcrd b' } });
    expect(f!.message).toBe(`dcrd a is 2 blocks behind: its tip is height 10 (${h('1')}) while dcrd b is at height 12`);
  });

  it("a peer's announced height and the node's own best header count as references", () => {
    const byPeer = assessSync([info('a', 10, h('1'), { peers: [{ addr: '10.0.0.1:9108', height: 13 }] })], new Map());
    expect(byPeer).toMatchObject([{ kind: 'lagging', reference: { height: 13, source: 'peer 10.0.0.1:9108 of dcrd a' } }]);
    const byHeaders = assessSync([info('a', 10, h('1'), { headers: 15 })], new Map());
    expect(byHeaders).toMatchObject([{ kind: 'lagging', reference: { height: 15, source: "dcrd a's own best header" } }]);
  });

  it('different blocks at the same height are a fork, reported for both nodes with both hashes', () => {
    const found = assessSync([info('a', 10, h('1')), info('b', 10, h('2'))], new Map());
    expect(found).toMatchObject([
      { node: 'a', kind: 'forked', fork: { height: 10, otherNode: 'b', otherHash: h('2') } },
      { node: 'b', kind: 'forked', fork: { height: 10, otherNode: 'a', otherHash: h('1') } },
    ]);
    expect(found[0]!.message).toBe(`dcrd a and dcrd b disagree at height 10: a has ${h('1')}, b has ${h('2')}`);
  });

  it("a lower node whose tip is not on the higher node's chain is forked", () => {
    const infos = [info('a', 10, h('1')), info('b', 11, h('3'))];
    expect(forkLookups(infos)).toEqual([{ node: 'b', height: 10 }]);
    expect(assessSync(infos, new Map([['b@10', h('2')]]))).toMatchObject([{ node: 'a', kind: 'forked', fork: { otherNode: 'b', otherHash: h('2') } }]);
    // No answer for the lookup: no evidence either way.
    expect(assessSync(infos, new Map())).toEqual([]);
  });

  it('a node that is not current is reported as such', () => {
    expect(assessSync([info('a', 10, h('1'), { current: false })], new Map())).toMatchObject([{ node: 'a', kind: 'not_current' }]);
  });
});

describe('parseNodeChainInfo', () => {
  const chain = { blocks: 7, headers: 9, bestblockhash: h('a'), initialblockdownload: false };
  it("reads dcrd's fields; a peer without currentheight (omitted when 0) claims nothing", () => {
    const peers = [{ addr: '127.0.0.1:1', currentheight: 8 }, { addr: '127.0.0.1:2' }];
    expect(parseNodeChainInfo('a', chain, peers)).toEqual({ node: 'a', height: 7, hash: h('a'), headers: 9, current: true, peers: [{ addr: '127.0.0.1:1', height: 8 }] });
  });
  it('rejects answers it cannot trust with an error naming the node and the field', () => {
    expect(() => parseNodeChainInfo('a', { ...chain, blocks: -1 }, [])).toThrow('dcrd a answered getblockchaininfo without a valid "blocks" height');
    expect(() => parseNodeChainInfo('a', { ...chain, bestblockhash: 'x' }, [])).toThrow(/bestblockhash/);
    expect(() => parseNodeChainInfo('a', { ...chain, initialblockdownload: 'no' }, [])).toThrow(/initialblockdownload/);
    expect(() => parseNodeChainInfo('a', chain, {})).toThrow(/getpeerinfo/);
  });
});

describe('SyncGuard', () => {
  function setup() {
    const tips: Record<string, { height: number; hash: string; chain?: Record<number, string> }> = {
      a: { height: 10, hash: h('1') },
      b: { height: 10, hash: h('1') },
    };
    let now = 1_000_000;
    const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
    const guard = new SyncGuard({
      nodes: ['a', 'b'],
      connectedNodes: () => ['a', 'b'],
      request: async (node, method, params) => {
        const t = tips[node]!;
        if (method === 'getblockchaininfo') return { blocks: t.height, headers: t.height, bestblockhash: t.hash, initialblockdownload: false };
        if (method === 'getpeerinfo') return [];
        if (method === 'getblockhash') return t.chain?.[params[0] as number] ?? h('0');
        throw new Error(method);
      },
      metrics,
      logger: pino({ level: 'silent' }),
      intervalMs: 1000,
      graceMs: 30_000,
      now: () => now,
    });
    const events: (SyncProblemEvent | { recovered: string })[] = [];
    guard.on('problem', (e) => events.push(e));
    guard.on('recovered', (e) => events.push({ recovered: `${e.node}:${e.kind}` }));
    return { tips, guard, metrics, events, advance: (ms: number) => (now += ms) };
  }

  const value = async (m: ReturnType<typeof setup>['metrics'], name: string, labels: Record<string, string>) => {
    const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };

  it('reports a lag only once it outlasts the grace period, and its recovery', async () => {
    const s = setup();
    s.tips.a = { height: 12, hash: h('3'), chain: { 10: h('1') } };
    await s.guard.check();
    expect(s.guard.reasons()).toEqual([]);
    expect(await value(s.metrics, 'dcrvoted_dcrd_blocks_behind', { node: 'b' })).toBe(2);
    expect(await value(s.metrics, 'dcrvoted_dcrd_sync_problem', { node: 'b', kind: 'lagging' })).toBe(0);

    s.advance(30_000);
    await s.guard.check();
    expect(s.guard.reasons()).toEqual([`dcrd b is 2 blocks behind: its tip is height 10 (${h('1')}) while dcrd a is at height 12 (for 30 s)`]);
    expect(await value(s.metrics, 'dcrvoted_dcrd_sync_problem', { node: 'b', kind: 'lagging' })).toBe(1);
    expect(s.events).toMatchObject([{ node: 'b', kind: 'lagging' }]);
    expect(s.guard.view().nodes.find((n) => n.name === 'b')).toMatchObject({ height: 10, blocksBehind: 2, problems: [{ kind: 'lagging', active: true }] });

    s.tips.b = { height: 12, hash: h('3') };
    await s.guard.check();
    expect(s.guard.reasons()).toEqual([]);
    expect(await value(s.metrics, 'dcrvoted_dcrd_sync_problem', { node: 'b', kind: 'lagging' })).toBe(0);
    expect(s.events.at(-1)).toEqual({ recovered: 'b:lagging' });
  });

  it('a lag that clears within the grace period never makes it not ready', async () => {
    const s = setup();
    s.tips.a = { height: 12, hash: h('3'), chain: { 10: h('1') } };
    await s.guard.check();
    s.tips.b = { height: 12, hash: h('3') };
    s.advance(40_000);
    await s.guard.check();
    expect(s.guard.reasons()).toEqual([]);
    expect(s.events).toEqual([]);
  });

  it('a fork past the grace period publishes both hashes in dcrvoted_dcrd_fork_info, removed on recovery', async () => {
    const s = setup();
    s.tips.b = { height: 10, hash: h('2') };
    await s.guard.check();
    s.advance(30_000);
    await s.guard.check();
    expect(s.guard.reasons()).toHaveLength(2);
    const series = (await s.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'dcrvoted_dcrd_fork_info')!.values;
    expect(series.map((v) => v.labels)).toEqual([
      { node: 'a', height: '10', hash: h('1'), other_node: 'b', other_hash: h('2') },
      { node: 'b', height: '10', hash: h('2'), other_node: 'a', other_hash: h('1') },
    ]);
    s.tips.a = { height: 11, hash: h('4'), chain: { 10: h('2') } };
    s.tips.b = { height: 11, hash: h('4') };
    await s.guard.check();
    expect(s.guard.reasons()).toEqual([]);
    expect((await s.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'dcrvoted_dcrd_fork_info')!.values).toEqual([]);
  });

  it('a node that stops answering keeps its problem: silence is no recovery', async () => {
    const s = setup();
    s.tips.a = { height: 12, hash: h('3'), chain: { 10: h('1') } };
    await s.guard.check();
    s.advance(30_000);
    await s.guard.check();
    delete (s.tips as Record<string, unknown>).b; // the request for b now throws
    await s.guard.check();
    expect(s.guard.reasons()).toHaveLength(1);
    expect(s.events.filter((e) => 'recovered' in e)).toEqual([]);
  });
});
