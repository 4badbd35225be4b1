// Casts a vote ourselves: build it exactly as the wallet would (same inputs,
// outputs, bits and treasury votes, so the same txid), have the wallet sign
// the ticket input, and broadcast it to every dcrd node at once and through
// the wallet. Used for wallets whose votingMode is "daemon" or "both".

import type { Logger } from 'pino';
import type { BlockRef, NetworkName } from '../domain.js';
import type { Metrics } from '../telemetry/metrics.js';
import { buildUnsignedVote, type TreasuryVote } from './builder.js';
import { subsidySplitFor, type DeploymentState } from './subsidy.js';
import { decodeTx, txToHex } from './tx.js';

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

export interface CasterWallet {
  getTicketTx(ticketHash: string): Promise<Buffer | null>;
  voteChoices(ticketHash?: string): Promise<{ voteBits: number }>;
  /** Without a hash: every tspend the wallet has seen. With a ticket: that ticket's policy (VSP per-ticket policies win). */
  tspendPolicies(hashHex?: string, ticketHash?: string): Promise<{ hash: string; policy: string }[]>;
  signTransaction(passphrase: Buffer, tx: Uint8Array): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }>;
  publishTransaction(tx: Uint8Array): Promise<string>;
}

export interface CasterChain {
  deployments(): Promise<Record<string, DeploymentState>>;
  /** A treasury spend's expiry height; null when dcrd cannot tell (mined, and no txindex). */
  tspendExpiry(hash: string): Promise<number | null>;
  /** sendrawtransaction to every connected dcrd node at once. */
  broadcast(txHex: string): Promise<{ node: string; ok: boolean; ms: number; error?: string }[]>;
}

export type SigningFailure = 'no_passphrase' | 'ticket_unknown' | 'no_vote_version' | 'build_failed' | 'wrong_passphrase' | 'not_signed' | 'wallet_error';

export class CastError extends Error {
  constructor(
    readonly reason: SigningFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CastError';
  }
}

export interface CastResult {
  txid: string;
  /** ms from the notification until the first dcrd accepted the vote (null: none did). */
  firstAcceptedMs: number | null;
  accepted: string[];
  rejected: { node: string; error: string }[];
}

export interface VoteCasterOptions {
  walletName: string;
  network: NetworkName;
  wallet: CasterWallet;
  chain: CasterChain;
  passphrase: () => Buffer | null;
  voteVersion: () => number | null;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

export class VoteCaster {
  readonly #o: VoteCasterOptions;

  constructor(opts: VoteCasterOptions) {
    this.#o = opts;
  }

  async cast(ticket: string, block: BlockRef, notifiedAt: number): Promise<CastResult> {
    const o = this.#o;
    const wallet = { wallet: o.walletName };
    try {
      const result = await this.#cast(ticket, block, notifiedAt);
      o.metrics.votesCastTotal.inc({ ...wallet, result: result.accepted.length > 0 ? 'accepted' : 'rejected' });
      if (result.firstAcceptedMs !== null) o.metrics.voteAcceptedSeconds.observe({ ...wallet, path: 'daemon' }, result.firstAcceptedMs / 1000);
      return result;
    } catch (err) {
      const reason: SigningFailure = err instanceof CastError ? err.reason : 'wallet_error';
      o.metrics.voteSigningFailuresTotal.inc({ ...wallet, reason });
      throw err instanceof CastError ? err : new CastError('wallet_error', (err as Error).message);
    }
  }

  async #cast(ticket: string, block: BlockRef, notifiedAt: number): Promise<CastResult> {
    const o = this.#o;
    const passphrase = o.passphrase();
    if (!passphrase) throw new CastError('no_passphrase', `wallet ${o.walletName}: no passphrase to sign votes with (wallets[].passphraseFile)`);
    const voteVersion = o.voteVersion();
    if (voteVersion === null) throw new CastError('no_vote_version', `wallet ${o.walletName}: vote version unknown (walletinfo has not answered yet)`);
    const [ticketTx, choices, deployments, treasuryVotes] = await Promise.all([
      o.wallet.getTicketTx(ticket),
      o.wallet.voteChoices(ticket),
      o.chain.deployments(),
      this.#treasuryVotes(block.height, ticket),
    ]);
    if (!ticketTx) throw new CastError('ticket_unknown', `wallet ${o.walletName} does not hold ticket ${ticket}`);
    let unsigned;
    try {
      unsigned = buildUnsignedVote({
        network: o.network,
        ticket: ticketTx,
        block,
        voteBits: choices.voteBits,
        voteVersion,
        subsidySplit: subsidySplitFor(o.network, block.height, deployments),
        treasuryVotes,
      });
    } catch (err) {
      throw new CastError('build_failed', `cannot build the vote for ticket ${ticket}: ${(err as Error).message}`);
    }
    let signed;
    try {
      signed = await o.wallet.signTransaction(passphrase, Buffer.from(unsigned.hex, 'hex'));
    } catch (err) {
      const kind = (err as { kind?: string }).kind;
      throw new CastError(kind === 'wrong_passphrase' ? 'wrong_passphrase' : 'wallet_error', `wallet ${o.walletName} could not sign the vote: ${(err as Error).message}`);
    }
    // The stakebase input carries no signature; every other input must be signed.
    const missing = signed.unsignedInputIndexes.filter((i) => i !== 0);
    if (missing.length > 0) throw new CastError('not_signed', `wallet ${o.walletName} left input(s) ${missing.join(', ')} of the vote unsigned (does it hold the ticket's voting key?)`);
    const decoded = decodeTx(signed.tx);
    const hex = decoded.ok ? txToHex(decoded.value.tx) : signed.tx.toString('hex');

    const broadcastAt = (o.now ?? Date.now)();
    const [results, viaWallet] = await Promise.all([
      o.chain.broadcast(hex),
      o.wallet.publishTransaction(signed.tx).then(
        () => null,
        (err: Error) => err.message,
      ),
    ]);
    const accepted = results.filter((r) => r.ok || /already have|already exists|duplicate/i.test(r.error ?? ''));
    const firstMs = accepted.length > 0 ? Math.min(...accepted.map((r) => r.ms)) : null;
    const result: CastResult = {
      txid: unsigned.txid,
      firstAcceptedMs: firstMs === null ? null : Math.round(broadcastAt - notifiedAt + firstMs),
      accepted: accepted.map((r) => r.node),
      rejected: results.filter((r) => !accepted.includes(r)).map((r) => ({ node: r.node, error: r.error ?? 'rejected' })),
    };
    o.logger.info(
      { event: 'vote_cast', wallet: o.walletName, ticket, block, txid: result.txid, accepted: result.accepted, rejected: result.rejected, viaWallet: viaWallet ?? 'ok', firstAcceptedMs: result.firstAcceptedMs },
      `cast vote ${result.txid.slice(0, 12)} for ticket ${ticket.slice(0, 12)} (wallet ${o.walletName}); accepted by ${result.accepted.join(', ') || 'no dcrd node'}`,
    );
    return result;
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
