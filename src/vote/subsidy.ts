// Block and vote subsidy, computed the way dcrd does it (integer math, same
// order of multiplications and divisions), for mainnet, testnet3 and simnet.
//
// Facts (dcrd blockchain/standalone/v2 subsidy.go; chaincfg/v3 *params.go):
// - Full block subsidy at height h: 0 for h <= 0; BlockOneSubsidy for h == 1;
//   otherwise BaseSubsidy reduced once per completed reduction interval,
//   each reduction being `s = s * MulSubsidy / DivSubsidy` (integer division
//   after every step, starting again from the previous interval's value;
//   dcrd's cache only memoizes these steps, it does not change them).
// - Vote subsidy for a vote ON block h (the block it votes on, not the one
//   that includes it): 0 when h < StakeValidationHeight - 1, else
//   `full(h) * proportion / (totalProportions * TicketsPerBlock)`.
//   Split variants: original uses the params' proportions (work 6, stake 3,
//   treasury 1: 3/(10*5)); DCP0010 uses 80/(100*5); DCP0012 uses 89/(100*5).
// - Work subsidy: `full(h) * proportion / total` (original 6/10, DCP0010
//   10/100, DCP0012 1/100), then `voters * that / TicketsPerBlock` from
//   StakeValidationHeight on; 0 when voters < TicketsPerBlock/2 + 1 there.
// - Treasury subsidy: `full(h) * 1 / 10`, reduced by voters like work unless
//   the treasury agenda is active; 0 for h <= 1.
// dcrd's getblocksubsidy(height, voters) reports pos =
// voteSubsidy(height - 1) * voters for the block at `height`.

import type { NetworkName } from '../domain.js';

/** Which subsidy split is in force for the block that includes the vote. */
export type SubsidySplit = 'original' | 'dcp0010' | 'dcp0012';

export interface SubsidyParams {
  readonly network: NetworkName;
  readonly blockOneSubsidy: bigint;
  readonly baseSubsidy: bigint;
  readonly mulSubsidy: bigint;
  readonly divSubsidy: bigint;
  readonly reductionInterval: number;
  readonly workProportion: bigint;
  readonly stakeProportion: bigint;
  readonly treasuryProportion: bigint;
  readonly stakeValidationHeight: number;
  readonly ticketsPerBlock: bigint;
  /** RuleChangeActivationInterval, for reading lockedin agenda states. */
  readonly ruleChangeActivationInterval: number;
}

const COMMON = {
  mulSubsidy: 100n,
  divSubsidy: 101n,
  workProportion: 6n,
  stakeProportion: 3n,
  treasuryProportion: 1n,
  ticketsPerBlock: 5n,
} as const;

/** chaincfg MainNetParams / TestNet3Params / SimNetParams (block one = sum of BlockOneLedger). */
export const SUBSIDY_PARAMS: Readonly<Record<NetworkName, SubsidyParams>> = {
  mainnet: {
    ...COMMON,
    network: 'mainnet',
    blockOneSubsidy: 168_000_000_000_000n,
    baseSubsidy: 3_119_582_664n,
    reductionInterval: 6144,
    stakeValidationHeight: 4096,
    ruleChangeActivationInterval: 8064,
  },
  testnet: {
    ...COMMON,
    network: 'testnet',
    blockOneSubsidy: 10_000_000_000_000n,
    baseSubsidy: 2_500_000_000n,
    reductionInterval: 2048,
    stakeValidationHeight: 768,
    ruleChangeActivationInterval: 5040,
  },
  simnet: {
    ...COMMON,
    network: 'simnet',
    blockOneSubsidy: 30_000_000_000_000n,
    baseSubsidy: 50_000_000_000n,
    reductionInterval: 128,
    stakeValidationHeight: 144,
    ruleChangeActivationInterval: 320,
  },
};

/** Vote proportion and its total per split (dcrd CalcStakeVoteSubsidyV3). */
function voteProportion(p: SubsidyParams, split: SubsidySplit): [bigint, bigint] {
  switch (split) {
    case 'dcp0010':
      return [80n, 100n];
    case 'dcp0012':
      return [89n, 100n];
    case 'original':
      return [p.stakeProportion, p.workProportion + p.stakeProportion + p.treasuryProportion];
  }
}

/** Work proportion and its total per split (dcrd CalcWorkSubsidyV3). */
function workProportion(p: SubsidyParams, split: SubsidySplit): [bigint, bigint] {
  switch (split) {
    case 'dcp0010':
      return [10n, 100n];
    case 'dcp0012':
      return [1n, 100n];
    case 'original':
      return [p.workProportion, p.workProportion + p.stakeProportion + p.treasuryProportion];
  }
}

function checkHeight(height: number): void {
  if (!Number.isSafeInteger(height)) throw new RangeError(`height ${height} is not a safe integer`);
}

/**
 * Subsidy calculator for one network; memoizes the full subsidy of each
 * reduction interval (like dcrd's SubsidyCache).
 */
export class SubsidyCalculator {
  /** perInterval[i] = full subsidy for reduction interval i, computed in order until it reaches 0. */
  readonly #perInterval: bigint[];
  readonly #totalProportions: bigint;
  readonly #minVotesRequired: bigint;

