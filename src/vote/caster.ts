// Casts a vote ourselves: build it exactly as the wallet would (same inputs,
// outputs, bits and treasury votes, so the same txid), sign the ticket input
// (with `signing: local` and the ticket's voting key at hand, ourselves,
// byte-identical to the wallet; else the wallet signs it), and broadcast it to
// every dcrd node at once and through the wallet. Used for wallets whose
// votingMode is "daemon" or "both".

import type { Logger } from 'pino';
import type { BlockRef, NetworkName } from '../domain.js';
import type { LOCAL_SIGNING_FALLBACK_REASONS, Metrics } from '../telemetry/metrics.js';
import type { WalletPassphrase } from '../wallet/passphrase.js';
import { WalletRpcError } from '../wallet/rpc-errors.js';
import { VoteAssembler, VoteAssemblyError, type AssemblerChain, type AssemblerWallet, type PreparedVote } from './assembler.js';
import { LocalSignError, signVoteTicketInput } from './sign-local.js';
import { decodeTx, serializeTx, txToHex, type MsgTx } from './tx.js';
import type { LocalSigningMaterial, NoLocalKey } from './voting-keys.js';
import { errorMessage } from '../errors.js';

export interface CasterWallet extends AssemblerWallet {
  /** passphrase null: sign only if the wallet is unlocked, leaving its lock state alone. */
  signTransaction(passphrase: Buffer | null, tx: Uint8Array): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }>;
  publishTransaction(tx: Uint8Array): Promise<string>;
}

export interface CasterChain extends AssemblerChain {
  /** sendrawtransaction to every connected dcrd node at once. */
  broadcast(txHex: string): Promise<{ node: string; ok: boolean; ms: number; error?: string }[]>;
}

/** The wallet's lock state, as the supervisor sees it. */
export interface CasterLockState {
  /** walletinfo.unlocked as last probed; null when unknown. */
  unlocked(): boolean | null;
  /** Ask the wallet now; null when it cannot tell. */
  refreshUnlocked(): Promise<boolean | null>;
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
  /** The signed vote as broadcast. */
  hex: string;
  /** ms from the notification until the first dcrd accepted the vote (null: none did). */
  firstAcceptedMs: number | null;
  accepted: string[];
  rejected: { node: string; error: string }[];
  /** When each step finished (ms since epoch), for the vote's timeline. */
  stages: CastStages;
}

export interface CastStages {
  /** The unsigned vote was ready (its inputs gathered). */
  builtAt: number;
  signedAt: number;
  /** Who signed: dcrvoted with the ticket's voting key (signing: local), or the wallet. */
  signer: 'local' | 'wallet';
  /** Each dcrd node's answer to the broadcast. */
  nodes: { node: string; ok: boolean; at: number; error?: string }[];
}

/** The voting keys a signing: local wallet holds (voting-keys.ts). */
export interface CasterKeys {
  lookup(ticketHash: string): LocalSigningMaterial | { missing: NoLocalKey };
}

/** Why a signing: local vote was signed by the wallet after all. */
export type LocalFallback = (typeof LOCAL_SIGNING_FALLBACK_REASONS)[number];

export interface VoteCasterOptions {
  walletName: string;
  network: NetworkName;
  wallet: CasterWallet;
  chain: CasterChain;
  passphrase: WalletPassphrase;
  lockState: CasterLockState;
  voteVersion: () => number | null;
  /** signing: local — the wallet's voting keys; absent for signing: wallet. */
  keys?: CasterKeys;
  /** Inputs read before the lottery (prepared-inputs.ts); null for a winner they do not cover. */
  prepared?: { forWinner(ticket: string, block: BlockRef): PreparedVote | null };
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

export class VoteCaster {
  readonly #o: VoteCasterOptions;
  /** Fallback reasons already logged: each is logged once, then only counted. */
  readonly #fallbacksLogged = new Set<LocalFallback>();
  #passphraseSigning: Promise<unknown> = Promise.resolve();
  readonly #assembler: VoteAssembler;

