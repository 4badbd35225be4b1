// The running daemon's /status, for a human at a terminal. Exit code 2 when
// the daemon says a wallet could not vote right now, so scripts can use it.

import { loadFromArgs, type ParsedArgs } from '../cli-args.js';
import type { StatusDocument } from '../status.js';
import { errorMessage } from '../errors.js';

export async function statusCommand(args: ParsedArgs): Promise<number> {
  const url = (args.flags.get('url') as string | undefined) ?? `http://${loadFromArgs(args).http.address}`;
  let doc: StatusDocument;
  try {
    const res = await fetch(new URL('/status', url), { signal: AbortSignal.timeout(5000) });
    doc = (await res.json()) as StatusDocument;
  } catch (err) {
    process.stderr.write(`dcrvoted: cannot reach the daemon at ${url}: ${errorMessage(err)} (is it running? is http.listen right?)\n`);
    return 1;
  }
  if (args.flags.has('json')) {
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    process.stdout.write(formatStatus(doc) + '\n');
  }
  return doc.ready ? 0 : 2;
}

const mark = (v: boolean | null | undefined) => (v === true ? 'yes' : v === false ? 'NO' : '?');

export function formatStatus(doc: StatusDocument): string {
  const out: string[] = [];
  out.push(`dcrvoted ${doc.version} on ${doc.network} — ${doc.ready ? 'READY: every wallet can vote' : 'NOT READY'}`);
  out.push(`up since ${doc.startedAt}`);
  const d = doc.dcrd;
  out.push(`\ndcrd ${d.address}: ${d.connected ? 'connected' : 'DISCONNECTED'}${d.bestBlock ? `, best block ${d.bestBlock.height}` : ''}${d.lastBlockAt ? ` (last new block seen ${d.lastBlockAt})` : ''}`);
  if (d.nodes.length > 1) for (const n of d.nodes) out.push(`  node ${n.name} ${n.address}: ${n.connected ? 'connected' : 'DISCONNECTED'}`);
  // The sync guard's view: each node's height and, when something is wrong, what (heights and hashes).
  for (const n of d.sync?.nodes ?? []) {
    if (d.nodes.length === 1 && n.problems.length === 0) continue;
    out.push(`  sync ${n.name}: height ${n.height ?? '?'}${n.blocksBehind ? `, ${n.blocksBehind} block(s) behind` : ''}${n.current === false ? ', NOT CURRENT' : ''}, ${n.peers ?? '?'} p2p peer(s)`);
    for (const p of n.problems) out.push(`    ${p.active ? 'OUT OF SYNC' : 'suspect'} since ${p.since}: ${p.message}`);
  }
  for (const w of doc.wallets) {
    const r = w.readiness;
    out.push(`\nwallet ${w.name} (${w.mode}, votes by ${w.votingMode}, ${w.address}): ${w.ready ? 'ready' : 'NOT READY: ' + w.reasons.join('; ')}`);
    out.push(`  reachable ${mark(r.reachable)}  unlocked ${mark(r.unlocked)}  voting ${mark(r.voting)}  connected to dcrd ${mark(r.daemonConnected)}  synced ${mark(r.synced)}`);
    if (w.bestBlock) out.push(`  best block ${w.bestBlock.height}, vote version ${w.voteVersion ?? '?'}`);
    out.push(`  policy in sync ${mark(w.policy.inSync)}, vote bits ${w.policy.voteBits ?? '?'}${w.policy.undecidedAgendas.length ? `, undecided agendas: ${w.policy.undecidedAgendas.join(', ')}` : ''}`);
    for (const p of w.policy.problems ?? []) out.push(`  POLICY PROBLEM on vote version ${w.policy.voteVersion ?? '?'}: ${p.key}: ${p.message}`);
    if (w.tickets) out.push(`  tickets: ${Object.entries(w.tickets).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ') || 'none'}`);
    if (w.lastError) out.push(`  last error (${w.lastError.at}): ${w.lastError.message}`);
  }
  const v = doc.votes;
  out.push(`\nvotes: ${v.voted} voted, ${v.missed} missed, ${v.superseded} superseded, ${v.pending.length} pending`);
  for (const p of v.pending) out.push(`  pending: ticket ${p.ticket.slice(0, 16)} (${p.wallet}) won in block ${p.block.height}${p.voteSeenMs !== null ? `, vote seen after ${p.voteSeenMs} ms` : ''}`);
  for (const m of v.recentMisses) out.push(`  missed: ticket ${m.ticket.slice(0, 16)} (${m.wallet}) block ${m.height}: ${m.reason}`);
  const n = doc.notify;
  if (n && (n.targets.length > 0 || n.heartbeat)) {
    out.push(`\nnotifications: ${n.targets.length} target(s)${n.heartbeat ? `, heartbeat to ${n.heartbeat}` : ''}`);
    for (const t of n.targets) {
      out.push(`  ${t.name} (${t.kind}, ${t.origin}, from ${t.minSeverity}): ${t.sent} sent, ${t.failed} failed, ${t.dropped} dropped, ${t.queued} queued${t.lastError ? `; last error: ${t.lastError}` : ''}`);
    }
    for (const f of n.firing) out.push(`  firing: ${f.title} (${f.severity})`);
  }
  // Older daemons send no guards section.
  const g = doc.guards as StatusDocument['guards'] | undefined;
  if (g) {
    out.push(`\nguards (upgrade, treasury): ${g.findings.length === 0 ? 'nothing to do' : `${g.findings.length} finding(s)`}${g.lastCheckAt ? `, last checked ${g.lastCheckAt}` : ', not checked yet'}${g.lastError ? ` — last check failed: ${g.lastError}` : ''}`);
    for (const f of g.findings) out.push(`  ${f.guard}/${f.kind} (${f.wallet}): ${f.message}`);
  }
  return out.join('\n');
}
