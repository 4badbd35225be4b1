// npm run bench — what hostile peers cost.
//
// flood: the fake dcrd sends 1,000 junk or duplicate notifications a second
//   for FLOOD_SECONDS while a winner of ours is announced every 200 ms;
//   figures are block announced → winner recorded, during the flood and
//   without it, the RSS growth and what the pool dropped.
// stop:  `dcrvoted run` as a process against a dcrd and a wallet that accept
//   TCP and never answer; SIGTERM → process exit, STOP_RUNS times.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { randomHash } from '../test/support/fake-dcrd.js';
import { startDaemonUnderTest, startFakePeers, waitFor, type DaemonUnderTest } from '../test/support/daemon-under-test.js';
import { startSilentTcp } from '../test/support/silent-peers.js';

const FLOOD_SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 5);
const STOP_RUNS = Number(process.env.BENCH_STOP_RUNS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const max = (xs: number[]) => Math.max(...xs);

async function recordWinner(dut: DaemonUnderTest): Promise<number> {
  const ticket = randomHash();
  dut.wallet.state.tickets.set(ticket, { status: 'LIVE' });
  const t0 = performance.now();
  const won = dut.dcrd.connectBlock({ winners: [ticket, randomHash(), randomHash()] });
  await waitFor('recorded', () => dut.daemon.ledger?.get(ticket, won.hash), 10_000, 1);
  return performance.now() - t0;
}

async function flood() {
  const dut = await startDaemonUnderTest({ config: { log: { level: 'warn', format: 'json' } } });
  await waitFor('ready', async () => (await dut.get('/readyz')).status === 200, 20_000);
  const quiet: number[] = [];
  for (let i = 0; i < 10; i++) quiet.push(await recordWinner(dut));
  const ntfn = (method: string, params: string) => `{"jsonrpc":"1.0","method":"${method}","params":${params},"id":null}`;
  const rss0 = process.memoryUsage().rss;
  let sent = 0;
  const junk = () => {
    for (let k = 0; k < 10; k++, sent++) {
      const tip = dut.dcrd.tipBlock();
      switch (sent % 4) {
        case 0: dut.dcrd.sendRaw(ntfn('blockconnected', `["${tip.headerHex}",null]`)); break;
        case 1: dut.dcrd.sendRaw(ntfn(`junk${sent}`, '{}')); break;
        case 2: dut.dcrd.sendRaw(ntfn('winningtickets', `["${randomHash()}",${sent},{"0":"${randomHash()}"}]`)); break;
        case 3: dut.dcrd.sendRaw('['.repeat(10_000) + ']'.repeat(10_000)); break;
      }
    }
  };
  const timer = setInterval(junk, 10); // 10 frames every 10 ms: 1,000 a second
  const during: number[] = [];
  const until = performance.now() + FLOOD_SECONDS * 1000;
  while (performance.now() < until) {
    during.push(await recordWinner(dut));
    await new Promise((r) => setTimeout(r, 200));
  }
  clearInterval(timer);
  const rssGrowth = (process.memoryUsage().rss - rss0) / 2 ** 20;
  const stats = dut.daemon.dcrdPool!.stats();
  await dut.stop();
  await dut.wallet.stop();
  await dut.dcrd.dispose();
  dut.pki.cleanup();
  return { sent, quiet, during, rssGrowth, stats };
}

async function stopTimes(): Promise<number[]> {
  const peers = await startFakePeers();
  const hole = await startSilentTcp();
  const c = parse(readFileSync(peers.configFile, 'utf8')) as { http: { listen: string }; dcrd: { address: string }; wallets: { grpcAddress: string; jsonrpc: { address: string } }[] };
  const port = 20000 + Math.floor(Math.random() * 20000);
  c.http.listen = `127.0.0.1:${port}`;
  c.dcrd.address = hole.address;
  c.wallets[0]!.grpcAddress = hole.address;
  c.wallets[0]!.jsonrpc.address = hole.address;
  writeFileSync(peers.configFile, stringify(c));
  const times: number[] = [];
  for (let i = 0; i < STOP_RUNS; i++) {
    const before = hole.accepted;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', peers.configFile], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('up', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 20_000, 50);
    await waitFor('peers connected', () => hole.accepted >= before + 2, 20_000, 20);
    const t0 = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    times.push(performance.now() - t0);
    if (code !== 0) throw new Error(`exit code ${code}`);
  }
  await hole.close();
  await peers.wallet.stop();
  await peers.dcrd.dispose();
  peers.pki.cleanup();
  return times;
}

const f = await flood();
console.log(`\nflood: ${f.sent} junk/duplicate/deep frames from dcrd in ${FLOOD_SECONDS} s (1,000/s), a winner of ours every 200 ms`);
console.log(`  winner recorded (ms)   quiet median ${median(f.quiet).toFixed(1)} max ${max(f.quiet).toFixed(1)}   during flood median ${median(f.during).toFixed(1)} max ${max(f.during).toFixed(1)} (${f.during.length} winners)`);
console.log(`  RSS growth ${f.rssGrowth.toFixed(1)} MiB; malformed ${f.stats.malformed}, duplicates dropped ${f.stats.duplicatesDropped}, dedup window ${f.stats.dedupEntries}/${f.stats.dedupWindow}`);
const t = await stopTimes();
console.log(`\nstop: SIGTERM → exit with dcrd and the wallet accepting TCP and never answering: median ${median(t).toFixed(0)} ms, max ${max(t).toFixed(0)} ms (${t.length} runs, exit 0 each)`);
process.exit(0);
