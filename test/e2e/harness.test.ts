/**
 * Smoke test of the real-node simnet harness: the chain moves past stake
 * validation height with votes from both wallets, and "ours" serves gRPC to
 * dcrvoted's client certificate while refusing any other.
 *
 * Backend: DCRVOTED_SIMNET_BACKEND=docker|process|auto (default auto).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClientCert, startSimnet, WalletGrpc, type Simnet } from './harness/index.js';

const MINUTE = 60_000;

describe('simnet harness', () => {
  let sim: Simnet | undefined;

  beforeAll(async () => {
    sim = await startSimnet({ ourWallet: { managed: false } });
    console.log(
      `[simnet] bring-up took ${(sim.bringUpMs / 1000).toFixed(1)} s ` +
        `(backend=${sim.backend}, ${sim.fromSnapshot ? 'from snapshot' : 'cold'})`,
    );
  }, 6 * MINUTE);

  afterAll(async () => {
    await sim?.stop();
  }, 2 * MINUTE);

  function s(): Simnet {
    if (!sim) throw new Error('simnet did not start');
    return sim;
  }

  it('mines past stake validation height with votes from both wallets', async () => {
    const sim = s();
    const start = await sim.tip();
    expect(start.height).toBeGreaterThan(144);

    const oursBefore = new Set(await sim.ourLiveTickets());
    expect(oursBefore.size).toBeGreaterThan(0);
    const otherInfo = await sim.other.rpc('getstakeinfo');
    const share = oursBefore.size / otherInfo.poolsize;
    console.log(`[simnet] ours holds ${oursBefore.size} of ${otherInfo.poolsize} live tickets (${(share * 100).toFixed(1)}%)`);

    let oursVotes = 0;
    let otherVotes = 0;
    let blocks = 0;
    // Mine until ours has voted at least once (it holds ~1/6 of the pool, so
    // a handful of blocks is enough); bounded.
    while (blocks < 40 && (oursVotes === 0 || blocks < 5)) {
      const [hash] = await sim.mine(1);
      blocks++;
      const votes = await sim.votesIn(hash as string);
      expect(votes.length).toBeGreaterThanOrEqual(3);
      const winners = sim.winnersAt((await sim.dcrd.rpc('getblockheader', [hash, true])).previousblockhash);
      for (const v of votes) {
        if (winners) expect(winners.tickets).toContain(v.ticket);
        if (oursBefore.has(v.ticket)) oursVotes++;
        else otherVotes++;
      }
    }
    console.log(`[simnet] ${blocks} blocks mined: ${oursVotes} votes by ours, ${otherVotes} by other`);
    expect(oursVotes).toBeGreaterThan(0);
    expect(otherVotes).toBeGreaterThan(0);
    const end = await sim.tip();
    expect(end.height).toBe(start.height + blocks);
  }, 5 * MINUTE);

  it("accepts dcrvoted's client certificate over gRPC", async () => {
    const client = s().ours.grpc();
    try {
      await expect(client.ping()).resolves.toBeDefined();
      const v = await client.getVersion();
      expect(v.major).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  }, MINUTE);

  it('rejects a client certificate that is not in clients.pem', async () => {
    const sim = s();
    const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-rogue-'));
    const rogue = await makeClientCert(join(dir, 'rogue.pem'), join(dir, 'rogue.key'), 'rogue');
    const client = new WalletGrpc({
      address: sim.ours.grpcAddress,
      caCertPath: sim.ours.caCertPath,
      clientCertPath: rogue.certPath,
      clientKeyPath: rogue.keyPath,
    });
    try {
      await expect(client.ping(5_000)).rejects.toMatchObject({ code: expect.any(Number) });
    } finally {
      client.close();
    }
  }, MINUTE);

  it('restarts dcrd on the same port and data; both wallets reconnect', async () => {
    const sim = s();
    const before = await sim.tip();
    await sim.dcrd.stop();
    expect(sim.dcrd.isRunning()).toBe(false);
    const t0 = Date.now();
    await sim.dcrd.start();
    for (const w of [sim.ours, sim.other]) {
      await sim.waitFor(async () => (await w.rpc('walletinfo')).daemonconnected === true, 60_000, `${w.name} to reconnect`);
    }
    console.log(`[simnet] wallets reconnected ${((Date.now() - t0) / 1000).toFixed(1)} s after dcrd restart`);
    expect((await sim.tip()).hash).toBe(before.hash);
    const [hash] = await sim.mine(1);
    expect((await sim.votesIn(hash as string)).length).toBeGreaterThanOrEqual(3);
  }, 3 * MINUTE);

  it('answers walletinfo over JSON-RPC with basic auth', async () => {
    const info = await s().ours.rpc('walletinfo');
    expect(info).toMatchObject({ daemonconnected: true, unlocked: true, voting: true });
  }, MINUTE);
});

describe('simnet harness, managed "ours" (--noinitialload)', () => {
  let sim: Simnet | undefined;

  beforeAll(async () => {
    sim = await startSimnet({ ourWallet: { managed: true } });
  }, 6 * MINUTE);

  afterAll(async () => {
    await sim?.stop();
  }, 2 * MINUTE);

  it('starts unopened, keeps the chain moving, and opens over gRPC like dcrvoted would', async () => {
    if (!sim) throw new Error('simnet did not start');
    expect(sim.ours.isManaged()).toBe(true);
    const client = sim.ours.grpc();
    try {
      await expect(client.walletExists()).resolves.toMatchObject({ exists: true });
    } finally {
      client.close();
    }
    // Ours holds ~1/6 of the pool and does not vote yet: the chain still moves.
    await sim.mine(3);
    await sim.ours.openManaged();
    const info = await sim.ours.rpc('walletinfo');
    expect(info).toMatchObject({ daemonconnected: true, unlocked: true, voting: true });
  }, 3 * MINUTE);
});
