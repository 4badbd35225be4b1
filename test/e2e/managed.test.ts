/**
 * A managed wallet (dcrwallet --noinitialload) on a real simnet: dcrvoted
 * opens it, connects it to dcrd with RpcSync and unlocks it, and recovers
 * by itself when the wallet or dcrd restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningDaemon as DaemonUnderTest } from '../support/daemon-under-test.js';
import { chainOf, mineUntil, startInProcess, waitFor, writeConfig } from './dcrvoted.js';
import { startSimnet, type Simnet } from './harness/index.js';

const MINUTE = 60_000;
let sim: Simnet;
let dut: DaemonUnderTest;

const status = async () => (await dut.get('/readyz')).status;
const voted = () => (dut.daemon.ledger?.recent(1000) ?? []).filter((e) => e.outcome?.outcome === 'voted');
const missed = () => (dut.daemon.ledger?.recent(1000) ?? []).filter((e) => e.outcome?.outcome === 'missed');

async function votesOnChain(n: number): Promise<void> {
  const chain = chainOf(sim);
  for (const e of voted().slice(0, n)) {
    const bv = await chain.getBlockVotes(e.outcome!.includedIn!.hash);
    expect(bv.votes.some((v) => v.ticketHash === e.winner.ticket && v.votedBlock.hash === e.winner.block.hash)).toBe(true);
  }
}

beforeAll(async () => {
  sim = await startSimnet({ ourWallet: { managed: true } });
  console.log(`[e2e] simnet up in ${(sim.bringUpMs / 1000).toFixed(1)} s, backend=${sim.backend}`);
  dut = await startInProcess(writeConfig(sim));
}, 6 * MINUTE);

afterAll(async () => {
  await dut?.stop();
  await sim?.stop();
}, 2 * MINUTE);

describe('managed wallet on a real simnet', () => {
  it('opens, syncs and unlocks the wallet, then votes its winning tickets', async () => {
    await waitFor('ready', async () => (await status()) === 200, 60_000, 200);
    const info = await sim.ours.rpc('walletinfo');
    expect(info).toMatchObject({ unlocked: true, daemonconnected: true, voting: true });
    await mineUntil(sim, () => voted().length >= 1, 40);
    await votesOnChain(1);
  }, 6 * MINUTE);

  it('recovers after the wallet restarts, without being restarted itself: /readyz goes 503 then 200', async () => {
    const before = voted().length;
    await sim.ours.stop();
    await waitFor('503', async () => (await status()) === 503, 20_000, 100);
    await sim.ours.start();
    const t0 = Date.now();
    await waitFor('200 again', async () => (await status()) === 200, 60_000, 200);
    console.log(`[e2e] managed wallet ready again ${Date.now() - t0} ms after it restarted`);
    expect((await sim.ours.rpc('walletinfo')).unlocked).toBe(true);
    await mineUntil(sim, () => voted().length > before, 40);
    expect(missed()).toEqual([]);
  }, 6 * MINUTE);

  it('recovers after dcrd restarts: reconnects, re-subscribes, restarts RpcSync', async () => {
    const before = voted().length;
    await sim.dcrd.stop();
    await waitFor('503', async () => (await status()) === 503, 20_000, 100);
    const reasons = ((await dut.get('/readyz')).body as { reasons: Record<string, string[]> }).reasons;
    expect(reasons.dcrd?.[0]).toMatch(/not connected to dcrd/);
    await sim.dcrd.start();
    await waitFor('200 again', async () => (await status()) === 200, 90_000, 200);
    expect(await dut.metric('dcrvoted_reconnects_total', { peer: 'dcrd' })).toBeGreaterThanOrEqual(1);
    await mineUntil(sim, () => voted().length > before, 40);
    expect(missed()).toEqual([]);
  }, 6 * MINUTE);
});
