// npm run bench (second part) — on a real simnet, how fast does a winning
// ticket's vote reach dcrd's mempool by each path?
//   wallet: dcrwallet --enablevoting votes on its own (dcrvoted only watches)
//   daemon: dcrvoted builds the vote, the wallet signs it, dcrvoted
//           broadcasts it (the wallet runs without --enablevoting)
//   both:   both at once; the first copy of the vote to reach dcrd counts
// Then what SignTransaction costs inside dcrwallet: the gRPC call alone,
// next to a Ping on the same channel as the baseline (the difference is the
// wallet's own work: decode, key lookup, signature).
// Both are timed the same way, from outside: a websocket to dcrd subscribed
// to winningtickets and to every accepted transaction; the figure is the gap
// between the notification and the arrival of that ticket's vote.

import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { DcrdRpc } from '../src/dcrd/rpc.js';
import { DcrdClient } from '../src/dcrd/ws-client.js';
import { buildUnsignedVote } from '../src/vote/builder.js';
import { subsidySplitFor } from '../src/vote/subsidy.js';
import { decodeTx } from '../src/vote/tx.js';
import { quietIpServerNameWarning } from '../src/process-warnings.js';
import { startInProcess, walletClient, writeConfig, waitFor } from '../test/e2e/dcrvoted.js';
import { startSimnet, type Simnet } from '../test/e2e/harness/index.js';

const BLOCKS = Number(process.env.BENCH_VOTE_BLOCKS ?? 40);
const SIGNS = Number(process.env.BENCH_SIGNS ?? 200);

interface Sample {
  ms: number;
}

/** Watches dcrd from outside: winners with their arrival time, and vote arrivals. */
async function watchDcrd(sim: Simnet, ours: Set<string>): Promise<{ samples: Sample[]; close: () => void }> {
  const auth = Buffer.from(`${sim.dcrd.user}:${sim.dcrd.password}`).toString('base64');
  const ws = new WebSocket(sim.dcrd.wsUrl, { ca: readFileSync(sim.dcrd.caCertPath), headers: { Authorization: `Basic ${auth}` } });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const won = new Map<string, number>(); // ticket:block → notified at
  const samples: Sample[] = [];
  let id = 0;
  ws.on('message', (data) => {
    const now = performance.now();
    const msg = JSON.parse(String(data)) as { method?: string; params?: unknown[] };
    if (msg.method === 'winningtickets') {
      const [blockHash, , tickets] = msg.params as [string, number, Record<string, string>];
      for (const t of Object.values(tickets)) if (ours.has(t)) won.set(`${t}:${blockHash}`, now);
    } else if (msg.method === 'txaccepted') {
      const [txid] = msg.params as [string];
      ws.send(JSON.stringify({ jsonrpc: '1.0', id: `tx:${txid}:${now}`, method: 'getrawtransaction', params: [txid, 0] }));
    } else if (typeof (msg as { id?: unknown }).id === 'string' && (msg as { id: string }).id.startsWith('tx:')) {
      const [, , at] = (msg as { id: string }).id.split(':');
      const hex = (msg as { result?: unknown }).result;
      if (typeof hex !== 'string') return;
      const tx = decodeTx(hex);
      if (!tx.ok || tx.value.tx.txIn.length !== 2) return;
      const ticket = Buffer.from(tx.value.tx.txIn[1]!.prevOut.hash).reverse().toString('hex');
      const script = tx.value.tx.txOut[0]?.pkScript;
      if (!script || script.length !== 38) return;
      const block = Buffer.from(script.subarray(2, 34)).reverse().toString('hex');
      const t0 = won.get(`${ticket}:${block}`);
      if (t0 !== undefined) {
        samples.push({ ms: Number(at) - t0 });
        won.delete(`${ticket}:${block}`);
      }
    }
  });
  ws.send(JSON.stringify({ jsonrpc: '1.0', id: ++id, method: 'notifywinningtickets', params: [] }));
  ws.send(JSON.stringify({ jsonrpc: '1.0', id: ++id, method: 'notifynewtransactions', params: [false] }));
  return { samples, close: () => ws.close() };
}

type Path = 'wallet' | 'daemon' | 'both' | 'daemon+local';

async function runPath(sim: Simnet, path: Path): Promise<number[]> {
  const votingMode = path === 'daemon+local' ? 'daemon' : path;
  await sim.ours.stop();
  await sim.ours.start({ enableVoting: votingMode !== 'daemon' });
  const wc = await walletClient(sim.ours);
  const tickets = new Set(await sim.ourLiveTickets());
  wc.close();
  const dut = await startInProcess(writeConfig(sim, { wallet: { votingMode, ...(path === 'daemon+local' ? { signing: 'local' } : {}) } }));
  await waitFor('ready', async () => (await dut.get('/readyz')).status === 200, 60_000, 200);
  // dcrvoted's path is the fast one only once the ticket index is filled (and, signing locally, the keys fetched).
  await waitFor('ticket index loaded', () => dut.daemon.ticketIndex('ours')?.loaded === true, 60_000, 200);
  if (path === 'daemon+local') await waitFor('voting keys fetched', async () => ((await dut.metric('dcrvoted_voting_keys', { wallet: 'ours' })) ?? 0) >= tickets.size, 60_000, 200);
  const locked = (await sim.ours.rpc('walletinfo')) as { unlocked: boolean };
  const watch = await watchDcrd(sim, tickets);
  for (let i = 0; i < BLOCKS; i++) await sim.mine(1);
  await new Promise((r) => setTimeout(r, 500));
  watch.close();
  const casts = dut.logs.events('vote_cast');
  if (casts.length > 0) {
    // dcrvoted's own view: from its receipt of the notification until the first dcrd accepted the vote.
    const own = stats(casts.map((c) => c['firstAcceptedMs']).filter((v): v is number => typeof v === 'number'));
    console.log(`${path}: ${casts.filter((c) => c['prepared'] === true).length} of ${casts.length} votes cast by dcrvoted were built from prepared inputs (no RPC before the signature), wallet ${locked.unlocked ? 'unlocked' : 'LOCKED (signs with the passphrase per call)'}; dcrvoted's notification → dcrd accepted: median ${own.median} ms, p99 ${own.p99} ms`);
    // Where the time goes, from the votes' timelines (ms after dcrvoted received the notification).
    const lines = casts.map((c) => dut.daemon.ledger?.timeline(String(c['ticket']), (c['block'] as { hash: string }).hash)).filter((t) => t !== undefined);
    const stage = (f: (t: (typeof lines)[number]) => number | undefined) => stats(lines.map(f).filter((v): v is number => typeof v === 'number'));
    const built = stage((t) => t.builtMs);
    const signed = stage((t) => t.signedMs);
    const accepted = stage((t) => (t.accepted.length > 0 ? Math.min(...t.accepted.map((a) => a.ms)) : undefined));
    console.log(`${path}: stages (median / p99 ms after the notification, ${lines.length} timelines): built ${built.median} / ${built.p99}, signed ${signed.median} / ${signed.p99}, first dcrd accepted ${accepted.median} / ${accepted.p99}`);
  }
  await dut.stop();
  return watch.samples.map((s) => s.ms);
}