  constructor(opts: VoteCasterOptions) {
    this.#o = opts;
    this.#assembler = new VoteAssembler({ walletName: opts.walletName, network: opts.network, wallet: opts.wallet, chain: opts.chain, voteVersion: opts.voteVersion, logger: opts.logger });
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
      throw err instanceof CastError ? err : new CastError('wallet_error', errorMessage(err));
    }
  }

  async #cast(ticket: string, block: BlockRef, notifiedAt: number): Promise<CastResult> {
    const o = this.#o;
    const found = o.keys?.lookup(ticket);
    const local = found && 'key' in found ? found : null;
    // Prepared before the lottery: no RPC before the signature. Otherwise the
    // assembler gathers what the wallet would use now (a locally signed vote
    // reads the ticket the key store listed: no GetTicket).
    const prepared = o.prepared?.forWinner(ticket, block) ?? null;
    let unsigned;
    try {
      unsigned = prepared ? this.#assembler.buildPrepared(ticket, block, prepared) : await this.#assembler.build(ticket, block, local?.ticketTx);
    } catch (err) {
      if (err instanceof VoteAssemblyError) throw new CastError(err.reason, err.message);
      throw err;
    }
    const now = o.now ?? Date.now;
    const builtAt = now();
    if (found && 'missing' in found) this.#fellBack(ticket, found.missing, FALLBACK_WHY[found.missing]);
    const locallySigned = local ? this.#signLocally(ticket, unsigned.tx, local) : null;
    const signer = locallySigned ? 'local' : 'wallet';
    const signedTx = locallySigned ?? (await this.#sign(Buffer.from(unsigned.hex, 'hex'))).tx;
    const signedAt = now();
    const decoded = locallySigned ? null : decodeTx(signedTx);
    const hex = locallySigned ? signedTx.toString('hex') : decoded?.ok ? txToHex(decoded.value.tx) : signedTx.toString('hex');

    const broadcastAt = now();
    const [results, viaWallet] = await Promise.all([
      o.chain.broadcast(hex),
      o.wallet.publishTransaction(signedTx).then(
        () => null,
        (err: Error) => err.message,
      ),
    ]);
    const accepted = results.filter((r) => r.ok || /already have|already exists|duplicate/i.test(r.error ?? ''));
    const firstMs = accepted.length > 0 ? Math.min(...accepted.map((r) => r.ms)) : null;
    const result: CastResult = {
      txid: unsigned.txid,
      hex,
      firstAcceptedMs: firstMs === null ? null : Math.round(broadcastAt - notifiedAt + firstMs),
      accepted: accepted.map((r) => r.node),
      rejected: results.filter((r) => !accepted.includes(r)).map((r) => ({ node: r.node, error: r.error ?? 'rejected' })),
      stages: { builtAt, signedAt, signer, nodes: results.map((r) => ({ node: r.node, ok: accepted.includes(r), at: broadcastAt + r.ms, ...(r.error !== undefined ? { error: r.error } : {}) })) },
    };
    o.logger.info(
      { event: 'vote_cast', wallet: o.walletName, ticket, block, prepared: prepared !== null, txid: result.txid, signer, hex, accepted: result.accepted, rejected: result.rejected, viaWallet: viaWallet ?? 'ok', firstAcceptedMs: result.firstAcceptedMs },
      `cast vote ${result.txid.slice(0, 12)} for ticket ${ticket.slice(0, 12)} (wallet ${o.walletName}); accepted by ${result.accepted.join(', ') || 'no dcrd node'}`,
    );
    return result;
  }

