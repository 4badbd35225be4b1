// argv → command and options. Only non-secret options are accepted as flags:
// a secret on the command line would be visible in ps and shell history, so
// any flag that looks like one is refused outright.

import { daemonSchema } from './config/schema.js';
import { ConfigError, loadConfig, type DaemonConfig } from './config/load.js';
import { VERSION } from './version.js';

export const USAGE = `dcrvoted ${VERSION} — always-online solo voting daemon for Decred

Usage: dcrvoted <command> [--config FILE] [options]

Commands:
  run            run the daemon (the default under systemd)
  check-config   validate the configuration and print it with secrets redacted
                 (--schema prints every option with its documentation)
  status         show the running daemon's /status for a human (--json for raw)
  agendas        list each wallet's agendas and choices and what the policy says
  votes          show recent winning tickets and their outcomes from the ledger
                 (--limit N, --json); --ticket HASH: one ticket's vote timeline
  plan           expected wins of our tickets in the next --minutes M and the
                 chance of at least one, to pick a maintenance window (--json).
                 Approximation: blocks = M / the target block time, 5 winners
                 per block from the live pool, pool and our tickets as now
  version        print the version

Options:
  --config, -c FILE       YAML config (also DCRVOTED_CONFIG)
  --network NAME          mainnet, testnet or simnet
  --state-dir DIR         ledger directory
  --log-level LEVEL       fatal, error, warn, info, debug, trace
  --log-format FORMAT     json, pretty or auto
  --http-listen HOST:PORT /metrics, /healthz, /readyz, /status
  --dcrd-address HOST:PORT
  --url URL               (status) the daemon's HTTP address, instead of --config

Secrets (passwords, passphrases, keys) are read only from files named in the
config; a bare file name is looked up in $CREDENTIALS_DIRECTORY.
Exit codes: 0 ok, 1 failure, 2 (status) not ready, 78 configuration error.`;

const SECRET_FLAG = /pass|secret|token|key|cred/i;

export interface ParsedArgs {
  command: string;
  configFile: string | undefined;
  convictArgs: string[];
  flags: Map<string, string | true>;
}

const CONVICT_FLAGS = new Set(collectArgNames(daemonSchema as unknown as Record<string, unknown>));
const COMMAND_FLAGS = new Set(['schema', 'json', 'limit', 'url', 'help', 'minutes', 'ticket']);

export class UsageError extends Error {}

export function parseArgs(argv: string[]): ParsedArgs {
  let command = '';
  let configFile: string | undefined;
  const convictArgs: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('-')) {
      if (command) throw new UsageError(`unexpected argument "${a}"`);
      command = a;
      continue;
    }
    if (a === '-h') {
      flags.set('help', true);
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^--?/, '');
    if (SECRET_FLAG.test(name)) {
      throw new ConfigError([
        {
          key: `--${name}`,
          message: 'secrets are never accepted on the command line (they would show in ps and shell history); put the secret in a file and name the file in the config',
        },
      ]);
    }
    const takesValue = name === 'config' || name === 'c' || CONVICT_FLAGS.has(name) || name === 'limit' || name === 'url' || name === 'minutes' || name === 'ticket';
    let value: string | true = true;
    if (takesValue) {
      if (eq > 0) value = a.slice(eq + 1);
      else {
        const next = argv[++i];
        if (next === undefined) throw new UsageError(`--${name} needs a value`);
        value = next;
      }
    }
    if (name === 'config' || name === 'c') configFile = value as string;
    else if (CONVICT_FLAGS.has(name)) convictArgs.push(`--${name}`, value as string);
    else if (COMMAND_FLAGS.has(name)) flags.set(name, value);
    else throw new UsageError(`unknown option --${name}`);
  }
  return { command: command || 'help', configFile, convictArgs, flags };
}

function collectArgNames(schema: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const v of Object.values(schema)) {
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.arg === 'string') out.push(o.arg);
      else if (!('doc' in o)) out.push(...collectArgNames(o));
    }
  }
  return out;
}

export function loadFromArgs(args: ParsedArgs): DaemonConfig {
  return loadConfig({ configFile: args.configFile ?? process.env.DCRVOTED_CONFIG, args: args.convictArgs });
}

