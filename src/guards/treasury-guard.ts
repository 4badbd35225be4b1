// Treasury spends nobody decided. A tspend reaches the wallets through
// dcrd's mempool and stays voted on until its window ends, mined or not.
// Every check collects the tspends in dcrd's mempool and those each wallet
// has seen, reads each one once (expiry, amount, signing key), and reports
// per wallet those still votable that the policy does not decide.

import type { Logger } from 'pino';
import type { PolicyConfig } from '../config/load.js';
import type { DcrdRpc } from '../dcrd/rpc.js';
import type { NetworkName } from '../domain.js';
import type { Metrics } from '../telemetry/metrics.js';
import { errorMessage } from '../errors.js';
import type { Finding, GuardEvent } from './findings.js';
import { CHAIN_PARAMS } from './params.js';
import { GuardReporter } from './reporter.js';
import { policyDecision, readTSpend, stillVotable, tspendWindow, type TSpend } from './tspend.js';

/** Reads tspends through dcrd, remembering each: their facts never change. */
export class TSpendReader {
  readonly #known = new Map<string, TSpend>();
  readonly #chain: Pick<DcrdRpc, 'getRawTransactionHex'>;
  readonly #log: Logger | null;

  constructor(chain: Pick<DcrdRpc, 'getRawTransactionHex'>, log: Logger | null = null) {
    this.#chain = chain;
    this.#log = log;
  }

  async read(hash: string): Promise<TSpend | null> {
    const known = this.#known.get(hash);
    if (known) return known;
    let hex: string | null;
    try {
      hex = await this.#chain.getRawTransactionHex(hash);
    } catch (err) {
      this.#log?.debug({ err: { message: errorMessage(err) }, tspend: hash }, 'getrawtransaction of a tspend failed');
      return null;
    }
    if (hex === null) {
      this.#log?.debug({ tspend: hash }, 'dcrd cannot find the tspend (mined, and no --txindex)');
      return null;
    }
    const t = readTSpend(hex);
    if (t && t.hash === hash) this.#known.set(hash, t);
    return t;
  }

  /** Forget tspends whose window is over: they are never voted on again. */
  forgetEnded(network: NetworkName, tipHeight: number): void {
    for (const [hash, t] of this.#known) if (!stillVotable(network, t.expiry, tipHeight)) this.#known.delete(hash);
  }
}

export interface TreasuryGuardWallet {
  name: string;
  /** Without a hash: every tspend the wallet has seen, with what it would vote ('' = abstain). */
  tspendPolicies(): Promise<{ hash: string; policy: string; ticketHash?: string | null }[]>;
}

export type TreasuryChain = Pick<DcrdRpc, 'getBestBlock' | 'getRawMempoolTSpends' | 'getRawTransactionHex'>;

/** An undecided tspend as /status and `dcrvoted agendas` show it. */
export interface UndecidedTSpend {
  hash: string;
  amountDcr: number;
  expiry: number;
  treasuryKey: string;
  windowStart: number;
  windowEnd: number;
  /** Blocks until the window opens (0 once it is open) and until it closes. */
  blocksToStart: number;
  blocksLeft: number;
  /** Estimated end of the window (ISO time). */
  windowEndsAbout: string;
  /** What the wallet votes now: the wallet's own setting, else abstain. */
  walletVotes: string;
}

export function describeUndecided(network: NetworkName, t: TSpend, tipHeight: number, now: number, walletVotes: string): UndecidedTSpend {
  const w = tspendWindow(network, t.expiry);
  const blocksLeft = Math.max(0, w.end - tipHeight);
  return {
    hash: t.hash,
    amountDcr: Number(t.amountAtoms) / 1e8,
    expiry: t.expiry,
    treasuryKey: t.treasuryKey,
    windowStart: w.start,
    windowEnd: w.end,
    blocksToStart: Math.max(0, w.start - tipHeight),
    blocksLeft,
    windowEndsAbout: new Date(now + blocksLeft * CHAIN_PARAMS[network].targetBlockSeconds * 1000).toISOString(),
    walletVotes: walletVotes === '' ? 'abstain' : walletVotes,
  };
}

/**
 * The tspends still votable at the tip that the policy does not decide,
 * among those in dcrd's mempool and those the wallet has seen (a mined one
 * stays votable until its window ends). `read` fetches and decodes one.
 */
export async function findUndecided(o: {
  network: NetworkName;
  policy: Pick<PolicyConfig, 'tspends' | 'treasuryKeys'>;
  tipHeight: number;
  now: number;
  mempool: readonly string[];
  walletSeen: readonly { hash: string; policy: string; ticketHash?: string | null }[];
  read: (hash: string) => Promise<TSpend | null>;
}): Promise<UndecidedTSpend[]> {
  // Per-ticket entries are VSP policies, not the wallet's own.
  const walletVotes = new Map(o.walletSeen.filter((p) => !p.ticketHash).map((p) => [p.hash.toLowerCase(), p.policy]));
  const out: UndecidedTSpend[] = [];
  for (const hash of new Set([...o.mempool, ...walletVotes.keys()])) {
    const t = await o.read(hash);
    if (!t || !stillVotable(o.network, t.expiry, o.tipHeight) || policyDecision(o.policy, t).decided) continue;
    out.push(describeUndecided(o.network, t, o.tipHeight, o.now, walletVotes.get(hash) ?? ''));
  }
  return out;
}

export class TreasuryGuard {
  readonly reporter: GuardReporter;
  readonly #reader: TSpendReader;
  readonly #undecided = new Map<string, UndecidedTSpend[]>();
  readonly #o: { network: NetworkName; chain: TreasuryChain; policy: PolicyConfig; metrics: Metrics; logger: Logger; now: () => number };

