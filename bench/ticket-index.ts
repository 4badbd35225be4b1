// npm run bench (part) — the ticket index at 1k, 10k and 100k tickets of
// ours: the memory it holds, how long a fill takes, and the vote hot path
// (ownership lookup + prepared inputs + building the unsigned vote), which
// must not grow with the ticket count. In process, no sockets: what is timed
// is dcrvoted's own work between the notification and SignTransaction.
//
//   npx tsx --expose-gc bench/ticket-index.ts     (BENCH_SIZES=1000,10000,100000)

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { buildUnsignedVote } from '../src/vote/builder.js';
import { VotePreparation } from '../src/vote/prepared-inputs.js';
import { decodeTx, serializeTx, txid } from '../src/vote/tx.js';
import type { WalletTicket } from '../src/wallet/grpc-client.js';
import { TicketIndex } from '../src/wallet/ticket-index.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const WINNERS = Number(process.env.BENCH_WINNERS ?? 5000);

const fx = readdirSync('test/fixtures/votes')
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join('test/fixtures/votes', f), 'utf8')) as { ticketHex: string; votedBlock: { hash: string; height: number }; deployments: Record<string, { status: string; since?: number }> })[0]!;

/** n distinct ticket purchases shaped like a real one (the fixture's, with input 0 pointing elsewhere). */
function tickets(n: number): WalletTicket[] {
  const d = decodeTx(fx.ticketHex);
  if (!d.ok) throw new Error(d.reason);
  const out: WalletTicket[] = [];
  for (let i = 0; i < n; i++) {
    const tx = d.value.tx;
    const input = tx.txIn[0]!;
    input.prevOut = { ...input.prevOut, index: i };
    out.push({ hash: txid(tx), status: 'LIVE', tx: Buffer.from(serializeTx(tx)), blockHeight: 10 });
  }
  return out;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function used(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

async function benchSize(n: number) {
  const base = used();
  const listing = tickets(n);
  const wallet = {
    voteChoices: async () => ({ choices: [{ agendaId: 'a', choiceId: 'abstain' }], voteBits: 1 }),
    tspendPolicies: async () => [],
    treasuryPolicies: async () => [],
  };
  const chain = { deploymentsAt: async () => ({ height: fx.votedBlock.height, deployments: fx.deployments }), tspendExpiry: async () => null };
  const index = new TicketIndex({ network: 'simnet' });
  const prep = new VotePreparation({ walletName: 'w', network: 'simnet', index, wallet, chain, logger: pino({ level: 'silent' }), checkConcurrency: 64 });
  await prep.refresh();
  const t0 = performance.now();
  index.fill(listing, fx.votedBlock.height);
  const fillMs = performance.now() - t0;
  listing.length = 0;
  // Every ticket is checked once for per-ticket settings (one VoteChoices each, here answered in process).
  const c0 = performance.now();
  while (prep.pendingChecks > 0) await new Promise((r) => setTimeout(r, 1));
  const checkMs = performance.now() - c0;
  const held = used() - base;
  void listing;

  const hashes = [...index.tickets()];
  const hot: number[] = [];
  for (let i = 0; i < WINNERS; i++) {
    const ticket = hashes[(i * 7919) % hashes.length]!;
    const s = performance.now();
    if (!index.loaded || !index.has(ticket)) throw new Error('not indexed');
    const p = prep.forWinner(ticket, fx.votedBlock);
    if (!p) throw new Error('not prepared');
    buildUnsignedVote({ network: 'simnet', ticket: p.ticketTx, block: fx.votedBlock, voteBits: p.voteBits, voteVersion: 12, subsidySplit: p.subsidySplit, treasuryVotes: p.treasuryVotes });
    hot.push(performance.now() - s);
  }
  hot.sort((a, b) => a - b);
  return { n, fillMs, checkMs, held, approx: index.approxBytes(), median: quantile(hot, 0.5), p99: quantile(hot, 0.99) };
}

async function main() {
  if (!(globalThis as { gc?: unknown }).gc) console.log('(run with --expose-gc for steadier memory figures)');
  console.log('ticket index: memory held and the vote hot path (lookup + prepared inputs + unsigned vote), in process');
  console.log('| owned tickets | fill | per-ticket checks | memory held (index + flags) | per ticket | approxBytes() | hot path median / p99 |');
  console.log('|---|---|---|---|---|---|---|');
  for (const n of SIZES) {
    const r = await benchSize(n);
    const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
    console.log(`| ${n.toLocaleString('en')} | ${r.fillMs.toFixed(0)} ms | ${r.checkMs.toFixed(0)} ms | ${mib(r.held)} | ${Math.round(r.held / n)} B | ${mib(r.approx)} | ${(r.median * 1000).toFixed(0)} / ${(r.p99 * 1000).toFixed(0)} µs |`);
  }
}

await main();
