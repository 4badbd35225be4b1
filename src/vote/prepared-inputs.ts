// Everything a vote needs besides the ticket, read before the lottery: the
// wallet-wide vote bits, the tspends the wallet would vote on with its
// wallet-wide policy and their expiries, and dcrd's deployment states (the
// subsidy split). Refreshed on every block and every policy check, off the
// hot path; on `winningtickets` forWinner() answers from memory, so the
// caster's only wallet call is the signature.
//
// Per-ticket settings (a VSP's per-ticket agenda choices, tspend and
// treasury key policies) must win over the wallet-wide ones, as in
// dcrwallet's VoteOnOwnedTickets (readDBTicketVoteBits, TSpendPolicy with the
// ticket). dcrwallet 2.1.5 lists per-ticket treasury key policies
// (TreasuryPolicies) but has no listing of per-ticket agenda choices or
// per-ticket tspend policies: those are read per ticket (VoteChoices and
// TSpendPolicies with the ticket hash) once, when the ticket joins the index,
// in the background. A ticket found to carry any per-ticket setting, or not
// checked yet, gets no prepared inputs: its vote takes the full path, which
// asks the wallet for that ticket's own choices. Per block the work is the
// refresh (a few calls, independent of the ticket count); per winner a map
// lookup.

import type { Logger } from 'pino';
import type { BlockRef, NetworkName } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { TicketIndex } from '../wallet/ticket-index.js';
import type { TreasuryVote } from './builder.js';
import { insideTSpendWindow, TREASURY_VOTE_WINDOW, type PreparedVote } from './assembler.js';
import { SUBSIDY_PARAMS, subsidySplitFor, type DeploymentState } from './subsidy.js';

export interface PreparationWallet {
  voteChoices(ticketHash?: string): Promise<{ choices: { agendaId: string; choiceId: string }[]; voteBits: number }>;
  tspendPolicies(hashHex?: string, ticketHash?: string): Promise<{ hash: string; policy: string }[]>;
  treasuryPolicies(): Promise<{ ticketHash: string | null }[]>;
}

export interface PreparationChain {
  /** getblockchaininfo: dcrd's tip height and its deployment states. */
  deploymentsAt(): Promise<{ height: number; deployments: Record<string, DeploymentState> }>;
  tspendExpiry(hash: string): Promise<number | null>;
}

interface Snapshot {
  /** dcrd's tip when the deployments were read. */
  height: number;
  deployments: Record<string, DeploymentState>;
  voteBits: number;
  /** agendaId=choiceId, sorted: what a ticket without its own choices reports. */
  choicesKey: string;
  /** The tspends the wallet has seen with a known expiry, in the wallet's order, and its wallet-wide policy. */
  tspends: { hash: string; expiry: number; policy: string }[];
  /** hash=policy of every tspend the wallet has seen: what a ticket without its own policies reports. */
  tspendKey: string;
  /** Tickets TreasuryPolicies lists per-ticket key policies for. */
  keyPolicyTickets: Set<string>;
}

export interface VotePreparationOptions {
  walletName: string;
  network: NetworkName;
  index: TicketIndex;
  wallet: PreparationWallet;
  chain: PreparationChain;
  logger: Logger;
  /** Per-ticket checks in flight at once (background, at fill time). */
  checkConcurrency?: number;
}

export class VotePreparation {
  readonly #o: VotePreparationOptions;
  #snapshot: Snapshot | null = null;
  #refreshing: Promise<void> | null = null;
  #again = false;
  /** Per ticket: true = carries per-ticket settings (full path), false = the wallet-wide inputs apply. Absent: not checked yet. */
  readonly #ownSettings = new Map<string, boolean>();
  readonly #toCheck = new Set<string>();
  #checking = 0;
  #stopped = false;
  readonly #warnedExpiry = new Set<string>();

