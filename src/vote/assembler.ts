// Gathers what the wallet itself would put into a ticket's vote (the ticket
// transaction, this ticket's vote bits, the vote version, the subsidy split
// in force, the treasury votes) and builds the unsigned vote from it. The
// caster signs and broadcasts what this builds; the signing canary signs it
// and throws it away, so both prove the same inputs.

import type { Logger } from 'pino';
import type { BlockRef, NetworkName } from '../domain.js';
import { errorMessage } from '../errors.js';
import { buildUnsignedVote, type TreasuryVote, type UnsignedVote } from './builder.js';
import { subsidySplitFor, type DeploymentState, type SubsidySplit } from './subsidy.js';

/** chaincfg TreasuryVoteInterval and its multiplier (dcrd chaincfg/v3 *params.go). */
export const TREASURY_VOTE_WINDOW: Readonly<Record<NetworkName, { tvi: number; multiplier: number }>> = {
  mainnet: { tvi: 288, multiplier: 12 },
  testnet: { tvi: 60, multiplier: 4 },
  simnet: { tvi: 48, multiplier: 3 },
};

/** dcrd blockchain/standalone InsideTSpendWindow: is a tspend with this expiry voted on at this height? */
export function insideTSpendWindow(blockHeight: number, expiry: number, tvi: number, multiplier: number): boolean {
  if (expiry < tvi * multiplier + 2) return false;
  const base = expiry - 2;
  if (base === 0 || base % tvi !== 0) return false;
  const start = expiry - tvi * multiplier - 2;
  return blockHeight >= start && blockHeight <= base;
}

/** A vote's inputs besides the signature, read before the lottery (prepared-inputs.ts). */
export interface PreparedVote {
  ticketTx: Buffer;
  voteBits: number;
  subsidySplit: SubsidySplit;
  treasuryVotes: TreasuryVote[];
}

export interface AssemblerWallet {
  getTicketTx(ticketHash: string): Promise<Buffer | null>;
  voteChoices(ticketHash?: string): Promise<{ voteBits: number }>;
  /** Without a hash: every tspend the wallet has seen. With a ticket: that ticket's policy (VSP per-ticket policies win). */
  tspendPolicies(hashHex?: string, ticketHash?: string): Promise<{ hash: string; policy: string }[]>;
}

export interface AssemblerChain {
  deployments(): Promise<Record<string, DeploymentState>>;
  /** A treasury spend's expiry height; null when dcrd cannot tell (mined, and no txindex). */
  tspendExpiry(hash: string): Promise<number | null>;
}

export type AssemblyFailure = 'ticket_unknown' | 'no_vote_version' | 'build_failed';

export class VoteAssemblyError extends Error {
  constructor(
    readonly reason: AssemblyFailure,
    message: string,
  ) {
    super(message);
    this.name = 'VoteAssemblyError';
  }
}

export interface VoteAssemblerOptions {
  walletName: string;
  network: NetworkName;
  wallet: AssemblerWallet;
  chain: AssemblerChain;
  voteVersion: () => number | null;
  logger: Logger;
}

export class VoteAssembler {
  readonly #o: VoteAssemblerOptions;

  constructor(opts: VoteAssemblerOptions) {
    this.#o = opts;
  }

  /**
   * The unsigned vote the wallet would cast for this ticket on this block.
   * `knownTicketTx`: the ticket transaction when the caller already holds it
   * (no GetTicket then). Throws VoteAssemblyError.
   */
  async build(ticket: string, block: BlockRef, knownTicketTx?: Uint8Array): Promise<UnsignedVote> {
    const o = this.#o;
    const voteVersion = o.voteVersion();
    if (voteVersion === null) throw new VoteAssemblyError('no_vote_version', `wallet ${o.walletName}: vote version unknown (walletinfo has not answered yet)`);
    const [ticketTx, choices, deployments, treasuryVotes] = await Promise.all([
      knownTicketTx ?? o.wallet.getTicketTx(ticket),
      o.wallet.voteChoices(ticket),
      o.chain.deployments(),
      this.#treasuryVotes(block.height, ticket),
    ]);
    if (!ticketTx) throw new VoteAssemblyError('ticket_unknown', `wallet ${o.walletName} does not hold ticket ${ticket}`);
    try {
      return buildUnsignedVote({
        network: o.network,
        ticket: ticketTx,
        block,
        voteBits: choices.voteBits,
        voteVersion,
        subsidySplit: subsidySplitFor(o.network, block.height, deployments),
        treasuryVotes,
      });
    } catch (err) {
      throw new VoteAssemblyError('build_failed', `cannot build the vote for ticket ${ticket}: ${errorMessage(err)}`);
    }
  }

  /** The unsigned vote from inputs read before the lottery: no RPC. Throws VoteAssemblyError. */
  buildPrepared(ticket: string, block: BlockRef, inputs: PreparedVote): UnsignedVote {
    const o = this.#o;
    const voteVersion = o.voteVersion();
    if (voteVersion === null) throw new VoteAssemblyError('no_vote_version', `wallet ${o.walletName}: vote version unknown (walletinfo has not answered yet)`);
    try {
      return buildUnsignedVote({ network: o.network, ticket: inputs.ticketTx, block, voteBits: inputs.voteBits, voteVersion, subsidySplit: inputs.subsidySplit, treasuryVotes: inputs.treasuryVotes });
    } catch (err) {
      throw new VoteAssemblyError('build_failed', `cannot build the vote for ticket ${ticket}: ${errorMessage(err)}`);
    }
  }

  /**
   * The treasury votes the wallet itself would cast: over the tspends it has
   * seen (not only those still in dcrd's mempool: a mined tspend is voted on
   * until its window ends), inside their voting window, with the policy for
   * this ticket (a per-ticket policy wins over the wallet-wide one, which
   * falls back to the Pi key's policy), yes or no only.
   */
  async #treasuryVotes(height: number, ticket: string): Promise<TreasuryVote[]> {
    const o = this.#o;
    const { tvi, multiplier } = TREASURY_VOTE_WINDOW[o.network];
    const seen = await o.wallet.tspendPolicies();
    const votes: TreasuryVote[] = [];
    for (const { hash } of seen) {
      const expiry = await o.chain.tspendExpiry(hash);
      if (expiry === null) {
        o.logger.warn({ event: 'tspend_expiry_unknown', tspend: hash }, `cannot learn the expiry of tspend ${hash.slice(0, 12)} from dcrd (mined, and dcrd runs without --txindex); dcrvoted's vote leaves it out`);
        continue;
      }
      if (!insideTSpendWindow(height, expiry, tvi, multiplier)) continue;
      const [p] = await o.wallet.tspendPolicies(hash, ticket);
      if (p && (p.policy === 'yes' || p.policy === 'no')) votes.push({ tspend: hash, vote: p.policy });
    }
    return votes;
  }
}
