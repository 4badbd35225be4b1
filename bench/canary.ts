// npm run bench — what a signing-canary run costs (tsx bench/canary.ts).
//
// A run streams every ticket of the wallet (GetTickets) to find one live
// ticket per voting account, then signs one vote per account. Against the
// fake wallet (real gRPC over TLS on loopback) with 1k, 10k and 50k live
// tickets in 4 voting accounts: the time of a full run and the RSS growth.
// The real wallet adds its own cost per ticket (GetTicketsPrecise asks dcrd
// about live tickets), which this does not measure.

import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createMetrics } from '../src/telemetry/metrics.js';
import { VoteAssembler } from '../src/vote/assembler.js';
import { AccountLockGuard } from '../src/wallet/account-locks.js';
import { WalletClient } from '../src/wallet/grpc-client.js';
import { SigningCanary } from '../src/wallet/signing-canary.js';
import { generateTestPki } from '../test/support/certs.js';
import { makeTicket, newVotingKey } from '../test/support/fake-tickets.js';
import { FakeWallet, type FakeTicket } from '../test/support/fake-wallet.js';

const SIZES = (process.env.BENCH_CANARY_TICKETS ?? '1000,10000,50000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_CANARY_RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const logger = pino({ level: 'silent' });

async function bench(n: number): Promise<void> {
  const pki = generateTestPki();
  const tickets = new Map<string, FakeTicket>();
  const keys = [0, 1, 2, 3].map(() => newVotingKey());
  for (let i = 0; i < n; i++) {
    const account = i % 4;
    const key = keys[account]!;
    const t = makeTicket(key);
    tickets.set(t.hash, { status: 'LIVE', tx: t.hex, votingAccount: account, votingKey: key });
  }
  const wallet = await FakeWallet.start({
    pki,
    state: { locked: false, tickets, accounts: new Map([0, 1, 2, 3].map((a) => [a, { name: `a${a}`, unlocked: true }])) },
  });
  const client = new WalletClient({ name: 'bench', address: wallet.grpcAddress, caCert: pki.serverCa.cert, clientCert: pki.client.cert, clientKey: pki.client.key, callTimeoutMs: 30_000 });
  const metrics = createMetrics({ version: 'bench', network: 'simnet', processMetrics: false });
  const canary = new SigningCanary({
    walletName: 'bench',
    walletAloneVotes: true,
    wallet: client,
    assembler: new VoteAssembler({ walletName: 'bench', network: 'simnet', wallet: client, chain: { deployments: async () => ({}), tspendExpiry: async () => null }, voteVersion: () => 12, logger }),
    accounts: new AccountLockGuard({ walletName: 'bench', wallet: client, passphrases: new Map(), metrics, logger }),
    lock: { unlocked: () => true, lockedByDesign: () => false },
    metrics,
    logger,
  });
  const tip = { hash: 'ab'.repeat(32), height: 1000 };
  const times: number[] = [];
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = await canary.run(tip);
    times.push(performance.now() - t0);
    if (r.status !== 'ok') throw new Error(`canary: ${r.status} ${r.message}`);
  }
  const rss = (process.memoryUsage().rss - rss0) / 2 ** 20;
  console.log(`canary run, ${n} live tickets in 4 accounts: median ${median(times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms over ${RUNS} runs; RSS +${rss.toFixed(1)} MiB`);
  client.close();
  await wallet.stop();
  pki.cleanup();
}

for (const n of SIZES) await bench(n);
