// `dcrvoted votes --ticket HASH`: one ticket's winner records, outcomes and
// vote timelines, read from the ledger. A stage nobody observed says so
// rather than showing a number.

import type { LedgerEntry, TimelineRecord } from '../ledger/ledger.js';
import { quote } from '../config/quote.js';

/** A ticket hash as dcrd prints it: 64 hex digits (upper case is taken too). */
export function parseTicketHash(text: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new Error(`--ticket must be a ticket hash of 64 hex digits, got ${quote(text.slice(0, 80))}`);
  return text.toLowerCase();
}

export interface TicketView {
  entry: LedgerEntry;
  timeline: TimelineRecord | null;
}

export function formatTicket(views: TicketView[]): string {
  return views.map(formatOne).join('\n\n');
}

function formatOne({ entry, timeline }: TicketView): string {
  const { winner, outcome } = entry;
  const fate = !outcome
    ? 'pending (waiting for the next block)'
    : outcome.outcome === 'voted'
      ? `voted, in block ${outcome.includedIn?.height ?? '?'}`
      : outcome.outcome === 'missed'
        ? `missed: ${outcome.reason ?? '?'}`
        : 'superseded (its block was reorganised away)';
  const head = [
    `ticket ${winner.ticket}`,
    `wallet ${winner.wallet}, won in block ${winner.block.height} ${winner.block.hash}`,
    `notified ${iso(winner.notifiedAt)}; outcome: ${fate}${outcome?.voteTxid ? `; vote ${outcome.voteTxid}` : ''}`,
  ];
  if (!timeline) {
    head.push(
      !outcome
        ? 'no timeline yet: it is written when the outcome is decided'
        : 'no timeline recorded (decided before this dcrvoted version kept timelines, found after the fact, or lost in a crash)',
    );
    return head.join('\n');
  }
  return head.join('\n') + '\n\n' + timelineTable(timeline);
}

interface Row {
  stage: string;
  /** ms after the notification; null: not known. */
  ms: number | null;
  node: string;
  detail: string;
}

/** The stages in order: stage, time after the first notification, node, detail. */
export function timelineRows(t: TimelineRecord): string[][] {
  const rows: Row[] = [];
  const row = (stage: string, ms: number | null | undefined, node: string, detail: string) => rows.push({ stage, ms: ms ?? null, node, detail });
  row('notified', 0, t.firstNode ?? '?', t.firstNode ? 'first to report the winners' : 'first node not recorded');
  for (const o of t.otherNodes) row('notified', o.ms, o.node, 'reported the winners later');
  if (t.caster === 'wallet') {
    row('built', null, '-', 'the wallet builds and signs its own votes (votingMode wallet)');
    row('signed', null, '-', '');
  } else {
    row('built', t.builtMs, '-', t.builtMs !== undefined ? 'by dcrvoted' : t.castFailed ? `dcrvoted could not cast: ${t.castFailed}` : 'not observed');
    row('signed', t.signedMs, '-', t.signer === 'local' ? 'by dcrvoted, with the ticket\'s voting key' : t.signer === 'wallet' ? 'by the wallet' : '');
    for (const a of t.accepted) row('accepted', a.ms, a.node, '');
    for (const r of t.rejected) row('rejected', r.ms, r.node, r.error);
    if (t.accepted.length === 0 && t.rejected.length === 0) row('accepted', null, '-', 'no broadcast result');
  }
  for (const m of t.mempool) row('in mempool', m.ms, m.node, 'seen there (it arrived at or before this)');
  if (t.mempool.length === 0) row('in mempool', null, '-', 'not seen in any dcrd mempool');
  for (const r of t.rebroadcast) row('rebroadcast', r.ms, r.node, 'its mempool lacked the vote: sent again');
  // A stage of our vote that came after the next block had arrived lost the race: say so on its row.
  const blockAt = t.nextBlock?.ms;
  if (blockAt !== undefined) {
    for (const r of rows) if (r.stage !== 'notified' && r.ms !== null && r.ms > blockAt) r.detail = r.detail ? `${r.detail}; AFTER the next block` : 'AFTER the next block';
  }
  if (t.nextBlock) row('next block', t.nextBlock.ms, '-', `block ${t.nextBlock.height}, ${t.nextBlock.votes} vote(s)`);
  else row('next block', null, '-', 'none decided it (superseded)');
  return rows.map((r) => [r.stage, r.ms === null ? 'unknown' : at(r.ms), r.node, r.detail]);
}

function timelineTable(t: TimelineRecord): string {
  return table([['STAGE', 'AFTER NOTIFICATION', 'NODE', 'DETAIL'], ...timelineRows(t)]);
}

function at(ms: number): string {
  if (Math.abs(ms) >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
