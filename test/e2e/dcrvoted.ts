// Runs dcrvoted against a real simnet: writes its config from the harness's
// nodes, and starts the daemon either in this process (to read its ledger
// and metrics directly) or as a child process (to SIGKILL it).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DcrdRpc } from '../../src/dcrd/rpc.js';
import { readLedger, type LedgerEntry } from '../../src/ledger/ledger.js';
import { WalletClient } from '../../src/wallet/grpc-client.js';
import { startDaemon, waitFor, type RunningDaemon } from '../support/daemon-under-test.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startSimnet, type Simnet, type StartSimnetOptions, type WalletNode } from './harness/index.js';

export { waitFor };

export interface E2eConfigOptions {
  agendas?: Record<string, string>;
  wallet?: Record<string, unknown>;
  network?: string;
  clientCertPath?: string;
  clientKeyPath?: string;
  passphrase?: string;
  httpPort?: number;
  /** Merged into the dcrd section (e.g. syncCheckIntervalMs, syncGraceMs). */
  dcrd?: Record<string, unknown>;
  /** Merged into the voting section. */
  voting?: Record<string, unknown>;
  /** The notify: section as is. */
  notify?: Record<string, unknown>;
}

let seq = 0;

/** Writes a dcrvoted config for the simnet's "ours" wallet; returns its path. */
export function writeConfig(sim: Simnet, opts: E2eConfigOptions = {}, dir?: string): string {
  const d = dir ?? join(sim.baseDir, `dcrvoted-${++seq}`);
  mkdirSync(d, { recursive: true });
  const ours = sim.ours;
  writeFileSync(join(d, 'dcrd-password'), sim.dcrd.password);
  writeFileSync(join(d, 'wallet-passphrase'), opts.passphrase ?? ours.passphrase);
  writeFileSync(join(d, 'wallet-jsonrpc-password'), ours.rpcPassword);
  const config = {
    network: opts.network ?? 'simnet',
    stateDir: join(d, 'state'),
    log: { level: 'debug', format: 'json' },
    http: { listen: `127.0.0.1:${opts.httpPort ?? 0}` },
    dcrd: {
      address: `${sim.dcrd.host}:${sim.dcrd.rpcPort}`,
      caCert: sim.dcrd.caCertPath,
      user: sim.dcrd.user,
      passwordFile: 'dcrd-password',
      // With a second dcrd in the simnet, dcrvoted is configured with both.
      ...(sim.dcrd2
        ? { additionalNodes: [{ name: 'dcrd2', address: `${sim.dcrd2.host}:${sim.dcrd2.rpcPort}`, caCert: sim.dcrd2.caCertPath, user: sim.dcrd2.user, passwordFile: 'dcrd-password' }] }
        : {}),
      ...opts.dcrd,
    },
    wallets: [
      {
        name: 'ours',
        mode: ours.isManaged() ? 'managed' : 'attached',
        grpcAddress: ours.grpcAddress,
        caCert: ours.caCertPath,
        clientCert: opts.clientCertPath ?? ours.clientCertPath,
        clientKey: opts.clientKeyPath ?? ours.clientKeyPath,
        passphraseFile: 'wallet-passphrase',
        jsonrpc: { address: ours.jsonRpcAddress, user: ours.rpcUser, passwordFile: 'wallet-jsonrpc-password' },
        ...opts.wallet,
      },
    ],
    policy: { agendas: opts.agendas ?? {} },
    voting: { voteSeenDeadlineMs: 2000, mempoolPollMs: 25, ...opts.voting },
    supervisor: { probeIntervalMs: 250, policyCheckIntervalMs: 1000, backoffMinMs: 100, backoffMaxMs: 1000, wrongPassphraseRetryMs: 60_000 },
    ...(opts.notify ? { notify: opts.notify } : {}),
  };
  const file = join(d, 'dcrvoted.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/** dcrvoted in this process against the simnet, on a config from writeConfig. */
export function startInProcess(configFile: string): Promise<RunningDaemon> {
  return startDaemon(configFile);
}

export interface DaemonProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  url: string;
}

/** dcrvoted as a child process (`dcrvoted run`), for kill -9. */
export function startProcess(configFile: string, httpPort: number): DaemonProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited, url: `http://127.0.0.1:${httpPort}` };
}

export { readLedger };

/** dcrd's view, through our own typed RPC helpers. */
export function chainOf(sim: Simnet): DcrdRpc {
  return new DcrdRpc((method, params, opts) => sim.dcrd.rpc(method, params ? [...params] : [], opts?.timeoutMs));
}

/** Our gRPC client for a simnet wallet, with dcrvoted's client certificate. */
export async function walletClient(w: WalletNode): Promise<WalletClient> {
  const { readFileSync } = await import('node:fs');
  return new WalletClient({
    name: w.name,
    address: w.grpcAddress,
    caCert: readFileSync(w.caCertPath),
    clientCert: readFileSync(w.clientCertPath),
    clientKey: readFileSync(w.clientKeyPath),
  });
}

