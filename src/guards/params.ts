// The consensus parameters the guards reason with, per network (dcrd
// chaincfg/v3 mainnetparams.go, testnetparams.go, simnetparams.go).

import type { NetworkName } from '../domain.js';

export interface ChainParams {
  /** RuleChangeActivationInterval: blocks per rule-change voting interval. */
  ruleChangeInterval: number;
  /** StakeVersionInterval: blocks over which the stake version majority is counted. */
  stakeVersionInterval: number;
  /** StakeMajorityMultiplier / StakeMajorityDivisor (75 %). */
  stakeMajority: { multiplier: number; divisor: number };
  stakeValidationHeight: number;
  /** TargetTimePerBlock, seconds. */
  targetBlockSeconds: number;
}

export const CHAIN_PARAMS: Readonly<Record<NetworkName, ChainParams>> = {
  mainnet: { ruleChangeInterval: 8064, stakeVersionInterval: 2016, stakeMajority: { multiplier: 3, divisor: 4 }, stakeValidationHeight: 4096, targetBlockSeconds: 300 },
  testnet: { ruleChangeInterval: 5040, stakeVersionInterval: 2016, stakeMajority: { multiplier: 3, divisor: 4 }, stakeValidationHeight: 768, targetBlockSeconds: 120 },
  simnet: { ruleChangeInterval: 320, stakeVersionInterval: 112, stakeMajority: { multiplier: 3, divisor: 4 }, stakeValidationHeight: 144, targetBlockSeconds: 1 },
};

/**
 * The height of the last block of the interval before the one `height` is
 * in (dcrd internal/blockchain/stakeversion.go calcWantHeight): intervals
 * are aligned on the stake validation height, not on zero.
 */
export function calcWantHeight(stakeValidationHeight: number, interval: number, height: number): number {
  const offset = stakeValidationHeight % interval;
  const adjusted = height - offset - 1;
  return adjusted - ((adjusted + 1) % interval) + offset;
}

/** Which rule-change interval a block is in; changes exactly at each interval boundary. */
export function ruleChangeIntervalOf(p: ChainParams, height: number): number {
  return calcWantHeight(p.stakeValidationHeight, p.ruleChangeInterval, height);
}
