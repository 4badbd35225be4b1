// A whole dcrvoted daemon wired to in-process fake peers over real TLS
// sockets: one fake dcrd, one or more fake wallets, a config file on disk,
// and a log stream the test can read (and search for leaked secrets).

import type { VotingKey } from './fake-tickets.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { Daemon, type DaemonFatalError } from '../../src/daemon.js';
import { generateTestPki, type TestPki } from './certs.js';
import { randomHash, startFakeDcrd, type FakeDcrd } from './fake-dcrd.js';
import { FakeWallet, type FakeWalletState } from './fake-wallet.js';

export const WALLET_PASSPHRASE = 'correct horse battery staple';
export const DCRD_PASSWORD = 'dcrd-rpc-pass-s3cret';
export const JSONRPC_PASSWORD = 'wallet-jsonrpc-s3cret';

export interface DaemonUnderTestOptions {
  wallet?: Partial<FakeWalletState>;
  walletConfig?: Record<string, unknown>;
  config?: Record<string, unknown>;
  passphraseOnDisk?: string;
  useRogueClientCert?: boolean;
  network?: 'simnet' | 'testnet' | 'mainnet';
}

export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    const s = chunk.toString();
    this.text += s;
    for (const line of s.split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    cb();
  }
  events(name: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.event === name);
  }
}

