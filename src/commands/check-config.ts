import { loadFromArgs, type ParsedArgs } from '../cli-args.js';
import { configView, schemaDocs } from '../config/view.js';

export async function checkConfigCommand(args: ParsedArgs): Promise<number> {
  if (args.flags.has('schema')) {
    process.stdout.write(schemaDocs() + '\n');
    return 0;
  }
  const config = loadFromArgs(args);
  process.stdout.write(JSON.stringify(configView(config), null, 2) + '\n');
  process.stderr.write(`configuration OK (${config.wallets.length} wallet(s), network ${config.network})\n`);
  return 0;
}
