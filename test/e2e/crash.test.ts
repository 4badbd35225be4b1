/**
 * dcrvoted killed with SIGKILL while a vote is pending, then started again:
 * the ledger holds every winning ticket exactly once, with the outcome the
 * chain shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainOf, mineUntil, readLedger, startProcess, waitFor, writeConfig, type DaemonProcess } from './dcrvoted.js';
import { startSimnet, type Simnet } from './harness/index.js';
import { freeLoopbackPort } from './shell.js';

const MINUTE = 60_000;
let sim: Simnet;
let proc: DaemonProcess | null = null;

interface Status {
  votes: { pending: { ticket: string; block: { hash: string; height: number } }[]; voted: number };
}

beforeAll(async () => {
  sim = await startSimnet({ ourWallet: { managed: false } });
}, 6 * MINUTE);

afterAll(async () => {
  proc?.child.kill('SIGKILL');
  await sim?.stop();
}, 2 * MINUTE);

async function status(p: DaemonProcess): Promise<Status> {
  return (await (await fetch(p.url + '/status')).json()) as Status;
}

describe('crash safety on a real simnet', () => {
  it('kill -9 with a vote pending loses, duplicates and corrupts nothing', async () => {
    const port = await freeLoopbackPort();
    const config = writeConfig(sim, { httpPort: port });
    const stateDir = config.replace(/dcrvoted\.yaml$/, 'state');
    proc = startProcess(config, port);
    await waitFor('ready', async () => (await fetch(proc!.url + '/readyz').catch(() => null))?.status === 200, 60_000, 200);
    let pending: Status['votes']['pending'] = [];
    await mineUntil(sim, async () => (pending = (await status(proc!)).votes.pending).length > 0, 40);
    proc.child.kill('SIGKILL');
    await proc.exited;
    // The wallet votes on its own; the chain moves on while dcrvoted is dead.
    await sim.mine(2);
    proc = startProcess(config, port);
    await waitFor('ready again', async () => (await fetch(proc!.url + '/readyz').catch(() => null))?.status === 200, 60_000, 200);
    await waitFor('pending resolved', async () => (await status(proc!)).votes.pending.length === 0, 30_000, 200);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    proc = null;

    const ledger = await readLedger(stateDir);
    expect(ledger.recovery.corruptRecords).toBe(0);
    expect(ledger.recovery.duplicateRecords).toBe(0);
    const chain = chainOf(sim);
    for (const p of pending) {
      const e = ledger.get(p.ticket, p.block.hash);
      expect(e?.outcome?.outcome).toBe('voted');
      const next = await chain.getBlockVotes(e!.outcome!.includedIn!.hash);
      expect(next.votes.some((v) => v.ticketHash === p.ticket)).toBe(true);
    }
    const keys = ledger.recent(10_000).map((e) => `${e.winner.ticket}:${e.winner.block.hash}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(ledger.pending()).toEqual([]);
  }, 8 * MINUTE);
});