  constructor(readonly params: SubsidyParams) {
    this.#perInterval = [params.baseSubsidy];
    this.#totalProportions = params.workProportion + params.stakeProportion + params.treasuryProportion;
    this.#minVotesRequired = params.ticketsPerBlock / 2n + 1n;
  }

  /** dcrd CalcBlockSubsidy: the max potential subsidy of the block at `height`. */
  blockSubsidy(height: number): bigint {
    checkHeight(height);
    if (height <= 0) return 0n;
    if (height === 1) return this.params.blockOneSubsidy;
    const interval = Math.floor(height / this.params.reductionInterval);
    while (this.#perInterval.length <= interval) {
      const last = this.#perInterval[this.#perInterval.length - 1] as bigint;
      if (last === 0n) return 0n;
      this.#perInterval.push((last * this.params.mulSubsidy) / this.params.divSubsidy);
    }
    return this.#perInterval[interval] as bigint;
  }

  /**
   * dcrd CalcStakeVoteSubsidyV3: subsidy of ONE vote that votes on the block
   * at `votedHeight` (the vote itself is mined at votedHeight + 1), under the
   * split in force for the block that includes the vote.
   */
  voteSubsidy(votedHeight: number, split: SubsidySplit): bigint {
    checkHeight(votedHeight);
    if (votedHeight < this.params.stakeValidationHeight - 1) return 0n;
    const [proportion, total] = voteProportion(this.params, split);
    return (this.blockSubsidy(votedHeight) * proportion) / (total * this.params.ticketsPerBlock);
  }

  /** dcrd CalcWorkSubsidyV3. */
  workSubsidy(height: number, voters: number, split: SubsidySplit): bigint {
    checkHeight(height);
    if (height === 1) return this.params.blockOneSubsidy;
    const v = BigInt(voters);
    if (height >= this.params.stakeValidationHeight && v < this.#minVotesRequired) return 0n;
    const [proportion, total] = workProportion(this.params, split);
    const subsidy = (this.blockSubsidy(height) * proportion) / total;
    if (height < this.params.stakeValidationHeight) return subsidy;
    return (v * subsidy) / this.params.ticketsPerBlock;
  }

  /** dcrd CalcTreasurySubsidy. */
  treasurySubsidy(height: number, voters: number, treasuryEnabled: boolean): bigint {
    checkHeight(height);
    if (height <= 1) return 0n;
    const v = BigInt(voters);
    if (height >= this.params.stakeValidationHeight && v < this.#minVotesRequired) return 0n;
    const subsidy = (this.blockSubsidy(height) * this.params.treasuryProportion) / this.#totalProportions;
    if (height < this.params.stakeValidationHeight || treasuryEnabled) return subsidy;
    return (v * subsidy) / this.params.ticketsPerBlock;
  }
}

const calculators = new Map<NetworkName, SubsidyCalculator>();

/** Shared calculator for a network's parameters. */
export function subsidyCalculator(network: NetworkName): SubsidyCalculator {
  let c = calculators.get(network);
  if (!c) {
    c = new SubsidyCalculator(SUBSIDY_PARAMS[network]);
    calculators.set(network, c);
  }
  return c;
}

/** Subsidy of one vote on the block at `votedHeight` (see SubsidyCalculator.voteSubsidy). */
export function voteSubsidy(network: NetworkName, votedHeight: number, split: SubsidySplit): bigint {
  return subsidyCalculator(network).voteSubsidy(votedHeight, split);
}

/** dcrd getblockchaininfo deployment entry (only the fields read here). */
export interface DeploymentState {
  status: string;
  since?: number;
}

/** Agenda ids (chaincfg VoteIDChangeSubsidySplit / VoteIDChangeSubsidySplitR2). */
export const AGENDA_SUBSIDY_SPLIT = 'changesubsidysplit';
export const AGENDA_SUBSIDY_SPLIT_R2 = 'changesubsidysplitr2';

/**
 * The split a vote on `votedHeight` must use, from dcrd's getblockchaininfo
 * deployments read while that block is the tip. Same rule as dcrwallet
 * (deployments.DCP0010Active / DCP0012Active): an agenda counts when it is
 * "active", or "lockedin" with votedHeight == since + RuleChangeActivationInterval - 1
 * (the vote is then mined in the first block where the agenda is active).
 * DCP0012 wins over DCP0010. dcrwallet also treats DCP0010 as always active on
 * simnet (dcrd's simnet forces it active from block 1).
 */
export function subsidySplitFor(
  network: NetworkName,
  votedHeight: number,
  deployments: Readonly<Record<string, DeploymentState | undefined>>,
): SubsidySplit {
  const rcai = SUBSIDY_PARAMS[network].ruleChangeActivationInterval;
  const inForce = (id: string): boolean => {
    const d = deployments[id];
    if (!d) return false;
    if (d.status === 'active') return true;
    return d.status === 'lockedin' && d.since !== undefined && votedHeight === d.since + rcai - 1;
  };
  if (inForce(AGENDA_SUBSIDY_SPLIT_R2)) return 'dcp0012';
  if (network === 'simnet' || inForce(AGENDA_SUBSIDY_SPLIT)) return 'dcp0010';
  return 'original';
}
