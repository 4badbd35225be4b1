/**
 * dcrvoted never hides a miss and never reports one that did not happen, on
 * a real simnet:
 * - winners of ours that won while the wallet was down (a host reboot where
 *   dcrvoted starts first), through a kill -9 of dcrvoted, all end in the
 *   ledger with the outcome the chain shows;
 * - a miss decided on blocks a reorg removes is revised to superseded and
 *   counted as revised (so its alert clears), and decided again when the
 *   blocks come back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decidedFrom, mineUntil, readLedger, startInProcess, startProcess, useSimnet, waitFor, writeConfig, type DaemonProcess } from './dcrvoted.js';
import { freeLoopbackPort } from './shell.js';

const MINUTE = 60_000;
const fx = useSimnet();
let proc: DaemonProcess | null = null;

afterEach(async () => {
  proc?.child.kill('SIGKILL');
  await proc?.exited;
  proc = null;
  if (!fx.sim.ours.isRunning()) await fx.sim.ours.start();
});

const readyz = async (p: DaemonProcess) => (await fetch(p.url + '/readyz').catch(() => null))?.status;

describe('misses on a real simnet', () => {
  it('winners of ours that won while the wallet was down are all in the ledger with their outcome, through a kill -9 of dcrvoted before the wallet is back', async () => {
    const port = await freeLoopbackPort();
    const config = writeConfig(fx.sim, { httpPort: port });
    const stateDir = config.replace(/dcrvoted\.yaml$/, 'state');
    proc = startProcess(config, port);
    await waitFor('ready', async () => (await readyz(proc!)) === 200, 60_000, 200);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    proc = null;

    const ours = new Set(await fx.sim.ourLiveTickets());
    const from = (await fx.sim.tip()).height + 1;
    // The host reboots: dcrwallet is not back yet, the chain moves on.
    await fx.sim.ours.stop();
    const mined = await fx.sim.mine(12);
    // Winners of the last block are decided by a block not mined yet.
    const decided = mined.slice(0, -1);
    const expected: { ticket: string; block: string }[] = [];
    // The observer's notification can come after mine() returned: wait for it, or a winner of ours would be left out.
    for (const hash of decided) for (const t of (await fx.sim.winnersOf(hash)).tickets) if (ours.has(t)) expected.push({ ticket: t, block: hash });
    console.log(`[e2e] ${expected.length} winner(s) of ours in ${decided.length} blocks from height ${from} while the wallet was down`);
    expect(expected.length).toBeGreaterThan(0);

    // dcrvoted starts first, cannot ask the wallet, and is killed before the wallet is back.
    proc = startProcess(config, port);
    await waitFor('winners deferred', () => proc!.output().includes('ownership_unknown'), 60_000, 200);
    proc.child.kill('SIGKILL');
    await proc.exited;
    proc = startProcess(config, port);
    await waitFor('winners deferred again', () => proc!.output().includes('ownership_unknown'), 60_000, 200);
    await fx.sim.ours.start();
    await waitFor('ready', async () => (await readyz(proc!)) === 200, 90_000, 200);
    await waitFor(
      'every winner of ours recorded',
      async () => {
        const l = await readLedger(stateDir);
        return expected.every((e) => l.get(e.ticket, e.block)?.outcome);
      },
      60_000,
      500,
    );
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    proc = null;
    const ledger = await readLedger(stateDir);
    for (const e of expected) {
      const entry = ledger.get(e.ticket, e.block);
      // The wallet was down: nothing could vote, so the chain revoked each one.
      expect(entry?.outcome?.outcome, `ticket ${e.ticket} in block ${e.block}`).toBe('missed');
    }
    expect(ledger.recovery.duplicateRecords).toBe(0);
  }, 10 * MINUTE);

  it('a miss decided on blocks that a reorg removes is revised to superseded and counted; when the blocks come back it is decided again', async () => {
    await fx.sim.ours.rpc('walletlock');
    try {
      fx.dut = await startInProcess(writeConfig(fx.sim, { wallet: { unlock: false } }));
      await waitFor('dcrd connected', async () => (await fx.dut!.metric('dcrvoted_dcrd_connected')) === 1, 60_000, 200);
      const from = (await fx.sim.tip()).height + 1;
      const misses = () => decidedFrom(fx.dut!, 'missed', from);
      await mineUntil(fx.sim, () => misses().length > 0, 80);
      const miss = misses()[0]!;
      expect(miss.outcome?.reason).toBe('wallet_locked');
      const { ticket } = miss.winner;
      const won = miss.winner.block;
      const entry = () => fx.dut!.daemon.ledger?.get(ticket, won.hash);
      const unrevisedMisses = async () =>
        (await fx.dut!.metric('dcrvoted_missed_votes_total', { wallet: 'ours', reason: 'wallet_locked' })) -
        (await fx.dut!.metric('dcrvoted_missed_votes_revised_total', { wallet: 'ours', reason: 'wallet_locked' }));
      const ledgerMisses = () => fx.dut!.daemon.ledger!.counts().byReason.wallet_locked;
      const noneUndecidedBelow = (height: number) => fx.dut!.daemon.ledger?.pending().every((e) => e.winner.block.height >= height);
      // The count to come back to: with the first miss recorded, another winner of the same block may still be on its way to the ledger.
      await waitFor('every winner below the tip decided', async () => noneUndecidedBelow((await fx.sim.tip()).height), 30_000, 100);
      const missesBefore = await unrevisedMisses();
      expect(missesBefore).toBe(ledgerMisses());

      // A reorg takes away the block the ticket won in and the block that decided the miss.
      await fx.sim.dcrd.rpc('invalidateblock', [won.hash]);
      await waitFor('superseded', () => entry()?.outcome?.outcome === 'superseded', 30_000, 100);
      expect(entry()?.revision).toBeGreaterThanOrEqual(1);
      // Its deciding block went first (reopened), then its own (superseded);
      // a miss of the block before, decided by the removed block, is reopened too.
      expect(await fx.dut.metric('dcrvoted_outcomes_revised_total', { wallet: 'ours', from: 'missed', to: 'reopened' })).toBeGreaterThanOrEqual(1);
      // (The removed block's own winners are superseded before the misses it decided are reopened: wait for those too.)
      const removed = () => (fx.dut!.daemon.ledger?.recent(1000) ?? []).filter((e) => e.winner.block.height >= won.height - 1 && e.outcome?.outcome === 'missed' && (e.outcome.decidedBy?.height ?? 0) >= won.height);
      await waitFor('the misses the removed blocks decided reopened', () => removed().length === 0, 30_000, 100);
      // The page clears: what the alert counts (missed less revised) is what the ledger holds.
      expect(await unrevisedMisses()).toBe(ledgerMisses());
      expect(await unrevisedMisses()).toBeLessThan(missesBefore);
      // On the chain that stands the ticket never missed: it is live again.
      expect(await fx.sim.ourLiveTickets()).toContain(ticket);

      // The blocks come back (A → B → A): the ticket did miss on that chain.
      await fx.sim.dcrd.rpc('reconsiderblock', [won.hash]);
      await waitFor('decided again', () => entry()?.outcome?.outcome === 'missed', 30_000, 100);
      expect(entry()?.outcome?.reason).toBe('wallet_locked');
      await waitFor('every revised miss decided again', async () => (await unrevisedMisses()) === missesBefore, 30_000, 100);
      expect(ledgerMisses()).toBe(missesBefore);
      // Reopened winners of earlier blocks are decided again too; one whose
      // wallet was never observed (recorded at startup from the block's
      // revocations) waits out voting.decisionGraceMs first, like any miss
      // with no wallet fault to show.
      await waitFor('the reopened winners before it decided again', () => noneUndecidedBelow(won.height), 30_000, 100);
    } finally {
      await fx.sim.ours.rpc('walletpassphrase', [fx.sim.ours.passphrase, 0]);
    }
  }, 10 * MINUTE);
});