  /** The signed vote, serialized; null (counted, logged once) if the key cannot sign it. */
  #signLocally(ticket: string, vote: MsgTx, material: LocalSigningMaterial): Buffer | null {
    try {
      return Buffer.from(serializeTx(signVoteTicketInput(vote, material.ticketScript, material.key)));
    } catch (err) {
      if (!(err instanceof LocalSignError)) throw err;
      this.#fellBack(ticket, 'sign_failed', err.message);
      return null;
    }
  }

  /** A signing: local vote goes to the wallet after all: counted each time, logged once per reason. */
  #fellBack(ticket: string, reason: LocalFallback, why: string): void {
    const o = this.#o;
    o.metrics.localSigningFallbacksTotal.inc({ wallet: o.walletName, reason });
    if (this.#fallbacksLogged.has(reason)) return;
    this.#fallbacksLogged.add(reason);
    o.logger.warn(
      { event: 'local_signing_fallback', wallet: o.walletName, ticket, reason },
      `wallet ${o.walletName} (signing: local): the wallet signs the vote of ticket ${ticket.slice(0, 12)}: ${why} (logged once per reason; dcrvoted_local_signing_fallbacks_total counts them all)`,
    );
  }

  /**
   * One signature, and never a passphrase to a wallet that is unlocked: a
   * wrong one would lock it, a right one would relock a wallet unlocked with
   * a timeout. An unlocked (or unknown) wallet is asked without one; the
   * passphrase goes only to a wallet seen locked just before, and never
   * again once the wallet has rejected it, until its file changes.
   */
  async #sign(tx: Buffer): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }> {
    const o = this.#o;
    if (o.lockState.unlocked() !== false) {
      const first = await this.#signOnce(null, tx);
      if (unsignedInputs(first).length === 0) return first;
      // Locked since the last probe (an operator's unlock timeout ran out), or the key is missing.
      if ((await o.lockState.refreshUnlocked()) !== false) throw notSigned(o.walletName, first);
    } else if ((await o.lockState.refreshUnlocked()) !== false) {
      const signed = await this.#signOnce(null, tx);
      if (unsignedInputs(signed).length === 0) return signed;
      throw notSigned(o.walletName, signed);
    }
    const passphrase = o.passphrase.usable();
    if (!passphrase) {
      throw o.passphrase.configured
        ? new CastError('wrong_passphrase', `wallet ${o.walletName} is locked and rejected the passphrase in ${o.passphrase.path ?? 'wallets[].passphraseFile'} before; dcrvoted will not send it again until the file changes`)
        : new CastError('no_passphrase', `wallet ${o.walletName} is locked and dcrvoted has no passphrase to sign votes with (wallets[].passphraseFile)`);
    }
    let signed;
    try {
      signed = await this.#signOnce(passphrase, tx);
    } catch (err) {
      if (err instanceof CastError && err.reason === 'wrong_passphrase') o.passphrase.markRejected(passphrase);
      throw err;
    }
    o.passphrase.markAccepted(passphrase);
    if (unsignedInputs(signed).length > 0) throw notSigned(o.walletName, signed);
    return signed;
  }

  async #signOnce(passphrase: Buffer | null, tx: Buffer): Promise<{ tx: Buffer; unsignedInputIndexes: number[] }> {
    try {
      if (!passphrase) return await this.#o.wallet.signTransaction(null, tx);
      // One passphrase-carrying signature at a time: dcrwallet relocks the
      // wallet as each such call returns (wallet.go replacePassphraseTimeout),
      // which can leave a concurrent one unsigned.
      const run = this.#passphraseSigning.then(() => this.#o.wallet.signTransaction(passphrase, tx));
      this.#passphraseSigning = run.catch(() => undefined);
      return await run;
    } catch (err) {
      const wrong = err instanceof WalletRpcError && err.kind === 'wrong_passphrase';
      throw new CastError(wrong ? 'wrong_passphrase' : 'wallet_error', `wallet ${this.#o.walletName} could not sign the vote: ${errorMessage(err)}`);
    }
  }
}

const FALLBACK_WHY: Readonly<Record<NoLocalKey, string>> = {
  ticket_not_listed: 'dcrvoted had not listed this ticket yet (bought since the last listing)',
  key_not_fetched: 'its voting key is not fetched yet: the wallet has not been seen unlocked since the ticket was listed',
  not_p2pkh: 'the ticket does not pay to a single key (P2SH, e.g. multisig)',
  key_refused: 'the wallet would not give its voting key (not held, or in a locked account)',
};

/** The stakebase input carries no signature; every other input must be signed. */
function unsignedInputs(signed: { unsignedInputIndexes: number[] }): number[] {
  return signed.unsignedInputIndexes.filter((i) => i !== 0);
}

function notSigned(wallet: string, signed: { unsignedInputIndexes: number[] }): CastError {
  return new CastError('not_signed', `wallet ${wallet} left input(s) ${unsignedInputs(signed).join(', ')} of the vote unsigned although it is unlocked (does it hold the ticket's voting key?)`);
}
