// How exposed our tickets are over the next M minutes: the expected number
// of them the lottery picks, and the chance that at least one is picked, so
// a staker can choose a maintenance window.
//
// The model, and where it is approximate:
// - blocks = M minutes / the network's target block time (chaincfg
//   TargetTimePerBlock: mainnet 5 min, testnet 2 min, simnet 1 s). Real
//   intervals are random around the target; the count may be fractional.
// - each block draws TicketsPerBlock = 5 distinct winners uniformly from the
//   live pool of N tickets (dcrd's block header PoolSize), so one block
//   picks none of our k with probability C(N-k, 5) / C(N, 5).
// - N and k stay as they are now: tickets maturing, expiring or winning
//   during the window are ignored (over hours the pool barely moves; over
//   days ours shrink as they win), and blocks are taken as independent.
// Expected wins = blocks · 5 · k / N (exact under the model);
// P(at least one) = 1 − (C(N-k, 5) / C(N, 5))^blocks.

import type { NetworkName } from '../domain.js';

export const TICKETS_PER_BLOCK = 5;

/** chaincfg's TargetTimePerBlock per network, in seconds. */
export const TARGET_BLOCK_SECONDS: Readonly<Record<NetworkName, number>> = { mainnet: 300, testnet: 120, simnet: 1 };

export interface ExposureInput {
  /** Our live tickets (k). */
  ours: number;
  /** Live tickets in the pool (N). */
  poolSize: number;
  minutes: number;
  blockSeconds: number;
}

export interface Exposure {
  blocks: number;
  expectedWins: number;
  /** Probability that one block picks none of ours. */
  noneInOneBlock: number;
  atLeastOne: number;
}

export class ExposureInputError extends Error {}

export function exposure(i: ExposureInput): Exposure {
  const { ours: k, poolSize: n } = i;
  if (!Number.isInteger(n) || n < TICKETS_PER_BLOCK) throw new ExposureInputError(`the ticket pool has ${n} tickets; a block needs at least ${TICKETS_PER_BLOCK} to draw from`);
  if (!Number.isInteger(k) || k < 0) throw new ExposureInputError(`our live ticket count must be a whole number, got ${k}`);
  if (k > n) throw new ExposureInputError(`our ${k} live tickets exceed the pool of ${n}: the wallets and dcrd disagree (is a wallet on another chain, or are two wallets counting the same tickets?)`);
  if (!(i.minutes > 0) || !(i.blockSeconds > 0)) throw new ExposureInputError('minutes and the block time must be positive');
  const blocks = (i.minutes * 60) / i.blockSeconds;
  let none = 1;
  for (let d = 0; d < TICKETS_PER_BLOCK; d++) none *= Math.max(0, n - k - d) / (n - d);
  return {
    blocks,
    expectedWins: (blocks * TICKETS_PER_BLOCK * k) / n,
    noneInOneBlock: none,
    // exp/log1p keep small probabilities exact where 1 - none**blocks would round to 0.
    atLeastOne: none === 0 ? 1 : 0 - Math.expm1(blocks * Math.log(none)),
  };
}
