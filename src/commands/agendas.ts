// `dcrvoted agendas`: what each wallet offers to vote on, what it would vote
// now, and what the configured policy says — so an operator can fill in
// policy.agendas before the daemon refuses to start over an unknown one.
// It also lists the treasury spends still open for a vote that the policy
// does not decide (from dcrd's mempool and the tspends the wallet has seen),
// as the treasury guard reports them.

import { loadFromArgs, type ParsedArgs } from '../cli-args.js';
import { walletClientFor } from '../wallet/from-config.js';
import { table } from './votes.js';
import { errorMessage } from '../errors.js';
import { withPrimaryDcrd } from '../dcrd/once.js';
import type { DcrdRpc } from '../dcrd/rpc.js';
import { TSpendReader, findUndecided, type UndecidedTSpend } from '../guards/treasury-guard.js';
import type { DaemonConfig } from '../config/load.js';

export async function agendasCommand(args: ParsedArgs): Promise<number> {
  const config = loadFromArgs(args);
  let failed = false;
  const out: unknown[] = [];
  for (const w of config.wallets) {
    const client = walletClientFor(w);
    try {
      const [{ version, agendas }, current, seenTSpends] = await Promise.all([client.agendas(), client.voteChoices(), client.tspendPolicies()]);
      const now = new Map(current.choices.map((c) => [c.agendaId, c.choiceId]));
      const tspends = await undecidedTSpends(config, seenTSpends);
      if (args.flags.has('json')) {
        out.push({ wallet: w.name, voteVersion: version, agendas, walletChoices: Object.fromEntries(now), policy: config.policy.agendas, undecidedTSpends: tspends.list, ...(tspends.error ? { tspendsError: tspends.error } : {}) });
        continue;
      }
      process.stdout.write(`wallet ${w.name} — vote version ${version}, vote bits ${current.voteBits}\n`);
      const rows = [['AGENDA', 'CHOICES', 'WALLET NOW', 'POLICY']];
      for (const a of agendas) {
        const policy = config.policy.agendas[a.id];
        rows.push([a.id, a.choices.map((c) => c.id).join('/'), now.get(a.id) ?? '-', policy ?? 'UNDECIDED']);
      }
      process.stdout.write((agendas.length ? table(rows) : '(no agendas for this vote version)') + '\n');
      for (const a of agendas) process.stdout.write(`  ${a.id}: ${a.description}\n`);
      const unknown = Object.keys(config.policy.agendas).filter((id) => !agendas.some((a) => a.id === id));
      if (unknown.length) process.stdout.write(`policy names agendas this wallet does not offer: ${unknown.join(', ')}\n`);
      process.stdout.write(formatTSpends(tspends));
      process.stdout.write('\n');
    } catch (err) {
      failed = true;
      process.stderr.write(`wallet ${w.name}: ${errorMessage(err)}\n`);
    } finally {
      client.close();
    }
  }
  if (args.flags.has('json')) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return failed ? 1 : 0;
}

interface TSpendListing {
  list: UndecidedTSpend[];
  /** Why dcrd could not be asked; the list is then only what the wallet alone shows. */
  error: string | null;
}

/** Asks dcrd for its mempool tspends and each tspend's details; never fails the command. */
async function undecidedTSpends(config: DaemonConfig, seen: { hash: string; policy: string; ticketHash?: string | null }[]): Promise<TSpendListing> {
  try {
    return await withPrimaryDcrd(config, async (rpc: DcrdRpc) => {
      const [tip, mempool] = await Promise.all([rpc.getBestBlock(), rpc.getRawMempoolTSpends()]);
      const reader = new TSpendReader(rpc);
      const list = await findUndecided({ network: config.network, policy: config.policy, tipHeight: tip.height, now: Date.now(), mempool, walletSeen: seen, read: (h) => reader.read(h) });
      return { list, error: null };
    });
  } catch (err) {
    return { list: [], error: `cannot ask dcrd at ${config.dcrd.nodes[0].endpoint.address} about treasury spends: ${errorMessage(err)}` };
  }
}

function formatTSpends(t: TSpendListing): string {
  if (t.error) return `treasury spends: ${t.error}\n`;
  if (t.list.length === 0) return 'treasury spends: none open for a vote that the policy leaves undecided\n';
  const rows = [['TSPEND (UNDECIDED)', 'DCR', 'EXPIRY', 'WINDOW', 'BLOCKS LEFT', 'ENDS ABOUT', 'WALLET NOW', 'TREASURY KEY']];
  for (const u of t.list) rows.push([u.hash, String(u.amountDcr), String(u.expiry), `${u.windowStart}..${u.windowEnd}`, String(u.blocksLeft), u.windowEndsAbout, u.walletVotes, u.treasuryKey]);
  return `${table(rows)}\ndecide each under policy.tspends.<hash> or policy.treasuryKeys.<key> (yes, no or abstain)\n`;
}
