// Answers the vote tracker's questions about tickets by asking the wallets'
// supervisors: five winners per block means five GetTicket calls per wallet,
// never a walk over all tickets. A winner (a live ticket) is looked up in the
// wallet's ticket index instead while that index is loaded: no call at all.
// Tickets that already voted or were revoked are not in an index, so
// questions about the past (catch-up, re-checks) always ask the wallet.

import type { WalletReadiness } from '../domain.js';
import type { OwnerAnswer, TicketOwners } from '../voting/ports.js';
import type { WalletSupervisor } from './supervisor.js';

/** What the owner lookup needs from a wallet's ticket index (ticket-index.ts). */
export interface OwnershipIndex {
  readonly loaded: boolean;
  has(ticket: string): boolean;
}

export class SupervisedOwners implements TicketOwners {
  readonly #byName: Map<string, WalletSupervisor>;
  readonly #indexes: ReadonlyMap<string, OwnershipIndex>;

  constructor(supervisors: WalletSupervisor[], indexes: ReadonlyMap<string, OwnershipIndex> = new Map()) {
    this.#byName = new Map(supervisors.map((s) => [s.name, s]));
    this.#indexes = indexes;
  }

  findOwner(ticket: string): Promise<OwnerAnswer> {
    return this.#ask(ticket, false);
  }

  findLiveOwner(ticket: string): Promise<OwnerAnswer> {
    return this.#ask(ticket, true);
  }

  knownOwner(ticket: string): string | null {
    for (const [wallet, index] of this.#indexes) if (index.loaded && index.has(ticket)) return wallet;
    return null;
  }

  async #ask(ticket: string, live: boolean): Promise<OwnerAnswer> {
    const unreachable: string[] = [];
    const answers = await Promise.all(
      [...this.#byName.values()].map(async (s) => {
        const index = live ? this.#indexes.get(s.name) : undefined;
        if (index?.loaded) return index.has(ticket) ? s.name : null;
        try {
          return (await s.ownsTicket(ticket)) ? s.name : null;
        } catch {
          unreachable.push(s.name);
          return null;
        }
      }),
    );
    const owner = answers.find((a) => a !== null);
    return owner ? { owner } : { owner: null, unreachable };
  }

  async ownedBy(wallet: string, ticket: string): Promise<boolean> {
    return (await this.#get(wallet).ownsTicket(ticket)) === true;
  }

  readiness(wallet: string): WalletReadiness {
    return this.#get(wallet).readiness();
  }

  probeNow(wallet: string): Promise<WalletReadiness> {
    return this.#get(wallet).probeNow();
  }

  ticketStatus(wallet: string, ticket: string): Promise<string | null> {
    return this.#get(wallet).ticketStatus(ticket);
  }

  #get(wallet: string): WalletSupervisor {
    const s = this.#byName.get(wallet);
    if (!s) throw new Error(`no wallet named ${wallet}`);
    return s;
  }
}
