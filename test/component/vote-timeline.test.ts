// A vote's timeline through the whole daemon: two fake dcrd nodes (the
// second reports the winners later and lacks the vote until dcrvoted sends
// it again), the fake wallet voting itself, and `dcrvoted votes --ticket`
// reading the timeline back from the ledger while the daemon runs.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { dispose, giveTicket, launchWithBackupNode, waitFor, type DaemonUnderTest } from '../support/daemon-under-test.js';
import { randomHash, type FakeDcrd } from '../support/fake-dcrd.js';

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: process.cwd() });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dut: DaemonUnderTest | null = null;
let backup: FakeDcrd | null = null;

afterEach(async () => {
  await dispose(dut);
  dut = null;
  await backup?.dispose();
  backup = null;
});

describe('vote timeline through the daemon', () => {
  it('records notified (each node), mempool, rebroadcast and the next block for the wallet’s own vote, and votes --ticket prints it', async () => {
    const launched = await launchWithBackupNode();
    ({ dut, backup } = launched);
    const d = launched.dut;
    const b = launched.backup;

    const ticket = await giveTicket(d.wallet, d.daemon);
    const won = d.dcrd.connectBlock({ winners: [ticket, randomHash(), randomHash(), randomHash(), randomHash()] });
    await waitFor('winner recorded', () => d.daemon.ledger?.get(ticket, won.hash));
    // The backup reports the same lottery later; the pool drops the copy but its delay is kept.
    const copies = d.daemon.dcrdPool!.stats().duplicatesDropped;
    b.sendRaw(JSON.stringify({ jsonrpc: '1.0', method: 'winningtickets', params: [won.hash, won.height, { '0': ticket }], id: null }));
    // It comes on the backup's own socket, and the timeline is written once, at the outcome, without a later copy.
    await waitFor('the backup copy dropped', () => d.daemon.dcrdPool!.stats().duplicatesDropped > copies);
    // The wallet's vote reaches the primary only; dcrvoted sends it to the b.
    d.dcrd.addMempoolVote(ticket, won, 5);
    await waitFor('rebroadcast to the backup', async () => (await d.metric('dcrvoted_votes_rebroadcast_total', { wallet: 'main', node: 'backup' })) >= 1, 10_000);
    const others = [randomHash(), randomHash(), randomHash(), randomHash()];
    d.dcrd.connectBlock({ votesFor: [{ ticket, voteBits: 5 }, ...others.map((t) => ({ ticket: t, voteBits: 1 }))] });
    await waitFor('decided', () => d.daemon.ledger?.get(ticket, won.hash)?.outcome);
    const rec = await waitFor('timeline recorded', () => d.daemon.ledger?.timeline(ticket, won.hash));

    expect(rec).toMatchObject({ firstNode: 'dcrd', caster: 'wallet', accepted: [], rejected: [], nextBlock: { height: won.height + 1, votes: 5 } });
    expect(rec.otherNodes.map((o) => o.node)).toEqual(['backup']);
    expect(rec.mempool.map((m) => m.node)).toEqual(['dcrd']);
    expect(rec.rebroadcast.map((r) => r.node)).toEqual(['backup']);
    expect(rec).not.toHaveProperty('builtMs');
    expect(rec.nextBlock?.ms).toBeGreaterThanOrEqual(rec.rebroadcast[0]!.ms);
    expect(await d.metric('dcrvoted_vote_stage_seconds_count', { wallet: 'main', stage: 'mempool' })).toBe(1);
    expect(await d.metric('dcrvoted_vote_stage_seconds_count', { wallet: 'main', stage: 'notified' })).toBe(1);
    expect(await d.metric('dcrvoted_vote_stage_seconds_count', { wallet: 'main', stage: 'next_block' })).toBe(1);

    const table = await cli(['votes', '--config', d.configFile, '--ticket', ticket.toUpperCase()]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`ticket ${ticket}`);
    expect(table.stdout).toMatch(/outcome: voted, in block \d+/);
    expect(table.stdout).toMatch(/^STAGE\s+AFTER NOTIFICATION\s+NODE\s+DETAIL$/m);
    expect(table.stdout).toMatch(/^notified\s+0 ms\s+dcrd\s+first to report the winners$/m);
    expect(table.stdout).toMatch(/^notified\s+[\d.]+ ms\s+backup\s+reported the winners later$/m);
    expect(table.stdout).toMatch(/^built\s+unknown\s+-\s+the wallet builds and signs its own votes/m);
    expect(table.stdout).toMatch(/^signed\s+unknown\s+-$/m);
    expect(table.stdout).toMatch(/^in mempool\s+[\d.]+ ms\s+dcrd\s/m);
    expect(table.stdout).toMatch(/^rebroadcast\s+[\d.]+ (ms|s)\s+backup\s/m);
    expect(table.stdout).toMatch(new RegExp(`^next block\\s+[\\d.]+ (ms|s)\\s+-\\s+block ${won.height + 1}, 5 vote\\(s\\)$`, 'm'));

    const json = await cli(['votes', '--config', d.configFile, '--ticket', ticket, '--json']);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { ticket: string; entries: { winner: { ticket: string }; outcome: { outcome: string }; timeline: unknown }[] };
    expect(body.ticket).toBe(ticket);
    expect(body.entries).toHaveLength(1);
    expect(body.entries[0]!.outcome.outcome).toBe('voted');
    expect(body.entries[0]!.timeline).toEqual(rec);

    const unknown = await cli(['votes', '--config', d.configFile, '--ticket', randomHash()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^dcrvoted: ticket [0-9a-f]{64} is not in the ledger .*ledger\.jsonl: dcrvoted has not seen it win/);
    const malformed = await cli(['votes', '--config', d.configFile, '--ticket', 'abc123']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toBe('dcrvoted: --ticket must be a ticket hash of 64 hex digits, got "abc123"\n');
    const missing = await cli(['votes', '--config', d.configFile, '--ticket']);
    expect(missing.code).toBe(64); // a usage error, like every flag without its value
    expect(missing.stderr).toContain('--ticket needs a value');
  });
});
