// npm run bench — how long the daemon's give-up and stop paths take, against
// the in-process fake dcrd and dcrwallet. The tests assert what happens on
// these paths (the link dropped for a missing pong, the call refused, the
// deadline error, exit code 0); how long it took is a figure, printed here,
// not a pass/fail bound a loaded machine can trip.
//
// silent dcrd:   a frozen dcrd (pingIntervalMs 100) → 'disconnected' (no pong)
// backoff close: close() while a 30 s reconnect backoff is pending
// wallet down:   a stopped wallet → 'unreachable' (callTimeoutMs 1500)
// wallet slow:   Ping delayed 1.5 s → 'deadline' (callTimeoutMs 300)
// relock:        the wallet locked under a running daemon → unlocked again
// stop:          `dcrvoted run` as a process against answering peers;
//                SIGTERM → process exit (exit 0 each)

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { DcrdClient, type DcrdClientEvents, type DcrdClientOptions } from '../src/dcrd/ws-client.js';
import { WalletClient } from '../src/wallet/grpc-client.js';
import { WalletRpcError } from '../src/wallet/rpc-errors.js';
import { generateTestPki } from '../test/support/certs.js';
import { startDaemonUnderTest, startFakePeers, waitFor } from '../test/support/daemon-under-test.js';
import { quickClientOptions, startFakeDcrd, type FakeDcrd } from '../test/support/fake-dcrd.js';
import { FakeWallet } from '../test/support/fake-wallet.js';

const RUNS = Number(process.env.BENCH_TIMING_RUNS ?? 5);
const STOP_RUNS = Number(process.env.BENCH_STOP_RUNS ?? 3);
const PASSWORD = 'bench-dcrd-password';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const max = (xs: number[]) => Math.max(...xs);
const ms = (x: number) => (x < 10 ? x.toFixed(1) : x.toFixed(0)).padStart(5);
const line = (what: string, xs: number[], note = '') =>
  console.log(`  ${what.padEnd(14)} median ${ms(median(xs))} ms   max ${ms(max(xs))} ms   (${xs.length} runs${note})`);

function dcrdClient(fake: FakeDcrd, over: Partial<DcrdClientOptions> = {}): DcrdClient {
  return new DcrdClient(quickClientOptions(fake, PASSWORD, over));
}

function once<K extends keyof DcrdClientEvents>(client: DcrdClient, event: K): Promise<DcrdClientEvents[K][0]> {
  return new Promise((resolve) => {
    const listener = (...args: DcrdClientEvents[K]) => {
      client.off(event, listener);
      resolve(args[0]);
    };
    client.on(event, listener);
  });
}

async function dcrdTimings(): Promise<{ silent: number[]; backoffClose: number[] }> {
  const fake = await startFakeDcrd({ network: 'simnet', password: PASSWORD });
  const silent: number[] = [];
  const backoffClose: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const client = dcrdClient(fake, { pingIntervalMs: 100 });
    const up = once(client, 'connected');
    client.start();
    await up;
    fake.freeze();
    const t0 = performance.now();
    const down = await once(client, 'disconnected');
    silent.push(performance.now() - t0);
    if (!/pong/.test(down.reason)) throw new Error(`dropped for ${down.reason}, not a missing pong`);
    fake.freeze(false);
    await client.close();
  }
  await fake.stop();
  for (let i = 0; i < RUNS; i++) {
    const client = dcrdClient(fake, { backoff: { initialMs: 30_000, maxMs: 60_000 } });
    const failed = once(client, 'connectFailed');
    client.start();
    await failed;
    const t0 = performance.now();
    await client.close();
    backoffClose.push(performance.now() - t0);
  }
  await fake.dispose();
  return { silent, backoffClose };
}

async function walletError(p: Promise<unknown>): Promise<WalletRpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WalletRpcError) return e;
    throw e;
  }
  throw new Error('the call succeeded');
}

async function walletTimings(): Promise<{ down: number[]; slow: number[] }> {
  const pki = generateTestPki();
  const fake = await FakeWallet.start({ pki });
  const client = (callTimeoutMs: number) =>
    new WalletClient({ name: 'w1', address: fake.grpcAddress, caCert: pki.serverCa.cert, clientCert: pki.client.cert, clientKey: pki.client.key, callTimeoutMs });
  const down: number[] = [];
  const slow: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c = client(1500);
    await c.ping();
    await fake.stop();
    const t0 = performance.now();
    const err = await walletError(c.ping());
    down.push(performance.now() - t0);
    if (err.kind !== 'unreachable') throw new Error(`a stopped wallet gave ${err.kind}`);
    c.close();
    await fake.restart();
  }
  for (let i = 0; i < RUNS; i++) {
    const c = client(300);
    await c.ping();
    fake.state.delayMs['Ping'] = 1500;
    const t0 = performance.now();
    const err = await walletError(c.ping());
    slow.push(performance.now() - t0);
    if (err.kind !== 'deadline') throw new Error(`a slow wallet gave ${err.kind}`);
    fake.state.delayMs['Ping'] = 0;
    c.close();
  }
  await fake.stop();
  pki.cleanup();
  return { down, slow };
}

async function relockTimes(): Promise<number[]> {
  const dut = await startDaemonUnderTest({ config: { log: { level: 'warn', format: 'json' } } });
  await waitFor('ready', async () => (await dut.get('/readyz')).status === 200, 20_000);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    dut.wallet.state.locked = true;
    const t0 = performance.now();
    await waitFor('unlocked again', () => !dut.wallet.state.locked, 30_000, 5);
    times.push(performance.now() - t0);
  }
  await dut.stop();
  await dut.wallet.stop();
  await dut.dcrd.dispose();
  dut.pki.cleanup();
  return times;
}

async function stopTimes(): Promise<number[]> {
  const peers = await startFakePeers();
  const c = parse(readFileSync(peers.configFile, 'utf8')) as { http: { listen: string } };
  const port = 20000 + Math.floor(Math.random() * 20000);
  c.http.listen = `127.0.0.1:${port}`;
  writeFileSync(peers.configFile, stringify(c));
  const times: number[] = [];
  for (let i = 0; i < STOP_RUNS; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', peers.configFile], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200, 30_000, 50);
    const t0 = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    times.push(performance.now() - t0);
    if (code !== 0) throw new Error(`exit code ${code}`);
  }
  await peers.wallet.stop();
  await peers.dcrd.dispose();
  peers.pki.cleanup();
  return times;
}

console.log('\ntimings: the give-up and stop paths against the fake dcrd and dcrwallet');
const d = await dcrdTimings();
line('silent dcrd', d.silent, ', pingIntervalMs 100');
line('backoff close', d.backoffClose, ', retry due in 30 s+');
const w = await walletTimings();
line('wallet down', w.down, ', callTimeoutMs 1500');
line('wallet slow', w.slow, ', callTimeoutMs 300, answer after 1500');
line('relock', await relockTimes(), ', locked → unlocked again by the daemon');
line('stop', await stopTimes(), ', SIGTERM → exit 0 of `dcrvoted run`');
process.exit(0);
