// Answers the vote tracker's questions about tickets by asking the wallets'
// supervisors: five winners per block means five GetTicket calls per wallet,
// never a walk over all tickets.

import type { WalletReadiness } from '../domain.js';
import type { OwnerAnswer, TicketOwners } from '../voting/ports.js';
import type { WalletSupervisor } from './supervisor.js';

export class SupervisedOwners implements TicketOwners {
  readonly #byName: Map<string, WalletSupervisor>;

  constructor(supervisors: WalletSupervisor[]) {
    this.#byName = new Map(supervisors.map((s) => [s.name, s]));
  }

  async findOwner(ticket: string): Promise<OwnerAnswer> {
    const unreachable: string[] = [];
    const answers = await Promise.all(
      [...this.#byName.values()].map(async (s) => {
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
