#!/usr/bin/env node
// The dcrvoted command: dispatches to one module per command, loaded on
// demand so `dcrvoted version` does not pull in gRPC.

import { ConfigError, EXIT_CONFIG } from './config/load.js';
import { USAGE, UsageError, parseArgs, type ParsedArgs } from './cli-args.js';
import { quietIpServerNameWarning } from './process-warnings.js';
import { VERSION } from './version.js';
import { errorMessage } from './errors.js';

quietIpServerNameWarning();

async function main(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dcrvoted: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`dcrvoted: ${err.message}\n\n${USAGE}\n`);
    return 64;
  }
  if (args.flags.has('help') || args.command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  try {
    switch (args.command) {
      case 'version':
        process.stdout.write(`dcrvoted ${VERSION} (node ${process.version})\n`);
        return 0;
      case 'check-config': {
        const { checkConfigCommand } = await import('./commands/check-config.js');
        return await checkConfigCommand(args);
      }
      case 'run': {
        const { runCommand } = await import('./commands/run.js');
        return await runCommand(args);
      }
      case 'status': {
        const { statusCommand } = await import('./commands/status.js');
        return await statusCommand(args);
      }
      case 'agendas': {
        const { agendasCommand } = await import('./commands/agendas.js');
        return await agendasCommand(args);
      }
      case 'plan': {
        const { planCommand } = await import('./commands/plan.js');
        return await planCommand(args);
      }
      case 'votes': {
        const { votesCommand } = await import('./commands/votes.js');
        return await votesCommand(args);
      }
      default:
        process.stderr.write(`dcrvoted: unknown command "${args.command}"\n\n${USAGE}\n`);
        return 64;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dcrvoted: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`dcrvoted: ${err.message}\n`);
      return 64;
    }
    process.stderr.write(`dcrvoted: ${errorMessage(err)}\n`);
    return 1;
  }
}

/**
 * Once a command is done, the process ends with its code even if a socket
 * is still open: grpc-js, for one, cannot abandon a TLS handshake with a
 * wallet that accepted the connection and never answers, and would keep
 * the process alive for as long as the wallet stays silent. The timer is
 * unref'd, so a process with nothing left open exits at once by itself.
 */
const LINGER_MS = 200;

function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), LINGER_MS).unref();
}

main(process.argv.slice(2)).then(finish, (err: unknown) => {
  process.stderr.write(`dcrvoted: ${(err as Error).stack ?? String(err)}\n`);
  finish(1);
});
