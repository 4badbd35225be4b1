// One wallet's voting keys for `signing: local`: the private key of each
// owned ticket's voting address, fetched from the wallet ahead of the lottery
// so that a winner is signed without asking the wallet anything.
//
// What a voting key can do: vote or revoke that one ticket. The reward goes
// to the ticket's commitment addresses whatever the key holder signs, so the
// key is a smaller exposure than the wallet passphrase dcrvoted holds anyway.
//
// Rules:
// - Keys live in this process's memory only: never logged, written, exported
//   in /status or metrics (only their count is). Each is a Uint8Array zeroed
//   when its ticket is removed (voted, revoked, expired, missed) and on stop.
// - Keys are asked for (DumpPrivateKey, no passphrase) only while the wallet
//   is seen unlocked: the call never changes the wallet's lock state, and a
//   wallet that locked meanwhile just answers FailedPrecondition. dcrvoted
//   never unlocks a wallet to fetch keys (see docs/operations.md).
// - Only an OP_SSTX-tagged P2PKH ticket is signed locally; a P2SH ticket
//   (multisig) is left to the wallet.

import type { Logger } from 'pino';
import type { NetworkName } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { Metrics } from '../telemetry/metrics.js';
import { WalletRpcError } from '../wallet/rpc-errors.js';
import { hash160, pubKeyHashAddress, ticketVotingKeyHash } from './keys.js';
import { votingKeyFromWif, type VotingKey } from './sign-local.js';
import { decodeTx } from './tx.js';

export interface KeyWallet {
  /** WIF of an address's key, in a Buffer this store zeroes once read. */
  dumpPrivateKey(address: string): Promise<Buffer>;
}

/** Whether the wallet is unlocked, as last probed (null: unknown). */
export interface KeyLockView {
  unlocked(): boolean | null;
}

/** Why a winner is not signed locally; the caster logs it once and asks the wallet. */
export type NoLocalKey =
  /** The ticket source has not listed this ticket (yet). */
  | 'ticket_not_listed'
  /** Listed, key not fetched yet: the wallet has not been seen unlocked since. */
  | 'key_not_fetched'
  /** Output 0 is not an OP_SSTX-tagged P2PKH (e.g. a P2SH multisig ticket). */
  | 'not_p2pkh'
  /** The wallet would not give the key (does not hold it, or it lies in a locked account). */
  | 'key_refused';

export interface LocalSigningMaterial {
  key: VotingKey;
  /** Ticket output 0 script: what the ticket input's signature commits to. */
  ticketScript: Uint8Array;
  /** The ticket purchase, serialized (the vote builder reads its commitments). */
  ticketTx: Buffer;
}

type Entry =
  | { state: 'pending'; address: string; ticketScript: Uint8Array; ticketTx: Buffer }
  | { state: 'held'; key: VotingKey; ticketScript: Uint8Array; ticketTx: Buffer }
  | { state: 'unsignable'; reason: 'not_p2pkh' | 'key_refused'; ticketTx: Buffer };

export interface VotingKeyStoreOptions {
  walletName: string;
  network: NetworkName;
  wallet: KeyWallet;
  lockState: KeyLockView;
  metrics: Metrics;
  logger: Logger;
}

export class VotingKeyStore {
  readonly #o: VotingKeyStoreOptions;
  readonly #entries = new Map<string, Entry>();
  #fetching: Promise<void> | null = null;
  #lockedNoted = false;
  /** A deferral is logged once, until keys can be fetched again (an account kept locked would log every block). */
  #deferNoted = false;

  constructor(opts: VotingKeyStoreOptions) {
    this.#o = opts;
    this.#publish();
  }

