// `dcrvoted plan` as a process against the fake peers over their real
// sockets: the inputs it reads (StakeInfo live, the best header's poolsize),
// the estimate it prints, and a clear error naming the peer that is down.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { randomHash } from '../support/fake-dcrd.js';
import { startFakePeers, type FakePeers } from '../support/daemon-under-test.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'src/cli.ts'];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [...CLI, ...args]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let peers: FakePeers | null = null;
let stopped = { wallet: false, dcrd: false };
afterEach(async () => {
  if (peers && !stopped.wallet) await peers.wallet.stop();
  if (peers && !stopped.dcrd) await peers.dcrd.dispose();
  peers?.pki.cleanup();
  peers = null;
  stopped = { wallet: false, dcrd: false };
});

async function withTickets(live: number): Promise<FakePeers> {
  peers = await startFakePeers();
  for (let i = 0; i < live; i++) peers.wallet.state.tickets.set(randomHash(), { status: 'LIVE' });
  peers.wallet.state.tickets.set(randomHash(), { status: 'IMMATURE' });
  return peers;
}

describe('dcrvoted plan', () => {
  it('prints the expected wins and the chance of at least one from live tickets and the pool size', async () => {
    const p = await withTickets(64);
    const r = await cli(['plan', '--config', p.configFile, '--minutes', '1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    // simnet: 1 s blocks, so 60 blocks; the fake's headers say poolsize 40960.
    expect(out).toMatchObject({ minutes: 1, blockSeconds: 1, blocks: 60, ours: 64, wallets: [{ name: 'main', live: 64 }], pool: { size: 40960, height: p.dcrd.tip.height, hash: p.dcrd.tip.hash } });
    expect(out.expectedWins).toBeCloseTo((60 * 5 * 64) / 40960, 12);
    expect(out.approximation).toContain('target block time');
    const text = await cli(['plan', '--config', p.configFile, '--minutes', '1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/expected wins\s+0\.469/);
    expect(text.stdout).toMatch(/P\(at least one\)\s+37\.\d %/);
    expect(text.stdout).toContain('64 live (main 64)');
  });

  it('names dcrd and says why when it is down, and exits 1', async () => {
    const p = await withTickets(3);
    await p.dcrd.dispose();
    stopped.dcrd = true;
    const r = await cli(['plan', '--config', p.configFile, '--minutes', '30']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot estimate without every peer:\n\s+dcrd node dcrd at 127\.0\.0\.1:\d+: .+/);
    expect(r.stdout).toBe('');
  });

  it('names the wallet when it is down, and exits 1', async () => {
    const p = await withTickets(3);
    await p.wallet.stop();
    stopped.wallet = true;
    const r = await cli(['plan', '--config', p.configFile, '--minutes', '30']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n  wallet main at 127\.0\.0\.1:\d+ is unreachable/);
  });

  it.each([[['--minutes', 'soon']], [['--minutes', '0']], [[]]])('a bad or missing --minutes (%j) is a usage error, exit 64', async (extra) => {
    const p = await withTickets(1);
    const r = await cli(['plan', '--config', p.configFile, ...extra]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--minutes');
  });
});