/** A daemon running in this process, whatever peers it talks to. */
export interface RunningDaemon {
  daemon: Daemon;
  configFile: string;
  logs: LogCapture;
  fatal: DaemonFatalError | null;
  url: string;
  get(path: string): Promise<{ status: number; body: unknown; text: string }>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export type DaemonUnderTest = RunningDaemon & FakePeers;

/**
 * A new live ticket of the wallet's, reported the way dcrwallet reports one
 * (TransactionNotifications), returned once the daemon's ticket index holds
 * it: a real winner has been the wallet's for hundreds of blocks.
 */
export async function giveTicket(wallet: FakeWallet, daemon: Daemon, opts: { walletName?: string; ticket?: string; tx?: string; votingKey?: VotingKey } = {}): Promise<string> {
  const { walletName = 'main', ticket = randomHash() } = opts;
  // With a voting key (in the default account) the fake wallet can sign the ticket's vote.
  wallet.addTicket(ticket, { status: 'LIVE', ...(opts.tx ? { tx: opts.tx } : {}), ...(opts.votingKey ? { votingKey: opts.votingKey, votingAccount: 0 } : {}) });
  await waitFor(`ticket indexed by wallet ${walletName}`, () => daemon.ticketIndex(walletName)?.has(ticket));
  return ticket;
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 25): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface FakePeers {
  pki: TestPki;
  dcrd: FakeDcrd;
  wallet: FakeWallet;
  dir: string;
  configFile: string;
}

export async function startDaemonUnderTest(opts: DaemonUnderTestOptions = {}): Promise<DaemonUnderTest> {
  return launch(await startFakePeers(opts));
}

/** The fake peers and a config file for a daemon to use, without the daemon. */
export async function startFakePeers(opts: DaemonUnderTestOptions = {}): Promise<FakePeers> {
  const pki = generateTestPki();
  const dcrd = await startFakeDcrd({ password: DCRD_PASSWORD, network: opts.network ?? 'simnet' });
  const wallet = await FakeWallet.start({ pki, state: { passphrase: WALLET_PASSPHRASE, bestBlock: dcrd.tip, ...opts.wallet }, jsonRpcPassword: JSONRPC_PASSWORD });
  const dir = mkdtempSync(join(tmpdir(), 'dcrvoted-daemon-'));
  writeFileSync(join(dir, 'dcrd.cert'), dcrd.caCert);
  writeFileSync(join(dir, 'dcrd-password'), DCRD_PASSWORD + '\n');
  writeFileSync(join(dir, 'wallet-passphrase'), (opts.passphraseOnDisk ?? WALLET_PASSPHRASE) + '\n');
  writeFileSync(join(dir, 'jsonrpc-password'), JSONRPC_PASSWORD + '\n');
  const client = opts.useRogueClientCert ? pki.rogue : pki.client;
  const config = {
    network: 'simnet',
    stateDir: join(dir, 'state'),
    log: { level: 'debug', format: 'json' },
    http: { listen: '127.0.0.1:0' },
    dcrd: { address: `127.0.0.1:${dcrd.port}`, caCert: 'dcrd.cert', user: 'rpcuser', passwordFile: 'dcrd-password' },
    wallets: [
      {
        name: 'main',
        grpcAddress: wallet.grpcAddress,
        caCert: pki.serverCa.certPath,
        clientCert: client.certPath,
        clientKey: client.keyPath,
        passphraseFile: 'wallet-passphrase',
        jsonrpc: { address: wallet.jsonRpcAddress, user: wallet.jsonRpcUser, passwordFile: 'jsonrpc-password' },
        ...opts.walletConfig,
      },
    ],
    policy: { agendas: { maxblocksize: 'yes', blake3pow: 'no' } },
    voting: { voteSeenDeadlineMs: 300, mempoolPollMs: 20 },
    supervisor: { probeIntervalMs: 100, policyCheckIntervalMs: 300, backoffMinMs: 50, backoffMaxMs: 400, wrongPassphraseRetryMs: 60_000 },
    ...opts.config,
  };
  const configFile = join(dir, 'dcrvoted.yaml');
  writeFileSync(configFile, stringify(config));
  return { pki, dcrd, wallet, dir, configFile };
}

/** Start (or restart) a daemon on the same config and state directory. */
/** Stops the daemon and its fake peers and removes their key material. */
export async function dispose(d: DaemonUnderTest | null): Promise<void> {
  await d?.stop();
  await d?.wallet.stop();
  await d?.dcrd.dispose();
  d?.pki.cleanup();
}

/**
 * A daemon on fake peers plus a second fake dcrd, "backup", under
 * dcrd.additionalNodes; returned once it is ready and both nodes are
 * connected. The caller disposes of the daemon (dispose) and of the backup.
 */
export async function launchWithBackupNode(): Promise<{ dut: DaemonUnderTest; backup: FakeDcrd }> {
  const peers = await startFakePeers();
  const backup = await startFakeDcrd({ password: 'pw' });
  const cfg = parse(readFileSync(peers.configFile, 'utf8')) as { dcrd: Record<string, unknown> };
  writeFileSync(join(peers.dir, 'backup.cert'), backup.caCert);
  writeFileSync(join(peers.dir, 'backup-password'), 'pw\n');
  cfg.dcrd.additionalNodes = [{ name: 'backup', address: `127.0.0.1:${backup.port}`, caCert: 'backup.cert', user: 'rpcuser', passwordFile: 'backup-password' }];
  writeFileSync(peers.configFile, stringify(cfg));
  const dut = await launch(peers);
  await waitFor('ready', async () => (await dut.get('/readyz')).status === 200);
  await waitFor('backup connected', async () => (await dut.metric('dcrvoted_dcrd_node_connected', { node: 'backup' })) === 1);
  return { dut, backup };
}

export async function launch(parts: FakePeers): Promise<DaemonUnderTest> {
  const running = await startDaemon(parts.configFile);
  // Keep the running object itself: its `fatal` is filled in later.
  return Object.assign(running, { pki: parts.pki, dcrd: parts.dcrd, wallet: parts.wallet, dir: parts.dir });
}

/** A daemon in this process on the given config, its log captured. */
export async function startDaemon(configFile: string): Promise<RunningDaemon> {
  const logs = new LogCapture();
  const logger = pino({ level: 'debug', redact: { paths: ['password', 'passphrase'], censor: '[redacted]' } }, logs);
  const dut: Partial<RunningDaemon> & { fatal: DaemonFatalError | null } = { fatal: null };
  const daemon = new Daemon({
    config: loadConfig({ configFile, env: {} }),
    logger,
    onFatal: (err) => {
      dut.fatal = err;
    },
  });
  await daemon.start();
  const url = `http://${daemon.httpAddress}`;
  return Object.assign(dut, {
    daemon,
    configFile,
    logs,
    url,
    async get(path: string) {
      const res = await fetch(url + path);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // /metrics is text
      }
      return { status: res.status, body, text };
    },
    async metric(name: string, labels: Record<string, string> = {}) {
      // Histograms report their _count/_sum/_bucket series under the base name.
      const all = await daemon.metrics.registry.getMetricsAsJSON();
      const m = all.find((x) => x.name === name) ?? all.find((x) => name.startsWith(x.name + '_'));
      const v = m?.values.find(
        (x) => ((x as { metricName?: string }).metricName ?? m.name) === name && Object.entries(labels).every(([k, val]) => x.labels[k] === val),
      );
      return v?.value ?? 0;
    },
    async stop() {
      await daemon.stop();
    },
  }) as RunningDaemon;
}
