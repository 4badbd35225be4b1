// Treasury spends (tspends) as the treasury guard needs them: what one is
// (hash, expiry, amount, the treasury key that signed it), when it is voted
// on, and whether the configured policy decides it. Pure; no I/O.
//
// Facts: dcrd blockchain/stake/treasury.go CheckTSpend (one input whose
// signature script is OP_DATA_64 <sig> OP_DATA_33 <pubkey> OP_TSPEND, output
// 0 an OP_RETURN of 32 bytes, every further output a payout);
// dcrd blockchain/standalone InsideTSpendWindow (src/vote/caster.ts);
// dcrwallet wallet/wallet.go TSpendPolicy (how a vote choice is resolved).

import type { PolicyConfig } from '../config/load.js';
import type { NetworkName, TreasuryChoice } from '../domain.js';
import { bytesToHex } from '../dcrd/hex.js';
import { OP_DATA_33, OP_DATA_64, OP_TSPEND } from '../dcrd/opcodes.js';
import { TREASURY_VOTE_WINDOW } from '../vote/assembler.js';
import { decodeTx, txid, TX_VERSION_TREASURY } from '../vote/tx.js';

const TSPEND_SCRIPT_LEN = 100; // stake.TSpendScriptLen

export interface TSpend {
  hash: string;
  expiry: number;
  /** Atoms paid out (every output after the first). */
  amountAtoms: bigint;
  /** The treasury (Politeia) key that signed it, 33 bytes compressed, hex. */
  treasuryKey: string;
}

/** Reads a tspend from its raw hex; null when the transaction is not one. */
export function readTSpend(hex: string): TSpend | null {
  const d = decodeTx(hex);
  if (!d.ok) return null;
  const tx = d.value.tx;
  if (tx.version !== TX_VERSION_TREASURY || tx.txIn.length !== 1 || tx.txOut.length < 2) return null;
  const s = tx.txIn[0]!.signatureScript;
  if (s.length !== TSPEND_SCRIPT_LEN || s[0] !== OP_DATA_64 || s[65] !== OP_DATA_33 || s[99] !== OP_TSPEND) return null;
  return {
    hash: txid(tx),
    expiry: tx.expiry,
    amountAtoms: tx.txOut.slice(1).reduce((sum, o) => sum + o.value, 0n),
    treasuryKey: bytesToHex(s.subarray(66, 99)),
  };
}

/** The blocks a tspend is voted on: start..end inclusive (voted-on block heights). */
export function tspendWindow(network: NetworkName, expiry: number): { start: number; end: number } {
  const { tvi, multiplier } = TREASURY_VOTE_WINDOW[network];
  return { start: expiry - tvi * multiplier - 2, end: expiry - 2 };
}

export type PolicyDecision = { decided: true; choice: TreasuryChoice; by: 'tspend' | 'treasury_key' } | { decided: false };

/**
 * The configured policy's vote on a tspend, resolved as dcrwallet resolves
 * TSpendPolicy for a wallet-wide policy: the tspend's own yes/no wins; an
 * abstain there is no entry at all to dcrwallet (SetTSpendPolicy deletes
 * it), so the treasury key's policy applies next. A policy that names the
 * tspend only as abstain and its key not at all still decides (abstain).
 */
export function policyDecision(policy: Pick<PolicyConfig, 'tspends' | 'treasuryKeys'>, t: Pick<TSpend, 'hash' | 'treasuryKey'>): PolicyDecision {
  const own = policy.tspends[t.hash.toLowerCase()];
  if (own === 'yes' || own === 'no') return { decided: true, choice: own, by: 'tspend' };
  const byKey = policy.treasuryKeys[t.treasuryKey.toLowerCase()];
  if (byKey !== undefined) return { decided: true, choice: byKey, by: 'treasury_key' };
  if (own === 'abstain') return { decided: true, choice: 'abstain', by: 'tspend' };
  return { decided: false };
}

/** A tspend still worth a decision: its voting window has not ended at the tip. */
export function stillVotable(network: NetworkName, expiry: number, tipHeight: number): boolean {
  return tipHeight <= tspendWindow(network, expiry).end;
}