  constructor(opts: VotePreparationOptions) {
    this.#o = opts;
    const idx = opts.index;
    idx.on('added', (t) => this.#queueCheck(t));
    idx.on('removed', (t) => {
      this.#ownSettings.delete(t);
      this.#toCheck.delete(t);
    });
  }

  stop(): void {
    this.#stopped = true;
  }

  /** Tickets whose per-ticket check is still to do. */
  get pendingChecks(): number {
    return this.#toCheck.size + this.#checking;
  }

  /** Read everything again (a block arrived, or the policy was checked). Calls coalesce. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        await this.#refreshOnce().catch((err: unknown) =>
          this.#o.logger.debug({ event: 'vote_inputs_refresh_failed', wallet: this.#o.walletName, err: { message: errorMessage(err) } }, `cannot prepare vote inputs of wallet ${this.#o.walletName}: ${errorMessage(err)}`),
        );
      } while (this.#again && !this.#stopped);
      this.#refreshing = null;
    })();
    return this.#refreshing;
  }

  /**
   * The inputs for this ticket's vote on this block, from memory; null when
   * they are not prepared (index not loaded, ticket not indexed or carrying
   * its own settings, nothing read yet, or read for another height): the
   * caster then gathers them from the wallet and dcrd as before.
   */
  forWinner(ticket: string, block: BlockRef): PreparedVote | null {
    const s = this.#snapshot;
    const idx = this.#o.index;
    if (!s || !idx.loaded) return null;
    // Deployment states are exact for the snapshot's height and the next one (see projectDeployments).
    if (block.height !== s.height && block.height !== s.height + 1) return null;
    if (this.#ownSettings.get(ticket) !== false || s.keyPolicyTickets.has(ticket)) return null;
    const ticketTx = idx.ticketTx(ticket);
    if (!ticketTx) return null;
    const { tvi, multiplier } = TREASURY_VOTE_WINDOW[this.#o.network];
    const treasuryVotes: TreasuryVote[] = [];
    for (const t of s.tspends) {
      if (!insideTSpendWindow(block.height, t.expiry, tvi, multiplier)) continue;
      if (t.policy === 'yes' || t.policy === 'no') treasuryVotes.push({ tspend: t.hash, vote: t.policy });
    }
    return {
      ticketTx,
      voteBits: s.voteBits,
      subsidySplit: subsidySplitFor(this.#o.network, block.height, projectDeployments(this.#o.network, s.deployments, block.height)),
      treasuryVotes,
    };
  }

  async #refreshOnce(): Promise<void> {
    const { wallet, chain } = this.#o;
    const [choices, tspends, keyPolicies, dep] = await Promise.all([wallet.voteChoices(), wallet.tspendPolicies(), wallet.treasuryPolicies(), chain.deploymentsAt()]);
    const known: Snapshot['tspends'] = [];
    for (const t of tspends) {
      const expiry = await chain.tspendExpiry(t.hash);
      if (expiry === null) {
        if (!this.#warnedExpiry.has(t.hash)) {
          this.#warnedExpiry.add(t.hash);
          this.#o.logger.warn({ event: 'tspend_expiry_unknown', tspend: t.hash }, `cannot learn the expiry of tspend ${t.hash.slice(0, 12)} from dcrd (mined, and dcrd runs without --txindex); dcrvoted's vote leaves it out`);
        }
        continue;
      }
      known.push({ hash: t.hash, expiry, policy: t.policy });
    }
    const next: Snapshot = {
      height: dep.height,
      deployments: dep.deployments,
      voteBits: choices.voteBits,
      choicesKey: choicesKey(choices.choices),
      tspends: known,
      tspendKey: tspendKey(tspends),
      keyPolicyTickets: new Set(keyPolicies.flatMap((p) => (p.ticketHash ? [p.ticketHash] : []))),
    };
    const prev = this.#snapshot;
    this.#snapshot = next;
    // What "no settings of its own" looks like changed: check every ticket again (a policy change; rare).
    if (prev && (prev.choicesKey !== next.choicesKey || prev.tspendKey !== next.tspendKey)) {
      for (const t of this.#o.index.tickets()) this.#queueCheck(t);
    }
    this.#drain();
  }

  #queueCheck(ticket: string): void {
    this.#toCheck.add(ticket);
    this.#drain();
  }

  #drain(): void {
    const max = this.#o.checkConcurrency ?? 4;
    while (!this.#stopped && this.#snapshot && this.#checking < max && this.#toCheck.size > 0) {
      const [ticket] = this.#toCheck;
      if (ticket === undefined) break;
      this.#toCheck.delete(ticket);
      this.#checking++;
      void this.#check(ticket, this.#snapshot).finally(() => {
        this.#checking--;
        this.#drain();
      });
    }
  }

  /** Does this ticket carry per-ticket agenda choices or tspend policies? Compared with the wallet-wide answers. */
  async #check(ticket: string, s: Snapshot): Promise<void> {
    const { wallet } = this.#o;
    try {
      const [own, ownTSpends] = await Promise.all([wallet.voteChoices(ticket), s.tspendKey === '' ? Promise.resolve([]) : wallet.tspendPolicies(undefined, ticket)]);
      if (!this.#o.index.has(ticket)) return;
      const differs = choicesKey(own.choices) !== s.choicesKey || own.voteBits !== s.voteBits || tspendKey(ownTSpends) !== s.tspendKey;
      this.#ownSettings.set(ticket, differs);
    } catch {
      // The wallet is away: check again once it answers (the next refresh drains the queue).
      if (this.#o.index.has(ticket)) this.#toCheck.add(ticket);
      await new Promise((r) => setTimeout(r, 1000).unref());
    }
  }
}

function choicesKey(choices: readonly { agendaId: string; choiceId: string }[]): string {
  return choices
    .map((c) => `${c.agendaId}=${c.choiceId}`)
    .sort()
    .join(',');
}

function tspendKey(policies: readonly { hash: string; policy: string }[]): string {
  return policies
    .map((p) => `${p.hash}=${p.policy}`)
    .sort()
    .join(',');
}

/**
 * Deployment states read at height h, as they stand at height h+1 for the
 * subsidy split: a rule locked in since S is in force from S + RCAI − 1 on
 * (dcrwallet counts the lockedin state on the interval's last block, and it
 * is active from the next), so lockedin is projected to active once the
 * voted height passes that block. Nothing else relevant to the split can
 * change in one block.
 */
export function projectDeployments(network: NetworkName, deployments: Record<string, DeploymentState>, votedHeight: number): Record<string, DeploymentState> {
  const rcai = SUBSIDY_PARAMS[network].ruleChangeActivationInterval;
  const out: Record<string, DeploymentState> = {};
  for (const [id, d] of Object.entries(deployments)) {
    out[id] = d.status === 'lockedin' && d.since !== undefined && votedHeight > d.since + rcai - 1 ? { ...d, status: 'active' } : d;
  }
  return out;
}
