// npx tsx bench/local-signing.ts — what `signing: local` saves: the time to
// sign a vote's ticket input locally (sign-local.ts) against the wallet's
// SignTransaction over gRPC, on a real simnet, for the same unsigned votes.
// Each locally signed vote is also checked byte-identical to the wallet's.
//
// Part 1 needs no nodes: local signing of the 21 real vote fixtures.
// Part 2 starts the simnet harness: every live ticket of "ours", one unsigned
// vote each on the tip, signed ROUNDS times by each path.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quietIpServerNameWarning } from '../src/process-warnings.js';
import { buildUnsignedVote } from '../src/vote/builder.js';
import { pubKeyHashAddress, ticketVotingKeyHash } from '../src/vote/keys.js';
import { signVoteTicketInput, votingKeyFromWif } from '../src/vote/sign-local.js';
import { subsidySplitFor, type DeploymentState } from '../src/vote/subsidy.js';
import { decodeTx, serializeTx } from '../src/vote/tx.js';
import { walletClient } from '../test/e2e/dcrvoted.js';
import { startSimnet } from '../test/e2e/harness/index.js';

const ROUNDS = Number(process.env.BENCH_SIGN_ROUNDS ?? 20);

function stats(xs: number[]): { n: number; median: number; p99: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { n: s.length, median: q(0.5), p99: q(0.99) };
}

function row(name: string, xs: number[]): void {
  const s = stats(xs);
  console.log(`${name.padEnd(34)} ${String(s.n).padStart(6)} ${s.median.toFixed(3).padStart(9)} ${s.p99.toFixed(3).padStart(9)}`);
}

quietIpServerNameWarning();

// ---- part 1: the fixtures, no nodes
{
  const dir = 'test/fixtures/votes';
  const times: number[] = [];
  const decodes: number[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const fx = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { voteHex: string; ticketHex: string; votingWif: string };
    const vote = decodeTx(fx.voteHex);
    const ticket = decodeTx(fx.ticketHex);
    if (!vote.ok || !ticket.ok) throw new Error(`${f} does not decode`);
    const script = ticket.value.tx.txOut[0]!.pkScript;
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      const key = votingKeyFromWif(fx.votingWif, 'simnet');
      const t1 = performance.now();
      signVoteTicketInput(vote.value.tx, script, key);
      times.push(performance.now() - t1);
      decodes.push(t1 - t0);
      key.privateKey.fill(0);
    }
  }
  console.log(`\nlocal signing, ${ROUNDS} rounds over the 21 vote fixtures (ms)`);
  console.log(`${'what'.padEnd(34)} ${'n'.padStart(6)} ${'median'.padStart(9)} ${'p99'.padStart(9)}`);
  row('WIF → key pair (once per ticket)', decodes);
  row('sign the ticket input locally', times);
}

// ---- part 2: real simnet, the wallet's SignTransaction vs local
const sim = await startSimnet({ ourWallet: { managed: false }, log: () => undefined });
try {
  const wc = await walletClient(sim.ours);
  const tip = await sim.tip();
  const chain = await sim.dcrd.rpc('getblockchaininfo');
  const deployments = chain.deployments as Record<string, DeploymentState>;
  const voteVersion = Number((await sim.ours.rpc('getvotechoices')).version);
  const walletTimes: number[] = [];
  const localTimes: number[] = [];
  let identical = 0;
  let votes = 0;
  for (const ticketHash of await sim.ourLiveTickets()) {
    const ticketTx = await wc.getTicketTx(ticketHash);
    if (!ticketTx) continue;
    const d = decodeTx(ticketTx);
    const keyHash = d.ok ? ticketVotingKeyHash(d.value.tx.txOut[0]!.pkScript) : null;
    if (!d.ok || !keyHash) continue;
    const unsigned = buildUnsignedVote({
      network: 'simnet',
      ticket: ticketTx,
      block: tip,
      voteBits: 1,
      voteVersion,
      subsidySplit: subsidySplitFor('simnet', tip.height, deployments),
    });
    const wif = await wc.dumpPrivateKey(pubKeyHashAddress(keyHash, 'simnet'));
    const key = votingKeyFromWif(wif, 'simnet');
    wif.fill(0);
    const raw = Buffer.from(unsigned.hex, 'hex');
    let walletSigned: Buffer = Buffer.alloc(0);
    let localSigned: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < ROUNDS; i++) {
      let t0 = performance.now();
      walletSigned = (await wc.signTransaction(null, raw)).tx;
      walletTimes.push(performance.now() - t0);
      t0 = performance.now();
      localSigned = serializeTx(signVoteTicketInput(unsigned.tx, d.value.tx.txOut[0]!.pkScript, key));
      localTimes.push(performance.now() - t0);
    }
    key.privateKey.fill(0);
    votes++;
    if (Buffer.from(localSigned).equals(walletSigned)) identical++;
  }
  wc.close();
  console.log(`\nsimnet (${sim.backend} backend): ${votes} live tickets' votes, ${ROUNDS} signatures each per path (ms)`);
  console.log(`${'path'.padEnd(34)} ${'n'.padStart(6)} ${'median'.padStart(9)} ${'p99'.padStart(9)}`);
  row('wallet SignTransaction (gRPC)', walletTimes);
  row('local (signing: local)', localTimes);
  const w = stats(walletTimes);
  const l = stats(localTimes);
  console.log(`wallet/local median ratio: ${(w.median / l.median).toFixed(1)}x, p99 ratio: ${(w.p99 / l.p99).toFixed(1)}x`);
  console.log(`byte-identical to the wallet's signed vote: ${identical} of ${votes}`);
  if (identical !== votes) process.exitCode = 1;
} finally {
  await sim.stop();
}
