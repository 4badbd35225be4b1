/**
 * The real dcrwallet votes in test/fixtures/votes (see its README), declared
 * and read in one place: the shape is what capture.ts writes, so a recapture
 * that changes it meets the type checker here and not seven test files each
 * with its own partial idea of it; and the directory is found from this
 * module, so no test depends on the directory vitest was started in.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { DeploymentState } from '../../src/vote/subsidy.js';
import { cloneTx, decodeTx, NULL_BLOCK_HEIGHT, NULL_BLOCK_INDEX, type MsgTx } from '../../src/vote/tx.js';

type WalletName = 'ours' | 'other';
type TreasuryChoice = 'yes' | 'no';

/** A getblockchaininfo deployment entry as capture.ts stored it. */
interface FixtureDeployment {
  status: string;
  since: number;
  starttime: number;
  expiretime: number;
}

export interface VoteFixture {
  description: string;
  network: 'simnet';
  software: { dcrd: string; dcrwallet: string };
  capturedAt: string;
  wallet: WalletName;
  voteTxid: string;
  /** As dcrd's mempool holds it: the ticket input's fraud proof filled in by dcrd. */
  voteHex: string;
  voteHexMined: string;
  /** The wallet's own copy (gettransaction); only for "ours", and null when it could not be read. */
  voteHexWallet: string | null;
  ticketHash: string;
  ticketHex: string;
  ticketBlockHeight: number;
  votingAddress: string;
  /** simnet key of a throwaway harness wallet (see the README). */
  votingWif: string;
  votedBlock: { hash: string; height: number };
  includedIn: { hash: string; height: number };
  voteBits: number;
  voteVersion: number;
  voteBitsScriptHex: string;
  txVersion: number;
  /** null where dcrd's getblockchaininfo did not report the agenda. */
  deployments: { changesubsidysplit: FixtureDeployment | null; changesubsidysplitr2: FixtureDeployment | null };
  getblocksubsidy: { height: number; voters: number; developer: number; pos: number; pow: number; total: number };
  /** Only in simnet-tspend-* (capture.ts --treasury): the ('T','V') votes the vote carries. */
  treasuryVotes?: { tspend: string; vote: TreasuryChoice }[];
  /** Only in simnet-tspend-*: the treasury spend in dcrd's mempool when the vote was made (amount in DCR). */
  tspend?: { hash: string; expiry: number; hex: string; piAddress: string; payTo: string; amount: number };
  /** Only in simnet-tspend-*: each wallet's settspendpolicy when the vote was made. */
  tspendPolicy?: Record<WalletName, TreasuryChoice>;
}

const dir = new URL('../fixtures/votes/', import.meta.url);

/** Sorted by file name so that "the first fixture" is the same on every machine. */
export const voteFixtures: readonly { file: string; fx: VoteFixture }[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, fx: JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as VoteFixture }));

/** The deployments as dcrd answers them to the daemon: an agenda it did not report is absent, not null. */
export function deploymentsOf(fx: VoteFixture): Record<string, DeploymentState> {
  const out: Record<string, DeploymentState> = {};
  for (const [id, d] of Object.entries(fx.deployments)) if (d) out[id] = d;
  return out;
}

/** For fixture bytes, which must decode: a failure is the test's error, with decodeTx's reason. */
export function decodedTx(hex: string): MsgTx {
  const d = decodeTx(hex);
  if (!d.ok) throw new Error(d.reason);
  return d.value.tx;
}

/**
 * dcrd fills in the ticket input's fraud proof (block height and index) when
 * it accepts a vote (internal/mempool/mempool.go), so voteHex and voteHexMined
 * differ there from what the wallet built and signed; this undoes the fill
 * (value in is the same) on a copy.
 */
export function withoutFraudProof(tx: MsgTx): MsgTx {
  const c = cloneTx(tx);
  const ti = c.txIn[1];
  if (!ti) throw new Error('the vote has no ticket input');
  ti.blockHeight = NULL_BLOCK_HEIGHT;
  ti.blockIndex = NULL_BLOCK_INDEX;
  return c;
}
