// `dcrvoted agendas`: what each wallet offers to vote on, what it would vote
// now, and what the configured policy says — so an operator can fill in
// policy.agendas before the daemon refuses to start over an unknown one.

import { loadFromArgs, type ParsedArgs } from '../cli-args.js';
import { walletClientFor } from '../wallet/from-config.js';
import { table } from './votes.js';
import { errorMessage } from '../errors.js';

export async function agendasCommand(args: ParsedArgs): Promise<number> {
  const config = loadFromArgs(args);
  let failed = false;
  const out: unknown[] = [];
  for (const w of config.wallets) {
    const client = walletClientFor(w);
    try {
      const [{ version, agendas }, current] = await Promise.all([client.agendas(), client.voteChoices()]);
      const now = new Map(current.choices.map((c) => [c.agendaId, c.choiceId]));
      if (args.flags.has('json')) {
        out.push({ wallet: w.name, voteVersion: version, agendas, walletChoices: Object.fromEntries(now), policy: config.policy.agendas });
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