  /** A ticket of this wallet that can still vote (unmined, immature or live). */
  ticketAdded(hash: string, ticketTx: Buffer): void {
    const id = hash.toLowerCase();
    if (this.#entries.has(id)) return;
    const decoded = decodeTx(ticketTx);
    const script = decoded.ok ? decoded.value.tx.txOut[0]?.pkScript : undefined;
    const keyHash = script ? ticketVotingKeyHash(script) : null;
    if (!script || !keyHash) {
      this.#entries.set(id, { state: 'unsignable', reason: 'not_p2pkh', ticketTx });
      return;
    }
    this.#entries.set(id, { state: 'pending', address: pubKeyHashAddress(keyHash, this.#o.network), ticketScript: script, ticketTx });
  }

  /** The ticket is spent (voted or revoked), expired or missed: its key is zeroed and forgotten. */
  ticketRemoved(hash: string): void {
    const id = hash.toLowerCase();
    const e = this.#entries.get(id);
    if (!e) return;
    if (e.state === 'held') e.key.privateKey.fill(0);
    this.#entries.delete(id);
    this.#publish();
  }

  /** Signing material for a winner, or why there is none. */
  lookup(hash: string): LocalSigningMaterial | { missing: NoLocalKey } {
    const e = this.#entries.get(hash.toLowerCase());
    if (!e) return { missing: 'ticket_not_listed' };
    if (e.state === 'held') return { key: e.key, ticketScript: e.ticketScript, ticketTx: e.ticketTx };
    if (e.state === 'pending') return { missing: 'key_not_fetched' };
    return { missing: e.reason };
  }

  /** Tickets listed and keys held (for tests and the count metric; never the keys). */
  counts(): { tickets: number; keys: number; pending: number } {
    let keys = 0;
    let pending = 0;
    for (const e of this.#entries.values()) {
      if (e.state === 'held') keys++;
      else if (e.state === 'pending') pending++;
    }
    return { tickets: this.#entries.size, keys, pending };
  }

  /** Ticket hashes listed (the source uses it to tell which tickets went away). */
  listed(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Fetches the keys still missing, one call at a time, if the wallet is seen
   * unlocked. Concurrent callers share one run.
   */
  fetchPending(): Promise<void> {
    this.#fetching ??= this.#fetchPending().finally(() => {
      this.#fetching = null;
    });
    return this.#fetching;
  }

  async #fetchPending(): Promise<void> {
    const o = this.#o;
    const pending = [...this.#entries].filter(([, e]) => e.state === 'pending');
    if (pending.length === 0) return;
    if (o.lockState.unlocked() !== true) {
      if (!this.#lockedNoted) {
        this.#lockedNoted = true;
        o.logger.warn(
          { event: 'voting_keys_waiting', wallet: o.walletName, pending: pending.length },
          `wallet ${o.walletName} is not unlocked: the voting keys of ${pending.length} ticket(s) are fetched once it is; until then the wallet signs their votes (signing: local)`,
        );
      }
      return;
    }
    this.#lockedNoted = false;
    let fetched = 0;
    for (const [id, e] of pending) {
      if (e.state !== 'pending' || this.#entries.get(id) !== e) continue; // removed meanwhile
      let wif: Buffer;
      try {
        wif = await o.wallet.dumpPrivateKey(e.address);
      } catch (err) {
        if (err instanceof WalletRpcError && (err.kind === 'not_found' || err.kind === 'invalid_argument')) {
          this.#entries.set(id, { state: 'unsignable', reason: 'key_refused', ticketTx: e.ticketTx });
          o.logger.warn({ event: 'voting_key_refused', wallet: o.walletName, ticket: id, address: e.address }, `wallet ${o.walletName} does not give the voting key of ticket ${id.slice(0, 12)} (${errorMessage(err)}); the wallet signs its vote`);
          continue;
        }
        // Locked since the probe (or an account of its own is locked), unreachable, …: try again later.
        if (this.#deferNoted) break;
        this.#deferNoted = true;
        o.logger.warn({ event: 'voting_keys_deferred', wallet: o.walletName, reason: errorMessage(err) }, `wallet ${o.walletName}: cannot fetch voting keys now (${errorMessage(err)}); trying again at the next block`);
        break;
      }
      try {
        const key = votingKeyFromWif(wif, o.network);
        if (!equal(hash160(key.publicKey), ticketVotingKeyHash(e.ticketScript))) {
          key.privateKey.fill(0);
          this.#entries.set(id, { state: 'unsignable', reason: 'key_refused', ticketTx: e.ticketTx });
          o.logger.error({ event: 'voting_key_mismatch', wallet: o.walletName, ticket: id }, `wallet ${o.walletName} answered a key that is not ticket ${id.slice(0, 12)}'s voting key; the wallet signs its vote`);
          continue;
        }
        this.#entries.set(id, { state: 'held', key, ticketScript: e.ticketScript, ticketTx: e.ticketTx });
        this.#deferNoted = false;
        fetched++;
      } catch (err) {
        this.#entries.set(id, { state: 'unsignable', reason: 'key_refused', ticketTx: e.ticketTx });
        o.logger.error({ event: 'voting_key_unreadable', wallet: o.walletName, ticket: id }, `wallet ${o.walletName}: the voting key of ticket ${id.slice(0, 12)} is unusable (${errorMessage(err)}); the wallet signs its vote`);
      } finally {
        wif.fill(0);
      }
    }
    this.#publish();
    if (fetched > 0) {
      const c = this.counts();
      o.logger.info({ event: 'voting_keys_fetched', wallet: o.walletName, fetched, held: c.keys, pending: c.pending }, `wallet ${o.walletName}: fetched ${fetched} voting key(s); ${c.keys} held in memory, ${c.pending} still to fetch`);
    }
  }

  /** Zeroes and forgets every key (daemon stop). */
  clear(): void {
    for (const e of this.#entries.values()) if (e.state === 'held') e.key.privateKey.fill(0);
    this.#entries.clear();
    this.#publish();
  }

  #publish(): void {
    this.#o.metrics.votingKeys.set({ wallet: this.#o.walletName }, this.counts().keys);
  }
}

function equal(a: Uint8Array, b: Uint8Array | null): boolean {
  return b !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}