/** The daemon's recent ledger entries decided with this outcome, for winners at or above height `from`. */
export function decidedFrom(d: RunningDaemon, outcome: string, from = 0) {
  return (d.daemon.ledger?.recent(1000) ?? []).filter((e) => e.outcome?.outcome === outcome && e.winner.block.height >= from);
}

/**
 * dcrvoted's vote_cast log line for each of these winners, waited for. The
 * line is written once the broadcast to every dcrd and to the wallet has
 * answered, which can be after the vote was mined and decided: in votingMode
 * both the wallet's identical vote gets there first, and in daemon mode the
 * vote is in dcrd's mempool (and mined) while the wallet is still answering.
 */
export function castsFor(d: RunningDaemon, entries: readonly LedgerEntry[], timeoutMs = 15_000): Promise<Record<string, unknown>[]> {
  return waitFor(
    `dcrvoted's vote_cast line for each of ${entries.length} winner(s)`,
    () => {
      const casts = d.logs.events('vote_cast');
      const found = entries.map((e) => casts.find((c) => c.ticket === e.winner.ticket && (c.block as { hash?: string } | undefined)?.hash === e.winner.block.hash));
      return found.every((c) => c !== undefined) ? (found as Record<string, unknown>[]) : null;
    },
    timeoutMs,
    50,
  );
}

/** Mines one block at a time until `cond` holds, up to `max` blocks. */
export async function mineUntil(sim: Simnet, cond: () => boolean | Promise<boolean>, max: number): Promise<number> {
  for (let i = 0; i < max; i++) {
    if (await cond()) return i;
    await sim.mine(1);
  }
  if (await cond()) return max;
  throw new Error(`condition not met after mining ${max} blocks`);
}


const MINUTE = 60_000;

/** One simnet for a test file, our gRPC client to its wallet, and the daemon the current test runs. */
export interface SimnetFixture {
  readonly sim: Simnet;
  /** dcrvoted's gRPC client for "ours" (its client certificate). */
  readonly wallet: WalletClient;
  /** The in-process daemon the current test started; stopped after each test. */
  dut: RunningDaemon | null;
}

/**
 * Registers the file's lifecycle: a simnet (from the snapshot) before all
 * tests, the test's daemon stopped after each, everything torn down after all.
 */
export function useSimnet(opts: StartSimnetOptions = { ourWallet: { managed: false } }): SimnetFixture {
  let sim: Simnet | null = null;
  let wallet: WalletClient | null = null;
  const fx: SimnetFixture = {
    get sim() {
      if (!sim) throw new Error('the simnet is not up (useSimnet registers a beforeAll)');
      return sim;
    },
    get wallet() {
      if (!wallet) throw new Error('the simnet is not up (useSimnet registers a beforeAll)');
      return wallet;
    },
    dut: null,
  };
  beforeAll(async () => {
    sim = await startSimnet(opts);
    console.log(`[e2e] simnet up in ${(sim.bringUpMs / 1000).toFixed(1)} s, backend=${sim.backend}, ${sim.fromSnapshot ? 'from snapshot' : 'cold'}`);
    wallet = await walletClient(sim.ours);
  }, 6 * MINUTE);
  afterEach(async () => {
    await fx.dut?.stop();
    fx.dut = null;
  });
  afterAll(async () => {
    wallet?.close();
    await sim?.stop();
  }, 2 * MINUTE);
  return fx;
}

/**
 * Like mineUntil, but before each block waits (up to waitMs) until dcrvoted
 * has recorded every winner of ours of the tip and seen its vote in dcrd's
 * mempool: the harness mines once three votes are in, and on a loaded machine
 * a signature by a locked wallet (key derivation) can take longer than the
 * other wallet's votes. Tests of what dcrvoted casts should not lose that
 * race by chance.
 */
export async function mineWithOurVotes(sim: Simnet, dut: RunningDaemon, cond: () => boolean | Promise<boolean>, max: number, waitMs = 20_000): Promise<number> {
  const ourVotesIn = async (): Promise<boolean> => {
    const tip = await sim.tip();
    const winners = sim.winnersAt(tip.hash);
    if (!winners) return false;
    const live = new Set(await sim.ourLiveTickets());
    const pending = dut.daemon.status().votes.pending;
    return winners.tickets
      .filter((t) => live.has(t))
      .every((t) => {
        const e = dut.daemon.ledger?.get(t, tip.hash);
        if (!e) return false;
        return e.outcome !== undefined || pending.some((p) => p.ticket === t && p.block.hash === tip.hash && p.voteSeenMs !== null);
      });
  };
  for (let i = 0; i < max; i++) {
    if (await cond()) return i;
    await waitFor('our votes for the tip in the mempool', ourVotesIn, waitMs, 50).catch(() => undefined);
    await sim.mine(1);
  }
  if (await cond()) return max;
  throw new Error(`condition not met after mining ${max} blocks`);
}
