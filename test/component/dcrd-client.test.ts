// DcrdClient + DcrdRpc against the in-process fake dcrd over real TLS + ws.

import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import {
  DcrdClient,
  DcrdDisconnectedError,
  DcrdTimeoutError,
  type DcrdClientEvents,
  type DcrdClientOptions,
} from '../../src/dcrd/ws-client.js';
import { DcrdRpc, isNotFoundError } from '../../src/dcrd/rpc.js';
import type { DcrdNotification } from '../../src/dcrd/notifications.js';
import { FakeDcrd, quickClientOptions, randomHash, startFakeDcrd } from '../support/fake-dcrd.js';
import { makeSelfSignedCert, type FakeTlsMaterial } from '../support/fake-dcrd-tls.js';

const PASSWORD = 'hunter2-for-dcrd';
let fake: FakeDcrd;
const clients: DcrdClient[] = [];

beforeAll(async () => {
  fake = await startFakeDcrd({ network: 'simnet', password: PASSWORD });
});

afterAll(async () => {
  await fake.dispose();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  fake.freeze(false);
  fake.setCredentials('rpcuser', PASSWORD);
  await fake.start();
});

function makeClient(overrides: Partial<DcrdClientOptions> = {}): DcrdClient {
  const client = new DcrdClient(quickClientOptions(fake, PASSWORD, overrides));
  clients.push(client);
  return client;
}

/** Resolve with the next event matching `pred`, or fail after `ms`. */
function next<K extends keyof DcrdClientEvents>(
  client: DcrdClient,
  event: K,
  pred: (...args: DcrdClientEvents[K]) => boolean = () => true,
  ms = 5_000,
): Promise<DcrdClientEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    const listener = (...args: DcrdClientEvents[K]) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(args[0]);
    };
    client.on(event, listener);
  });
}

function collect(client: DcrdClient): DcrdNotification[] {
  const seen: DcrdNotification[] = [];
  client.on('notification', (n) => seen.push(n));
  return seen;
}

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function connected(client: DcrdClient) {
  const info = next(client, 'connected');
  client.start();
  return info;
}

