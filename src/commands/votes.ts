// Recent winning tickets and their outcomes, read straight from the ledger
// file (no lock, safe while the daemon runs).

import { loadFromArgs, type ParsedArgs } from '../cli-args.js';
import { quote } from '../config/quote.js';
import { readLedger } from '../ledger/ledger.js';
import type { LedgerEntry } from '../ledger/state.js';
import { formatTicket, parseTicketHash } from './vote-timeline.js';

export async function votesCommand(args: ParsedArgs): Promise<number> {
  const stateDir = loadFromArgs(args).stateDir;
  const ticketFlag = args.flags.get('ticket');
  if (ticketFlag !== undefined) return ticketCommand(stateDir, String(ticketFlag), args.flags.has('json'));
  const text = String(args.flags.get('limit') ?? '20');
  // Digits only: Number() would take "1e3", "0x10" or " 5" as numbers.
  if (!/^[1-9][0-9]{0,5}$/.test(text)) throw new Error(`--limit must be a whole number from 1 to 999999, got ${quote(text)}`);
  const limit = Number(text);
  const ledger = await readLedger(stateDir);
  if (!ledger.exists) {
    process.stdout.write(`no ledger yet in ${stateDir} (no winning ticket of ours has been seen)\n`);
    return 0;
  }
  const entries = ledger.recent(limit);
  if (args.flags.has('json')) {
    process.stdout.write(JSON.stringify({ counts: ledger.counts(), entries }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(formatVotes(entries) + '\n');
  const c = ledger.counts();
  const reasons = Object.entries(c.byReason)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  process.stdout.write(
    `\ntotal: ${c.voted} voted, ${c.missed} missed${reasons ? ` (${reasons})` : ''}, ${c.superseded} superseded, ${c.pending} pending\n`,
  );
  return 0;
}

async function ticketCommand(stateDir: string, text: string, json: boolean): Promise<number> {
  const ticket = parseTicketHash(text);
  const ledger = await readLedger(stateDir);
  const entries = ledger.entriesFor(ticket);
  if (entries.length === 0) {
    throw new Error(
      `ticket ${ticket} is not in the ledger ${ledger.path}${ledger.exists ? '' : ' (there is no ledger yet)'}: dcrvoted has not seen it win (is it a ticket of one of this config's wallets, and is this the daemon's state directory?)`,
    );
  }
  const views = entries.map((entry) => ({ entry, timeline: ledger.timeline(ticket, entry.winner.block.hash) ?? null }));
  if (json) {
    process.stdout.write(JSON.stringify({ ticket, entries: views.map((v) => ({ ...v.entry, timeline: v.timeline })) }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(formatTicket(views) + '\n');
  return 0;
}

export function formatVotes(entries: LedgerEntry[]): string {
  const rows = [['WON AT', 'HEIGHT', 'TICKET', 'WALLET', 'OUTCOME', 'DETAIL']];
  for (const { winner, outcome } of entries) {
    const detail = !outcome
      ? 'waiting for the next block'
      : outcome.outcome === 'voted'
        ? `in block ${outcome.includedIn?.height ?? '?'}${outcome.voteSeenMs !== undefined ? `, seen after ${outcome.voteSeenMs} ms` : ''}`
        : outcome.outcome === 'missed'
          ? (outcome.reason ?? '')
          : 'block reorganised away';
    rows.push([
      new Date(winner.notifiedAt).toISOString().replace('T', ' ').slice(0, 19),
      String(winner.block.height),
      winner.ticket.slice(0, 16),
      winner.wallet,
      outcome?.outcome ?? 'pending',
      detail,
    ]);
  }
  return table(rows);
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
