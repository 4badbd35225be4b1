import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DcrdPool } from '../../src/dcrd/pool.js';
import { dispose, giveTicket, launchWithBackupNode, waitFor, type DaemonUnderTest } from '../support/daemon-under-test.js';
import { randomHash, startFakeDcrd, type FakeDcrd } from '../support/fake-dcrd.js';
import { decodeTx, txid as txidOf } from '../../src/vote/tx.js';

const fakes: FakeDcrd[] = [];
let pool: DcrdPool | null = null;
let dut: DaemonUnderTest | null = null;

afterEach(async () => {
  await pool?.close();
  pool = null;
  await dispose(dut);
  dut = null;
  for (const f of fakes.splice(0)) await f.dispose();
});

async function fake(): Promise<FakeDcrd> {
  const f = await startFakeDcrd({ password: 'pw' });
  fakes.push(f);
  return f;
}

function poolOf(...nodes: [string, FakeDcrd][]): DcrdPool {
  return new DcrdPool(
    nodes.map(([name, f]) => ({
      name,
      options: { host: '127.0.0.1', port: f.port, user: 'rpcuser', password: Buffer.from('pw'), caCert: f.caCert, backoff: { initialMs: 50, maxMs: 200 } },
    })),
  );
}

const VOTE_HEX = (JSON.parse(readFileSync('test/fixtures/votes/simnet-152-43bb640c5849.json', 'utf8')) as { voteHex: string }).voteHex;

describe('several dcrd nodes', () => {
  it('acts on a notification from whichever node reports it first, once', async () => {
    const [a, b] = [await fake(), await fake()];
    pool = poolOf(['a', a], ['b', b]);
    const seen: { node: string; kind: string }[] = [];
    const copies: { node: string; kind: string; blockHash: string }[] = [];
    pool.on('notification', (n) => seen.push({ node: n.node, kind: n.kind }));
    pool.on('duplicate', (d) => copies.push(d));
    pool.start();
    await waitFor('both connected', () => pool!.connectedNodes().length === 2);
    const block = randomHash();
    const ntfn = JSON.stringify({ jsonrpc: '1.0', method: 'winningtickets', params: [block, 500, { '0': randomHash() }], id: null });
    b.sendRaw(ntfn);
    await waitFor('first copy', () => seen.length === 1);
    a.sendRaw(ntfn);
    // The later copy is dropped, but announced: a vote's timeline shows node a's delay.
    await waitFor('the copy announced', () => copies.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([{ node: 'b', kind: 'winningtickets' }]);
    expect(copies).toEqual([{ node: 'a', kind: 'winningtickets', blockHash: block }]);
  });

  it('a block that leaves the main chain and comes back (A → B → A) is delivered again, copies from the other node still dropped', async () => {
    const [a, b] = [await fake(), await fake()];
    pool = poolOf(['a', a], ['b', b]);
    const seen: string[] = [];
    pool.on('notification', (n) => {
      if (n.kind !== 'winningtickets') seen.push(n.kind);
    });
    pool.start();
    await waitFor('both connected', () => pool!.connectedNodes().length === 2);
    await waitFor('subscribed', () => a.subscriberCount('blocks') === 1 && b.subscriberCount('blocks') === 1);
    const ref = a.connectBlock();
    const header = a.block(ref.hash)!.headerHex;
    const frame = (method: string, params: unknown[]) => JSON.stringify({ jsonrpc: '1.0', method, params, id: null });
    await waitFor('connected', () => seen.length === 1);
    b.sendRaw(frame('blockconnected', [header, null]));
    for (const node of [a, b]) node.sendRaw(frame('blockdisconnected', [header]));
    await waitFor('disconnected', () => seen.length === 2);
    for (const node of [a, b]) node.sendRaw(frame('blockconnected', [header, null]));
    await waitFor('connected again', () => seen.length === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['blockconnected', 'blockdisconnected', 'blockconnected']);
  });

  it('broadcasts to every node at once; one node down is not an outage', async () => {
    const [a, b] = [await fake(), await fake()];
    pool = poolOf(['a', a], ['b', b]);
    const downs: { node: string; anyConnected: boolean }[] = [];
    pool.on('disconnected', ({ node, anyConnected }) => downs.push({ node, anyConnected }));
    pool.start();
    await waitFor('both connected', () => pool!.connectedNodes().length === 2);
    const results = await pool.broadcast('sendrawtransaction', [VOTE_HEX, false]);
    expect(results.map((r) => [r.node, r.ok])).toEqual([['a', true], ['b', true]]);
    expect(a.sent).toEqual([VOTE_HEX]);
    expect(b.sent).toEqual([VOTE_HEX]);
    await a.stop();
    await waitFor('a down', () => downs.length === 1);
    expect(downs[0]).toEqual({ node: 'a', anyConnected: true });
    expect(pool.isConnected).toBe(true);
    // Requests move to the node that is still up.
    expect(await pool.request('getcurrentnet')).toBeTypeOf('number');
  });

  it('the daemon stays ready with one of two nodes down, and says which', async () => {
    const { dut: d, backup } = await launchWithBackupNode();
    dut = d;
    fakes.push(backup);
    await backup.stop();
    await waitFor('backup down', async () => (await d.metric('dcrvoted_dcrd_node_connected', { node: 'backup' })) === 0);
    expect(await d.metric('dcrvoted_dcrd_connected')).toBe(1);
    expect((await d.get('/readyz')).status).toBe(200);
    const status = (await d.get('/status')).body as { dcrd: { nodes: { name: string; connected: boolean }[] } };
    expect(status.dcrd.nodes).toEqual([
      { name: 'dcrd', address: expect.any(String), connected: true },
      { name: 'backup', address: expect.any(String), connected: false },
    ]);
    const warn = d.logs.events('dcrd_disconnected')[0]!;
    expect(warn.level).toBe(40);
    expect(String(warn.msg)).toContain('still connected to dcrd');
  });

  it('a vote of ours missing from one node’s mempool is sent to it again before the next block (dcrd never rebroadcasts votes)', async () => {
    const { dut: d, backup } = await launchWithBackupNode();
    dut = d;
    fakes.push(backup);
    const ticket = await giveTicket(d.wallet, d.daemon);
    const won = d.dcrd.connectBlock({ winners: [ticket] });
    // The wallet's vote reached the primary only (the wallet talks to one dcrd).
    const txid = d.dcrd.addMempoolVote(ticket, won);
    await waitFor('rebroadcast to the backup', async () => (await d.metric('dcrvoted_votes_rebroadcast_total', { wallet: 'main', node: 'backup' })) >= 1, 10_000);
    expect(backup.sent.map((hex) => decodeTx(hex)).map((d) => (d.ok ? txidOf(d.value.tx) : null))).toContain(txid);
    expect(await d.metric('dcrvoted_votes_rebroadcast_total', { wallet: 'main', node: 'dcrd' })).toBe(0);
    expect(d.logs.events('vote_rebroadcast')[0]).toMatchObject({ node: 'backup', txid, ticket });
  });
});