  constructor(o: { network: NetworkName; chain: TreasuryChain; policy: PolicyConfig; metrics: Metrics; logger: Logger; now: () => number; emit: (e: GuardEvent) => void }) {
    this.#o = o;
    this.reporter = new GuardReporter('treasury', o.logger, o.emit, o.now);
    this.#reader = new TSpendReader(o.chain, o.logger);
  }

  async check(wallets: readonly TreasuryGuardWallet[]): Promise<void> {
    const { chain, network, policy } = this.#o;
    const [tip, mempool] = await Promise.all([chain.getBestBlock(), chain.getRawMempoolTSpends()]);
    const now = this.#o.now();
    for (const w of wallets) {
      let seen;
      try {
        seen = await w.tspendPolicies();
      } catch (err) {
        this.#o.logger.debug({ err: { message: errorMessage(err) }, wallet: w.name }, 'treasury guard: wallet did not answer TSpendPolicies');
        continue;
      }
      const undecided = await findUndecided({
        network,
        policy,
        tipHeight: tip.height,
        now,
        mempool,
        walletSeen: seen,
        read: (hash) => this.#reader.read(hash),
      });
      const findings: Finding[] = undecided.map((u) => ({
        guard: 'treasury',
        kind: 'undecided_tspend',
        wallet: w.name,
        key: `tspend:${u.hash}`,
        severity: 'warning',
        title: `treasury spend ${u.hash.slice(0, 16)}… (${u.amountDcr} DCR) is undecided: wallet ${w.name} abstains`,
        message:
          `treasury spend ${u.hash} (${u.amountDcr} DCR, expiry ${u.expiry}) is voted on in blocks ${u.windowStart}..${u.windowEnd}: ` +
          `${u.blocksToStart > 0 ? `opens in ${u.blocksToStart} blocks, ` : ''}${u.blocksLeft} blocks left (until about ${u.windowEndsAbout}); ` +
          `the policy decides neither it nor its treasury key, so wallet ${w.name} votes ${u.walletVotes}: set policy.tspends.${u.hash} or policy.treasuryKeys.${u.treasuryKey}`,
        details: { ...u },
      }));
      this.reporter.publish(w.name, findings);
      this.#undecided.set(w.name, undecided);
      this.#o.metrics.undecidedTSpends.set({ wallet: w.name }, findings.length);
    }
    this.#reader.forgetEnded(network, tip.height);
  }

  /** Undecided tspends of one wallet, as last checked. */
  undecided(wallet: string): UndecidedTSpend[] {
    return this.#undecided.get(wallet) ?? [];
  }
}