describe('DcrdClient against the fake dcrd', () => {
  it('subscribes, receives winners, and blockconnected hashes match getbestblock', async () => {
    const client = makeClient();
    const rpc = new DcrdRpc((m, p, o) => client.request(m, p, o));
    expect(await connected(client)).toEqual({ first: true, reconnects: 0 });
    expect(client.isConnected).toBe(true);
    expect(fake.subscriberCount('winners')).toBe(1);
    expect(fake.subscriberCount('blocks')).toBe(1);

    const seen = collect(client);
    const winners = [randomHash(), randomHash(), randomHash(), randomHash(), randomHash()];
    const ref = fake.connectBlock({ winners });
    await until(() => seen.length >= 2);

    // Real dcrd 2.1.6 sends blockconnected, then the block's winningtickets
    // (checked against the real node in test/e2e/agreement.test.ts).
    expect(seen[0]).toMatchObject({ kind: 'blockconnected', block: ref });
    expect(seen[1]).toEqual({ kind: 'winningtickets', block: ref, tickets: winners });
    const best = await rpc.getBestBlock();
    expect(best).toEqual(ref);
    expect(seen[0]?.block.hash).toBe(best.hash);
    expect(await rpc.getBlockHash(ref.height)).toBe(ref.hash);
    expect(await rpc.getNetworkName()).toBe('simnet');
  });

  it('decodes votes and revocations of a block, the vote mempool and existsmempooltxs', async () => {
    const client = makeClient();
    const rpc = new DcrdRpc((m, p, o) => client.request(m, p, o));
    await connected(client);

    const parent = fake.connectBlock();
    const [t1, t2, t3] = [randomHash(), randomHash(), randomHash()];
    const mempoolTxid = fake.addMempoolVote(t1, parent, 5);
    expect(await rpc.getRawMempoolVotes()).toContain(mempoolTxid);
    expect(await rpc.getVoteTx(mempoolTxid)).toEqual({
      txid: mempoolTxid,
      ticketHash: t1,
      votedBlock: parent,
      voteBits: 5,
      voteVersion: 10,
    });
    const missing = randomHash();
    expect(await rpc.existsMempoolTxs([missing, mempoolTxid, missing])).toEqual([false, true, false]);

    const block = fake.connectBlock({ votesFor: [{ ticket: t1, voteBits: 5 }, { ticket: t2, voteBits: 1 }], revocations: [t3] });
    const votes = await rpc.getBlockVotes(block.hash);
    expect(votes.block).toMatchObject({ hash: block.hash, height: block.height, previousHash: parent.hash, confirmations: 1 });
    expect(votes.votes.map((v) => [v.ticketHash, v.voteBits, v.votedBlock])).toEqual([
      [t1, 5, parent],
      [t2, 1, parent],
    ]);
    // Same ticket, block and bits → the same txid the mempool had (deterministic votes).
    expect(votes.votes[0]?.txid).toBe(mempoolTxid);
    expect(votes.revocations).toEqual([{ txid: expect.any(String), ticketHash: t3 }]);
    expect(await rpc.existsMempoolTxs([mempoolTxid])).toEqual([false]);

    const info = await rpc.getBlockchainInfo();
    expect(info).toMatchObject({ chain: 'simnet', blocks: block.height, bestBlockHash: block.hash });
    await expect(rpc.getBlockHeader(randomHash())).rejects.toSatisfy(isNotFoundError);
  });

  it('reports reorgs with blockdisconnected and -1 confirmations for side blocks', async () => {
    const client = makeClient();
    const rpc = new DcrdRpc((m, p, o) => client.request(m, p, o));
    await connected(client);
    const a = fake.connectBlock();
    const gotB = next(client, 'notification', (n) => n.kind === 'blockconnected' && n.block.height === a.height + 1);
    const b = fake.connectBlock();
    await gotB;
    const seen = collect(client);
    const [b2, c2] = fake.reorg(1, {}, {});
    await until(() => seen.filter((n) => n.kind === 'blockconnected').length === 2);
    expect(seen.map((n) => n.kind)).toEqual([
      'blockdisconnected',
      'blockconnected',
      'winningtickets',
      'blockconnected',
      'winningtickets',
    ]);
    expect(seen[0]).toMatchObject({ block: b, previousHash: a.hash });
    expect(seen[1]).toMatchObject({ block: b2, previousHash: a.hash });
    expect((await rpc.getBlockHeader(b.hash)).confirmations).toBe(-1);
    expect(await rpc.getBlockHeader(c2!.hash)).toMatchObject({ confirmations: 1, previousHash: b2!.hash });
  });

  it('only subscribed connections get notifications', async () => {
    const quiet = makeClient({ subscriptions: [] });
    const loud = makeClient();
    await Promise.all([connected(quiet), connected(loud)]);
    const heard = collect(quiet);
    const got = next(loud, 'notification', (n) => n.kind === 'blockconnected');
    const ref = fake.connectBlock();
    expect(await got).toMatchObject({ block: ref });
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual([]);
  });

  it('reconnects and re-subscribes after the connections are dropped', async () => {
    const client = makeClient();
    await connected(client);
    const down = next(client, 'disconnected');
    const back = next(client, 'connected');
    fake.dropConnections();
    expect((await down).reason).toMatch(/closed|1006/);
    expect(await back).toEqual({ first: false, reconnects: 1 });
    expect(client.reconnects).toBe(1);
    expect(fake.subscriberCount('winners')).toBe(1);
    expect(fake.subscriberCount('blocks')).toBe(1);
    const got = next(client, 'notification', (n) => n.kind === 'winningtickets');
    const ref = fake.connectBlock();
    expect(await got).toMatchObject({ block: ref });
  });

  it('rejects pending requests when the connection drops', async () => {
    const client = makeClient();
    await connected(client);
    fake.freeze();
    const pending = client.request('getbestblock');
    await new Promise((r) => setTimeout(r, 50));
    fake.dropConnections();
    await expect(pending).rejects.toBeInstanceOf(DcrdDisconnectedError);
  });

  it('times out a request dcrd never answers, and the link stays up', async () => {
    const client = makeClient();
    await connected(client);
    fake.freeze();
    await expect(client.request('getbestblock', [], { timeoutMs: 100 })).rejects.toBeInstanceOf(DcrdTimeoutError);
    fake.freeze(false);
    expect(client.isConnected).toBe(true);
    await expect(client.request('getbestblock')).resolves.toMatchObject({ height: fake.tip.height });
  });

  it('notices a silent peer through ping/pong and reconnects once it answers again', async () => {
    const client = makeClient({ pingIntervalMs: 100 });
    await connected(client);
    fake.freeze();
    // No request is in flight, so only the missing pong can end the link.
    const down = await next(client, 'disconnected');
    expect(down.reason).toMatch(/pong/);
    fake.freeze(false);
    await next(client, 'connected');
    expect(client.isConnected).toBe(true);
  });

  it('survives a dcrd restart on the same port', async () => {
    const client = makeClient();
    await connected(client);
    const down = next(client, 'disconnected');
    await fake.stop();
    await down;
    const failed = await next(client, 'connectFailed');
    expect(failed.error.kind).toBe('network');
    expect(client.isConnected).toBe(false);
    await expect(client.request('getbestblock')).rejects.toThrow(/not connected/);

    const back = next(client, 'connected');
    await fake.start();
    expect(await back).toMatchObject({ first: false });
    expect(fake.subscriberCount('blocks')).toBe(1);
    const got = next(client, 'notification', (n) => n.kind === 'blockconnected');
    const ref = fake.connectBlock();
    expect(await got).toMatchObject({ block: ref });
  });

  it('names dcrd.user / dcrd.passwordFile on a 401 and keeps retrying', async () => {
    fake.setCredentials('rpcuser', 'another-password');
    const before = fake.authFailures;
    const client = makeClient();
    const failed = next(client, 'connectFailed');
    client.start();
    const { error, retryInMs } = await failed;
    expect(error.kind).toBe('auth');
    expect(error.configKey).toBe('dcrd.user');
    expect(error.message).toMatch(/dcrd\.user/);
    expect(error.message).toMatch(/dcrd\.passwordFile/);
    expect(error.message).not.toContain(PASSWORD);
    expect(error.message).not.toContain('another-password');
    expect(retryInMs).toBe(100);
    await until(() => fake.authFailures - before >= 3);
    expect(client.lastError?.kind).toBe('auth');

    fake.setCredentials('rpcuser', PASSWORD);
    await next(client, 'connected');
    expect(client.lastError).toBeNull();
  });

  describe('with a CA that did not sign dcrd’s cert', () => {
    let other: FakeTlsMaterial;
    beforeAll(async () => {
      other = await makeSelfSignedCert('someone else');
    });
    afterAll(async () => {
      await other.cleanup();
    });

    it('names dcrd.caCert', async () => {
      const client = makeClient({ caCert: other.certPem });
      const failed = next(client, 'connectFailed');
      client.start();
      const { error } = await failed;
      expect(error.kind).toBe('tls');
      expect(error.configKey).toBe('dcrd.caCert');
      expect(error.message).toMatch(/dcrd\.caCert/);
    });
  });

  it('reports malformed notifications and keeps working', async () => {
    const client = makeClient();
    await connected(client);
    const bad1 = next(client, 'malformed');
    fake.sendRaw('this is not json');
    expect((await bad1).reason).toMatch(/invalid JSON/);

    const bad2 = next(client, 'malformed');
    fake.sendRaw(JSON.stringify({ jsonrpc: '1.0', method: 'winningtickets', params: ['zz', 1, {}], id: null }));
    const info = await bad2;
    expect(info.method).toBe('winningtickets');
    expect(info.raw).toContain('winningtickets');

    const bad3 = next(client, 'malformed');
    fake.sendRaw(JSON.stringify({ jsonrpc: '1.0', method: 'blockconnected', params: ['00', null], id: null }));
    expect((await bad3).reason).toMatch(/180 bytes|360 chars/);

    expect(client.isConnected).toBe(true);
    const got = next(client, 'notification', (n) => n.kind === 'blockconnected');
    const ref = fake.connectBlock();
    expect(await got).toMatchObject({ block: ref });
    await expect(client.request('getbestblock')).resolves.toEqual(ref);
  });

  // The retry is due after the test's own timeout: close() passing at all
  // means it cut the backoff short rather than waiting it out.
  it('close() during backoff returns without waiting for the retry', async () => {
    await fake.stop();
    const client = makeClient({ backoff: { initialMs: 30_000, maxMs: 60_000 } });
    const failed = next(client, 'connectFailed');
    client.start();
    expect((await failed).retryInMs).toBeGreaterThan(10_000);
    const retried = vi.fn();
    client.on('connectFailed', retried);
    await client.close();
    expect(client.isConnected).toBe(false);
    expect(retried).not.toHaveBeenCalled();
  }, 10_000);

  it('close() while connected rejects pending requests and stops reconnecting', async () => {
    const client = makeClient();
    await connected(client);
    fake.freeze();
    const pending = client.request('getbestblock');
    const connects = fake.callCount('notifyblocks');
    await client.close();
    await expect(pending).rejects.toBeInstanceOf(DcrdDisconnectedError);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.callCount('notifyblocks')).toBe(connects);
  });
});
