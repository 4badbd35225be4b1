/**
 * dcrvoted casting votes itself on a real simnet (issue: votingMode daemon
 * and both): it builds each vote, the wallet signs it, dcrvoted broadcasts
 * it. With the wallet's own voting off, nothing is missed; with both voting,
 * dcrvoted's vote is byte-identical to the wallet's (same txid).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningDaemon as DaemonUnderTest } from '../support/daemon-under-test.js';
import { castsFor, chainOf, decidedFrom, mineUntil, mineWithOurVotes, startInProcess, useSimnet, waitFor, writeConfig } from './dcrvoted.js';

const MINUTE = 60_000;
const fx = useSimnet();
let agenda: string;

beforeAll(async () => {
  agenda = (await fx.wallet.agendas()).agendas[0]!.id;
});


describe('dcrvoted casting votes on a real simnet', () => {
  it('votingMode daemon, the wallet running without --enablevoting: every winning ticket is voted by dcrvoted and mined with the configured bits', async () => {
    await fx.sim.ours.stop();
    await fx.sim.ours.start({ enableVoting: false });
    try {
      expect((await fx.sim.ours.rpc('walletinfo')).voting).toBe(false);
      fx.dut = await startInProcess(writeConfig(fx.sim, { agendas: { [agenda]: 'yes' }, wallet: { votingMode: 'daemon' } }));
      await waitFor('ready', async () => (await fx.dut!.get('/readyz')).status === 200, 60_000, 200);
      await waitFor('policy', async () => (await fx.dut!.metric('dcrvoted_policy_in_sync', { wallet: 'ours' })) === 1, 30_000);
      const bits = (await fx.wallet.voteChoices()).voteBits;
      const from = (await fx.sim.tip()).height + 1;
      await mineWithOurVotes(fx.sim, fx.dut, () => decidedFrom(fx.dut!, 'voted', from).length >= 3, 60);
      expect(decidedFrom(fx.dut, 'missed', from)).toEqual([]);
      // Mined and decided does not mean logged (nor counted) yet: the cast ends when the wallet has answered too.
      const decided = decidedFrom(fx.dut, 'voted', from);
      const casts = await castsFor(fx.dut, decided);
      const chain = chainOf(fx.sim);
      for (const [i, e] of decided.entries()) {
        const bv = await chain.getBlockVotes(e.outcome!.includedIn!.hash);
        const vote = bv.votes.find((v) => v.ticketHash === e.winner.ticket);
        expect(vote?.voteBits).toBe(bits);
        // The mined vote is the one dcrvoted cast (the wallet does not vote).
        expect(casts[i]!.txid).toBe(vote?.txid);
      }
      await expectTimelineThroughCli(fx.dut, from);
      expect(await fx.dut.metric('dcrvoted_votes_cast_total', { wallet: 'ours', result: 'accepted' })).toBeGreaterThanOrEqual(3);
      expect(await fx.dut.metric('dcrvoted_vote_accepted_seconds_count', { wallet: 'ours', path: 'daemon' })).toBeGreaterThanOrEqual(3);
      expect(await fx.dut.metric('dcrvoted_vote_signing_failures_total', { wallet: 'ours' })).toBe(0);
    } finally {
      await fx.dut?.stop();
      fx.dut = null;
      await fx.sim.ours.stop();
      await fx.sim.ours.start();
    }
  }, 8 * MINUTE);

  it('votingMode both: the vote dcrvoted builds has the same txid as the wallet’s own, for every ticket', async () => {
    fx.dut = await startInProcess(writeConfig(fx.sim, { agendas: { [agenda]: 'no' }, wallet: { votingMode: 'both' } }));
    await waitFor('ready', async () => (await fx.dut!.get('/readyz')).status === 200, 60_000, 200);
    await waitFor('policy', async () => (await fx.dut!.metric('dcrvoted_policy_in_sync', { wallet: 'ours' })) === 1, 30_000);
    // The ticket index filled from the real wallet (GetTickets) and every ticket checked for per-ticket settings.
    await waitFor('ticket index', () => fx.dut!.daemon.ticketIndex('ours')?.loaded === true && fx.dut!.daemon.votePreparation('ours')?.pendingChecks === 0, 60_000, 200);
    expect(fx.dut.daemon.ticketIndex('ours')!.size).toBeGreaterThan(0);
    const from = (await fx.sim.tip()).height + 1;
    await mineUntil(fx.sim, () => decidedFrom(fx.dut!, 'voted', from).length >= 3, 60);
    // The wallet's identical vote can be mined and decided before dcrvoted's cast has finished (and logged).
    const decided = decidedFrom(fx.dut, 'voted', from);
    const casts = await castsFor(fx.dut, decided);
    const chain = chainOf(fx.sim);
    let compared = 0;
    for (const [i, e] of decided.entries()) {
      const bv = await chain.getBlockVotes(e.outcome!.includedIn!.hash);
      const mined = bv.votes.find((v) => v.ticketHash === e.winner.ticket);
      expect(casts[i]!.txid, `dcrvoted's vote for ${e.winner.ticket}`).toBe(mined?.txid);
      compared++;
    }
    // Built from the index and the prepared inputs, with no RPC before the signature, and still the wallet's txid.
    expect(fx.dut.logs.events('vote_cast').filter((c) => c.prepared !== true)).toEqual([]);
    // The wallet's TransactionNotifications carried each mined vote: the voted tickets left the index.
    const voted = decidedFrom(fx.dut, 'voted', from).map((e) => e.winner.ticket);
    await waitFor('voted tickets left the index', () => voted.every((t) => !fx.dut!.daemon.ticketIndex('ours')!.has(t)), 10_000, 100);
    console.log(`[e2e] both mode: ${compared} votes, dcrvoted's txid (built from prepared inputs) equal to the mined (wallet's) vote every time`);
    expect(compared).toBeGreaterThanOrEqual(3);
    expect(decidedFrom(fx.dut, 'missed', from)).toEqual([]);
  }, 8 * MINUTE);

  it('votingMode both with a wrong passphrase file, the wallet unlocked by its operator: the wallet stays unlocked and every winner is voted', async () => {
    await fx.sim.ours.rpc('walletpassphrase', [fx.sim.ours.passphrase, 0]);
    fx.dut = await startInProcess(writeConfig(fx.sim, { passphrase: 'not-the-passphrase', wallet: { votingMode: 'both' } }));
    await waitFor('ready', async () => (await fx.dut!.get('/readyz')).status === 200, 60_000, 200);
    const from = (await fx.sim.tip()).height + 1;
    await mineUntil(fx.sim, () => decidedFrom(fx.dut!, 'voted', from).length >= 4, 80);
    // The wallet's identical vote can be decided before dcrvoted's cast is counted.
    await castsFor(fx.dut, decidedFrom(fx.dut, 'voted', from));
    // Before: dcrvoted's first signature carried the wrong passphrase and dcrwallet locked itself.
    expect((await fx.sim.ours.rpc('walletinfo')).unlocked).toBe(true);
    expect(decidedFrom(fx.dut, 'missed', from)).toEqual([]);
    expect(await fx.dut.metric('dcrvoted_vote_signing_failures_total', { wallet: 'ours' })).toBe(0);
    expect(await fx.dut.metric('dcrvoted_votes_cast_total', { wallet: 'ours', result: 'accepted' })).toBeGreaterThanOrEqual(4);
    expect(fx.dut.logs.text).not.toContain('not-the-passphrase');
  }, 8 * MINUTE);

  it('votingMode daemon with the wallet kept locked and a wrong passphrase: not ready, naming the file; once the file is fixed every winner is voted and the wallet stays locked', async () => {
    await fx.sim.ours.rpc('walletlock');
    try {
      const config = writeConfig(fx.sim, { passphrase: 'not-the-passphrase', wallet: { votingMode: 'daemon', unlock: false } });
      const file = join(dirname(config), 'wallet-passphrase');
      fx.dut = await startInProcess(config);
      const notReady = await waitFor(
        'not ready: passphrase rejected',
        async () => {
          const r = await fx.dut!.get('/readyz');
          return r.status === 503 && r.text.includes('rejected the passphrase') ? r.text : null;
        },
        60_000,
        200,
      );
      expect(notReady).toContain(file);
      expect((await fx.sim.ours.rpc('walletinfo')).unlocked).toBe(false);
      writeFileSync(file, fx.sim.ours.passphrase);
      await waitFor('ready with the fixed file', async () => (await fx.dut!.get('/readyz')).status === 200, 60_000, 200);
      const from = (await fx.sim.tip()).height + 1;
      await mineWithOurVotes(fx.sim, fx.dut, () => decidedFrom(fx.dut!, 'voted', from).length >= 3, 60);
      expect(decidedFrom(fx.dut, 'missed', from)).toEqual([]);
      await castsFor(fx.dut, decidedFrom(fx.dut, 'voted', from));
      // The passphrase unlocked the wallet for each signature only: dcrwallet
      // locks it again just after the call returns.
      await waitFor('the wallet locked again after the last signature', async () => (await fx.sim.ours.rpc('walletinfo')).unlocked === false, 10_000, 100);
      await expectTimelineThroughCli(fx.dut, from);
      expect(await fx.dut.metric('dcrvoted_votes_cast_total', { wallet: 'ours', result: 'accepted' })).toBeGreaterThanOrEqual(3);
    } finally {
      await fx.dut?.stop();
      fx.dut = null;
      await fx.sim.ours.rpc('walletpassphrase', [fx.sim.ours.passphrase, 0]);
    }
  }, 8 * MINUTE);
});

/** A voted ticket's timeline as dcrvoted cast it (the wallet signing), read back through `dcrvoted votes --ticket` as an operator would. */
async function expectTimelineThroughCli(dut: DaemonUnderTest, from: number): Promise<void> {
  const e = decidedFrom(dut, 'voted', from)[0]!;
  const tl = await waitFor('timeline recorded', () => dut.daemon.ledger?.timeline(e.winner.ticket, e.winner.block.hash), 10_000, 50);
  expect(tl).toMatchObject({ caster: 'daemon', signer: 'wallet', firstNode: 'dcrd', accepted: [{ node: 'dcrd' }], rejected: [], nextBlock: { hash: e.outcome!.includedIn!.hash } });
  // Stamps in causal order: built, then signed, then accepted; the vote in the mempool once accepted.
  expect(tl.builtMs!).toBeLessThanOrEqual(tl.signedMs!);
  expect(tl.signedMs!).toBeLessThanOrEqual(tl.accepted[0]!.ms);
  expect(tl.nextBlock!.votes).toBeGreaterThanOrEqual(3);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'votes', '--config', dut.configFile, '--ticket', e.winner.ticket], { cwd: process.cwd() });
  console.log(`[e2e] votes --ticket on a real simnet:\n${stdout}`);
  expect(stdout).toContain(`ticket ${e.winner.ticket}`);
  expect(stdout).toMatch(/^notified\s+0 ms\s+dcrd\s+first to report the winners$/m);
  expect(stdout).toMatch(/^built\s+[\d.]+ ms\s+-\s+by dcrvoted/m);
  expect(stdout).toMatch(/^signed\s+[\d.]+ ms\s+-\s+by the wallet$/m);
  expect(stdout).toMatch(/^accepted\s+[\d.]+ ms\s+dcrd/m);
  expect(stdout).toMatch(/^in mempool\s+([\d.]+ m?s|unknown)\s/m);
  expect(stdout).toMatch(new RegExp(`^next block\\s+[\\d.]+ m?s\\s+-\\s+block ${e.outcome!.includedIn!.height}, \\d vote\\(s\\)$`, 'm'));
  expect(await dut.metric('dcrvoted_vote_stage_seconds_count', { wallet: 'ours', stage: 'signed' })).toBeGreaterThanOrEqual(3);
}
