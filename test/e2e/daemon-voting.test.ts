/**
 * dcrvoted casting votes itself on a real simnet (issue: votingMode daemon
 * and both): it builds each vote, the wallet signs it, dcrvoted broadcasts
 * it. With the wallet's own voting off, nothing is missed; with both voting,
 * dcrvoted's vote is byte-identical to the wallet's (same txid).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WalletClient } from '../../src/wallet/grpc-client.js';
import type { RunningDaemon as DaemonUnderTest } from '../support/daemon-under-test.js';
import { chainOf, mineUntil, startInProcess, waitFor, walletClient, writeConfig } from './dcrvoted.js';
import { startSimnet, type Simnet } from './harness/index.js';

const MINUTE = 60_000;
let sim: Simnet;
let wc: WalletClient;
let agenda: string;
let dut: DaemonUnderTest | null = null;

beforeAll(async () => {
  sim = await startSimnet({ ourWallet: { managed: false } });
  wc = await walletClient(sim.ours);
  agenda = (await wc.agendas()).agendas[0]!.id;
}, 6 * MINUTE);

afterEach(async () => {
  await dut?.stop();
  dut = null;
});

afterAll(async () => {
  wc?.close();
  await sim?.stop();
}, 2 * MINUTE);

const entries = (d: DaemonUnderTest, outcome: string, from: number) =>
  (d.daemon.ledger?.recent(1000) ?? []).filter((e) => e.outcome?.outcome === outcome && e.winner.block.height >= from);

describe('dcrvoted casting votes on a real simnet', () => {
  it('votingMode daemon, the wallet running without --enablevoting: every winning ticket is voted by dcrvoted and mined with the configured bits', async () => {
    await sim.ours.stop();
    await sim.ours.start({ enableVoting: false });
    try {
      expect((await sim.ours.rpc('walletinfo')).voting).toBe(false);
      dut = await startInProcess(writeConfig(sim, { agendas: { [agenda]: 'yes' }, wallet: { votingMode: 'daemon' } }));
      await waitFor('ready', async () => (await dut!.get('/readyz')).status === 200, 60_000, 200);
      await waitFor('policy', async () => (await dut!.metric('dcrvoted_policy_in_sync', { wallet: 'ours' })) === 1, 30_000);
      const bits = (await wc.voteChoices()).voteBits;
      const from = (await sim.tip()).height + 1;
      await mineUntil(sim, () => entries(dut!, 'voted', from).length >= 3, 60);
      expect(entries(dut, 'missed', from)).toEqual([]);
      const chain = chainOf(sim);
      const casts = dut.logs.events('vote_cast');
      for (const e of entries(dut, 'voted', from)) {
        const bv = await chain.getBlockVotes(e.outcome!.includedIn!.hash);
        const vote = bv.votes.find((v) => v.ticketHash === e.winner.ticket);
        expect(vote?.voteBits).toBe(bits);
        // The mined vote is the one dcrvoted cast (the wallet does not vote).
        expect(casts.some((c) => c.txid === vote?.txid)).toBe(true);
      }
      expect(await dut.metric('dcrvoted_votes_cast_total', { wallet: 'ours', result: 'accepted' })).toBeGreaterThanOrEqual(3);
      expect(await dut.metric('dcrvoted_vote_accepted_seconds_count', { wallet: 'ours', path: 'daemon' })).toBeGreaterThanOrEqual(3);
      expect(await dut.metric('dcrvoted_vote_signing_failures_total', { wallet: 'ours' })).toBe(0);
    } finally {
      await dut?.stop();
      dut = null;
      await sim.ours.stop();
      await sim.ours.start();
    }
  }, 8 * MINUTE);

  it('votingMode both: the vote dcrvoted builds has the same txid as the wallet’s own, for every ticket', async () => {
    dut = await startInProcess(writeConfig(sim, { agendas: { [agenda]: 'no' }, wallet: { votingMode: 'both' } }));
    await waitFor('ready', async () => (await dut!.get('/readyz')).status === 200, 60_000, 200);
    await waitFor('policy', async () => (await dut!.metric('dcrvoted_policy_in_sync', { wallet: 'ours' })) === 1, 30_000);
    const from = (await sim.tip()).height + 1;
    await mineUntil(sim, () => entries(dut!, 'voted', from).length >= 3, 60);
    const chain = chainOf(sim);
    const casts = dut.logs.events('vote_cast');
    let compared = 0;
    for (const e of entries(dut, 'voted', from)) {
      const cast = casts.find((c) => c.ticket === e.winner.ticket && (c.block as { hash: string }).hash === e.winner.block.hash);
      expect(cast, `dcrvoted cast a vote for ${e.winner.ticket}`).toBeDefined();
      const bv = await chain.getBlockVotes(e.outcome!.includedIn!.hash);
      const mined = bv.votes.find((v) => v.ticketHash === e.winner.ticket);
      expect(cast!.txid).toBe(mined?.txid);
      compared++;
    }
    console.log(`[e2e] both mode: ${compared} votes, dcrvoted's txid equal to the mined (wallet's) vote every time`);
    expect(compared).toBeGreaterThanOrEqual(3);
    expect(entries(dut, 'missed', from)).toEqual([]);
  }, 8 * MINUTE);

  it('votingMode both with a wrong passphrase file, the wallet unlocked by its operator: the wallet stays unlocked and every winner is voted', async () => {
    await sim.ours.rpc('walletpassphrase', [sim.ours.passphrase, 0]);
    dut = await startInProcess(writeConfig(sim, { passphrase: 'not-the-passphrase', wallet: { votingMode: 'both' } }));
    await waitFor('ready', async () => (await dut!.get('/readyz')).status === 200, 60_000, 200);
    const from = (await sim.tip()).height + 1;
    await mineUntil(sim, () => entries(dut!, 'voted', from).length >= 4, 80);
    // Before: dcrvoted's first signature carried the wrong passphrase and dcrwallet locked itself.
    expect((await sim.ours.rpc('walletinfo')).unlocked).toBe(true);
    expect(entries(dut, 'missed', from)).toEqual([]);
    expect(await dut.metric('dcrvoted_vote_signing_failures_total', { wallet: 'ours' })).toBe(0);
    expect(await dut.metric('dcrvoted_votes_cast_total', { wallet: 'ours', result: 'accepted' })).toBeGreaterThanOrEqual(4);
    expect(dut.logs.text).not.toContain('not-the-passphrase');
  }, 8 * MINUTE);

  it('votingMode daemon with the wallet kept locked and a wrong passphrase: not ready, naming the file; once the file is fixed every winner is voted and the wallet stays locked', async () => {
    await sim.ours.rpc('walletlock');
    try {
      const config = writeConfig(sim, { passphrase: 'not-the-passphrase', wallet: { votingMode: 'daemon', unlock: false } });
      const file = join(dirname(config), 'wallet-passphrase');
      dut = await startInProcess(config);
      const notReady = await waitFor(
        'not ready: passphrase rejected',
        async () => {
          const r = await dut!.get('/readyz');
          return r.status === 503 && r.text.includes('rejected the passphrase') ? r.text : null;
        },
        60_000,
        200,
      );
      expect(notReady).toContain(file);
      expect((await sim.ours.rpc('walletinfo')).unlocked).toBe(false);
      writeFileSync(file, sim.ours.passphrase);
      await waitFor('ready with the fixed file', async () => (await dut!.get('/readyz')).status === 200, 60_000, 200);
      const from = (await sim.tip()).height + 1;
      await mineUntil(sim, () => entries(dut!, 'voted', from).length >= 3, 60);
      expect(entries(dut, 'missed', from)).toEqual([]);
      // The passphrase unlocked the wallet for each signature only.
      expect((await sim.ours.rpc('walletinfo')).unlocked).toBe(false);
      expect(await dut.metric('dcrvoted_votes_cast_total', { wallet: 'ours', result: 'accepted' })).toBeGreaterThanOrEqual(3);
    } finally {
      await dut?.stop();
      dut = null;
      await sim.ours.rpc('walletpassphrase', [sim.ours.passphrase, 0]);
    }
  }, 8 * MINUTE);
});