function stats(xs: number[]): { n: number; median: number; p99: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { n: s.length, median: q(0.5), p99: q(0.99) };
}

/** SignTransaction of a real unsigned vote by the unlocked wallet, and Ping, each timed alone on one channel. */
async function signingCost(sim: Simnet): Promise<{ sign: ReturnType<typeof stats>; ping: ReturnType<typeof stats> }> {
  const wc = await walletClient(sim.ours);
  const dcrd = new DcrdClient({ host: sim.dcrd.host, port: sim.dcrd.rpcPort, user: sim.dcrd.user, password: Buffer.from(sim.dcrd.password), caCert: readFileSync(sim.dcrd.caCertPath) });
  try {
    await new Promise<void>((resolve, reject) => {
      dcrd.once('connected', () => resolve());
      dcrd.once('connectFailed', ({ error }) => reject(error));
      dcrd.start();
    });
    const rpc = new DcrdRpc((m, p, o) => dcrd.request(m, p, o));
    // A correct passphrase leaves a wallet unlocked without a time limit as it is (DESIGN.md section 5).
    await wc.unlockWallet(Buffer.from(sim.ours.passphrase));
    const [ticket] = await sim.ourLiveTickets();
    const tx = ticket ? await wc.getTicketTx(ticket) : null;
    if (!ticket || !tx) throw new Error('no live ticket to sign a vote for');
    const best = await rpc.getBestBlock();
    const info = await rpc.getBlockchainInfo();
    const unsigned = buildUnsignedVote({ network: 'simnet', ticket: tx, block: best, voteBits: 1, voteVersion: 12, subsidySplit: subsidySplitFor('simnet', best.height, info.deployments) });
    const raw = Buffer.from(unsigned.hex, 'hex');
    const sign: number[] = [];
    const ping: number[] = [];
    for (let i = 0; i < SIGNS; i++) {
      let t = performance.now();
      await wc.ping();
      ping.push(performance.now() - t);
      t = performance.now();
      const r = await wc.signTransaction(null, raw);
      sign.push(performance.now() - t);
      if (r.unsignedInputIndexes.some((x) => x !== 0)) throw new Error('the wallet left the ticket input unsigned (locked?)');
    }
    return { sign: stats(sign), ping: stats(ping) };
  } finally {
    await dcrd.close();
    wc.close();
  }
}

quietIpServerNameWarning();
const sim = await startSimnet({ ourWallet: { managed: false }, log: () => undefined });
try {
  const wallet = stats(await runPath(sim, 'wallet'));
  const daemon = stats(await runPath(sim, 'daemon'));
  const both = stats(await runPath(sim, 'both'));
  const local = stats(await runPath(sim, 'daemon+local'));
  console.log(`\nnotification → vote in dcrd's mempool on simnet (${sim.backend} backend, ${BLOCKS} blocks per path; ms)`);
  console.log('path          votes   median     p99');
  for (const [name, s] of [['wallet', wallet], ['daemon', daemon], ['both', both], ['daemon+local', local]] as const) {
    console.log(`${name.padEnd(12)} ${String(s.n).padStart(6)} ${s.median.toFixed(2).padStart(8)} ${s.p99.toFixed(2).padStart(8)}`);
  }
  for (const [name, s] of [['daemon', daemon], ['both', both], ['daemon+local', local]] as const) {
    console.log(`${(name + '/wallet').padEnd(19)} median ratio: ${(s.median / wallet.median).toFixed(2)}x, p99 ratio: ${(s.p99 / wallet.p99).toFixed(2)}x`);
  }
  const cost = await signingCost(sim);
  console.log(`\nSignTransaction of a vote by the unlocked wallet (gRPC round trip, ${SIGNS} calls): median ${cost.sign.median.toFixed(2)} ms, p99 ${cost.sign.p99.toFixed(2)} ms`);
  console.log(`Ping on the same channel (baseline):                               median ${cost.ping.median.toFixed(2)} ms, p99 ${cost.ping.p99.toFixed(2)} ms`);
  console.log(`inside dcrwallet, SignTransaction costs about ${(cost.sign.median - cost.ping.median).toFixed(2)} ms (median difference)`);
} finally {
  await sim.ours.stop().catch(() => undefined);
  await sim.stop();
}
process.exit(0);
