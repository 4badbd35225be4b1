import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'src/cli.ts'];

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [...CLI, ...args], { env: { ...process.env, ...env }, cwd: process.cwd() });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const SECRETS = { 'dcrd-password': 'dcrd-pw-123', 'wallet-passphrase': 'wallet-pass-456', 'wallet-jsonrpc-password': 'rpc-pw-789', 'client-key': '-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n-----END PRIVATE KEY-----\n' };

/** An installed example: certs next to the config, secrets in a credentials directory. */
function install(example: string): { config: string; creds: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-example-'));
  const creds = mkdtempSync(join(tmpdir(), 'dcrvoted-creds-'));
  copyFileSync(join('config', example), join(dir, 'dcrvoted.yaml'));
  for (const f of ['dcrd-rpc.cert', 'dcrwallet-rpc.cert', 'dcrvoted-client.cert']) writeFileSync(join(dir, f), PEM);
  for (const [name, body] of Object.entries(SECRETS)) writeFileSync(join(creds, name), body);
  return { config: join(dir, 'dcrvoted.yaml'), creds };
}

describe('dcrvoted command line', () => {
  it.each(['mainnet.yaml', 'testnet.yaml', 'simnet.yaml'])('the example %s passes check-config and prints no secret', async (example) => {
    const { config, creds } = install(example);
    const r = await cli(['check-config', '--config', config], { CREDENTIALS_DIRECTORY: creds });
    expect(r.stderr).toContain('configuration OK');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as { network: string };
    expect(printed.network).toBe(example.replace('.yaml', ''));
    for (const s of Object.values(SECRETS)) expect(r.stdout + r.stderr).not.toContain(s.includes('KEY') ? 'SECRETKEYBYTES' : s);
    expect(r.stdout).toContain('[redacted]');
  });

  it('a config error exits 78 and names the key', async () => {
    const { config } = install('mainnet.yaml');
    const r = await cli(['check-config', '--config', config], { CREDENTIALS_DIRECTORY: '/nonexistent' });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/dcrd\.passwordFile: \/nonexistent\/dcrd-password does not exist/);
  });

  it('a value of the wrong type, or a file that is not a mapping, exits 78 naming the key', async () => {
    const { config, creds } = install('simnet.yaml');
    const yaml = readFileSync(config, 'utf8');
    writeFileSync(config, yaml.replace('    mode: managed\n', '    mode: managed\n    unlock: no\n'));
    const r = await cli(['check-config', '--config', config], { CREDENTIALS_DIRECTORY: creds });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('wallets[0].unlock: must be true or false, got "no"');
    writeFileSync(config, '- network: simnet\n');
    const list = await cli(['check-config', '--config', config], { CREDENTIALS_DIRECTORY: creds });
    expect(list.code).toBe(78);
    expect(list.stderr).toBe(`dcrvoted: invalid configuration:\n  --config: ${config} must be a YAML mapping of options (name: value lines), got a list\n`);
  });

  it('a secret on the command line is refused with exit 78', async () => {
    const r = await cli(['run', '--dcrd-password', 'hunter2']);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/never accepted on the command line/);
  });

  it('--schema documents every option', async () => {
    const r = await cli(['check-config', '--schema']);
    expect(r.code).toBe(0);
    for (const key of ['network', 'dcrd.passwordFile', 'wallets[].mode', 'wallets[].jsonrpc.auth', 'policy.agendas', 'voting.voteSeenDeadlineMs']) expect(r.stdout).toContain(key);
    expect(r.stdout).toContain('wallets[].unlock  (true or false; default: true)');
    expect(r.stdout).toContain('dcrd.callTimeoutMs  (a whole number of milliseconds from 1 to 2147483647; default: 10000)');
  });

  it('votes shows recent outcomes from the ledger', async () => {
    const { config, creds } = install('simnet.yaml');
    const state = join(config, '..', 'state');
    const ledger = await Ledger.open(state);
    const block = { hash: 'aa'.repeat(32), height: 500 };
    const ready = { reachable: true, unlocked: false, voting: true, daemonConnected: true, synced: true };
    await ledger.recordWinner({ kind: 'winner', ticket: 'bb'.repeat(32), wallet: 'ours', block, notifiedAt: Date.now(), readiness: ready });
    await ledger.recordOutcome({ kind: 'outcome', ticket: 'bb'.repeat(32), block, outcome: 'missed', reason: 'wallet_locked', decidedAt: Date.now() });
    await ledger.recordWinner({ kind: 'winner', ticket: 'cc'.repeat(32), wallet: 'ours', block, notifiedAt: Date.now(), readiness: ready });
    const r = await cli(['votes', '--config', config], { CREDENTIALS_DIRECTORY: creds });
    await ledger.close();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/bbbbbbbbbbbbbbbb\s+ours\s+missed\s+wallet_locked/);
    expect(r.stdout).toMatch(/cccccccccccccccc\s+ours\s+pending/);
    expect(r.stdout).toContain('total: 0 voted, 1 missed (wallet_locked 1), 0 superseded, 1 pending');
  });

  it('votes --limit takes digits only', async () => {
    const { config, creds } = install('simnet.yaml');
    const r = await cli(['votes', '--config', config, '--limit', '0x10'], { CREDENTIALS_DIRECTORY: creds });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('dcrvoted: --limit must be a whole number from 1 to 999999, got "0x10"\n');
  });

  it('status says clearly when the daemon is not running', async () => {
    const r = await cli(['status', '--url', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the daemon');
  });

  it('version prints the version', async () => {
    const r = await cli(['version']);
    expect(r.stdout).toMatch(/^dcrvoted \d+\.\d+\.\d+/);
  });
});

describe('dcrvoted run as a process', () => {
  it('becomes ready, serves status, logs JSON without secrets, and exits 0 by itself on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const { readFileSync, writeFileSync: write } = await import('node:fs');
    const { parse, stringify } = await import('yaml');
    const { startFakePeers, waitFor, WALLET_PASSPHRASE, DCRD_PASSWORD, JSONRPC_PASSWORD } = await import('../support/daemon-under-test.js');
    const peers = await startFakePeers();
    const cfg = parse(readFileSync(peers.configFile, 'utf8')) as { http: { listen: string } };
    const port = 20000 + Math.floor(Math.random() * 20000);
    cfg.http.listen = `127.0.0.1:${port}`;
    write(peers.configFile, stringify(cfg));
    const child = spawn(process.execPath, [...CLI, 'run', '--config', peers.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000, 100);
      const st = await cli(['status', '--url', `http://127.0.0.1:${port}`]);
      expect(st.code).toBe(0);
      expect(st.stdout).toContain('READY: every wallet can vote');
      expect(st.stdout).toMatch(/wallet main .*: ready/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out.split('\n').filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(2);
      for (const l of lines) JSON.parse(l);
      expect(out).toContain('"event":"stopped"');
      for (const s of [WALLET_PASSPHRASE, DCRD_PASSWORD, JSONRPC_PASSWORD, 'PRIVATE KEY']) expect(out).not.toContain(s);
    } finally {
      child.kill('SIGKILL');
      await peers.wallet.stop();
      await peers.dcrd.dispose();
      peers.pki.cleanup();
    }
  }, 40_000);
});
