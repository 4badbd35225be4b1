// npm run bench — what notifications cost. The tests assert what happens
// (delivered once, dropped when full, stop still ends the process); the
// figures are printed here.
//
// raise:    Notifier.event() while the receiver hangs (queue full, dropping):
//           what the vote path pays per notification, in microseconds
// deliver:  event() → the local HTTP receiver has the request
// stop:     `dcrvoted run` with a notification receiver and a heartbeat
//           monitor that accept TCP and never answer; SIGTERM → exit

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { Secret } from '../src/config/secret.js';
import { DeliveryQueue } from '../src/notify/delivery.js';
import { Notifier } from '../src/notify/notifier.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { startFakePeers, waitFor } from '../test/support/daemon-under-test.js';
import { startReceiver } from '../test/support/receiver.js';
import { startSilentTcp } from '../test/support/silent-peers.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const max = (xs: number[]) => Math.max(...xs);

function notifierTo(url: string, maxQueue: number, timeoutMs: number): Notifier {
  const metrics = createMetrics({ version: 'bench', network: 'simnet', processMetrics: false });
  const target = { name: 'bench', kind: 'webhook' as const, url: new Secret(Buffer.from(url)), origin: new URL(url).origin, token: null, caCert: null, minSeverity: 'info' as const };
  const q = new DeliveryQueue(target, { maxQueue, timeoutMs, retries: 0, backoffMinMs: 1, backoffMaxMs: 1 }, metrics, pino({ level: 'silent' }));
  return new Notifier({ targets: [q], source: 'bench' });
}

async function raiseCost(): Promise<void> {
  const hang = await startReceiver();
  hang.behave({ kind: 'hang' });
  const n = notifierTo(hang.url, 100, 600_000);
  const N = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) n.event(`e${i}`, 'critical', 'bench', { i });
  const us = ((performance.now() - t0) * 1000) / N;
  console.log(`  raise          ${us.toFixed(2)} µs per event() with the receiver hung and the queue dropping (${N} events)`);
  await n.stop();
  await hang.close();
}

async function deliver(): Promise<void> {
  const r = await startReceiver();
  const n = notifierTo(r.url, 100, 5000);
  const xs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    n.event(`d${i}`, 'critical', 'bench');
    await waitFor('arrived', () => r.received.length === i + 1, 10_000, 1);
    xs.push(performance.now() - t0);
  }
  console.log(`  deliver        median ${median(xs).toFixed(1)} ms   max ${max(xs).toFixed(1)} ms   (${xs.length} events, local HTTP)`);
  await n.stop();
  await r.close();
}

async function stop(): Promise<void> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await startFakePeers();
    const hole = await startSilentTcp();
    const port = 25_000 + Math.floor(Math.random() * 1000);
    const c = parse(readFileSync(p.configFile, 'utf8')) as Record<string, unknown>;
    c.http = { listen: `127.0.0.1:${port}` };
    c.notify = { timeoutMs: 600_000, heartbeatUrl: `http://${hole.address}/ping`, heartbeatIntervalMs: 100, targets: [{ name: 'hook', url: `http://${hole.address}/hook` }] };
    writeFileSync(p.configFile, stringify(c));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', p.configFile], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('up', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200, 30_000, 100);
    await waitFor('stuck', () => hole.accepted >= 2, 30_000, 50);
    const t0 = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    xs.push(performance.now() - t0);
    if (code !== 0) console.log(`  (run ${i}: exit ${code})`);
    await hole.close();
    await p.wallet.stop();
    await p.dcrd.dispose();
    p.pki.cleanup();
  }
  console.log(`  stop           median ${median(xs).toFixed(0)} ms   max ${max(xs).toFixed(0)} ms   (${xs.length} runs, SIGTERM → exit, receiver and monitor hung)`);
}

console.log('notifications (bench/notify.ts):');
await raiseCost();
await deliver();
await stop();
process.exit(0);
