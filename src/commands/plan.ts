// `dcrvoted plan --minutes M`: how many of our tickets are expected to win
// in the next M minutes, and the chance that at least one does, from each
// wallet's live ticket count (StakeInfo) and dcrd's ticket pool size (the
// best block header's PoolSize). For picking a maintenance window.

import { loadFromArgs, UsageError, type ParsedArgs } from '../cli-args.js';
import type { DaemonConfig } from '../config/load.js';
import { withPrimaryDcrd } from '../dcrd/once.js';
import { errorMessage } from '../errors.js';
import { exposure, TARGET_BLOCK_SECONDS, TICKETS_PER_BLOCK, type Exposure } from '../plan/exposure.js';
import { walletClientFor } from '../wallet/from-config.js';
import { table } from './votes.js';

export const PLAN_APPROXIMATION = `The estimate takes blocks = minutes / the network's target block time, ${TICKETS_PER_BLOCK} winners per block drawn from the live pool, and the pool size and our live tickets as they are now (tickets maturing, expiring or winning meanwhile are ignored). Real block times vary around the target: leave a margin.`;

/** Longer than any maintenance window; bounds the arithmetic. */
const MAX_MINUTES = 525_600;

export function parseMinutes(v: string | true | undefined): number {
  if (v === undefined || v === true) throw new UsageError('plan needs --minutes M (the length of the window, in minutes)');
  const m = /^\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0) || n > MAX_MINUTES) throw new UsageError(`--minutes must be a number of minutes above 0 and at most ${MAX_MINUTES} (one year), got "${v.slice(0, 32)}"`);
  return n;
}

export interface PlanInputs {
  network: DaemonConfig['network'];
  wallets: { name: string; live: number }[];
  pool: { size: number; height: number; hash: string; node: string };
}

export async function planCommand(args: ParsedArgs): Promise<number> {
  const minutes = parseMinutes(args.flags.get('minutes'));
  const config = loadFromArgs(args);
  const failures: string[] = [];
  const [pool, wallets] = await Promise.all([
    poolOf(config).catch((err: unknown) => {
      failures.push(named(`dcrd node ${config.dcrd.nodes[0].name} at ${config.dcrd.nodes[0].endpoint.address}`, errorMessage(err)));
      return null;
    }),
    Promise.all(
      config.wallets.map(async (w) => {
        const client = walletClientFor(w);
        try {
          return { name: w.name, live: (await client.stakeInfo()).live };
        } catch (err) {
          failures.push(named(`wallet ${w.name} at ${w.grpc.address}`, errorMessage(err)));
          return null;
        } finally {
          client.close();
        }
      }),
    ),
  ]);
  if (!pool || wallets.some((w) => w === null)) {
    process.stderr.write(`dcrvoted plan: cannot estimate without every peer:\n${failures.map((f) => `  ${f}\n`).join('')}`);
    return 1;
  }
  const inputs: PlanInputs = { network: config.network, wallets: wallets.filter((w) => w !== null), pool };
  const blockSeconds = TARGET_BLOCK_SECONDS[config.network];
  const ours = inputs.wallets.reduce((s, w) => s + w.live, 0);
  let e: Exposure;
  try {
    e = exposure({ ours, poolSize: pool.size, minutes, blockSeconds });
  } catch (err) {
    process.stderr.write(`dcrvoted plan: ${errorMessage(err)}\n`);
    return 1;
  }
  if (args.flags.has('json')) {
    process.stdout.write(JSON.stringify({ minutes, blockSeconds, ...inputs, ours, ...e, approximation: PLAN_APPROXIMATION }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(render(minutes, blockSeconds, inputs, ours, e));
  return 0;
}

export function render(minutes: number, blockSeconds: number, i: PlanInputs, ours: number, e: Exposure): string {
  const rows = [
    ['window', `${minutes} min on ${i.network}: ${round(e.blocks)} block(s) at the ${blockSeconds >= 60 ? `${blockSeconds / 60} min` : `${blockSeconds} s`} target`],
    ['ticket pool', `${i.pool.size} live tickets (dcrd ${i.pool.node}, block ${i.pool.height})`],
    ['our tickets', `${ours} live (${i.wallets.map((w) => `${w.name} ${w.live}`).join(', ')})`],
    ['expected wins', round(e.expectedWins)],
    ['P(at least one)', percent(e.atLeastOne)],
  ];
  return `${table(rows)}\n\n${PLAN_APPROXIMATION} Wallets holding the same tickets (redundant voting wallets) are counted once each: use one of them.\n`;
}

/** The peer's name before its error, unless the error already starts with it. */
function named(peer: string, message: string): string {
  return message.startsWith(peer) ? message : `${peer}: ${message}`;
}

function round(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

function percent(p: number): string {
  if (p === 0) return '0 %';
  if (p >= 0.9995 && p < 1) return '> 99.9 %';
  return p < 0.001 ? `${(p * 100).toPrecision(2)} %` : `${(p * 100).toFixed(1)} %`;
}

/** The primary dcrd's pool size at its best block; one connection attempt, a clear error if it fails. */
async function poolOf(config: DaemonConfig): Promise<PlanInputs['pool']> {
  return withPrimaryDcrd(config, async (rpc) => {
    const net = await rpc.getNetworkName();
    if (net !== config.network) throw new Error(`dcrd is on ${net}, but dcrvoted is configured for ${config.network}`);
    const best = await rpc.getBestBlock();
    const header = await rpc.getBlockHeader(best.hash);
    return { size: header.poolSize, height: header.height, hash: header.hash, node: config.dcrd.nodes[0].name };
  });
}
