// `dcrvoted run`: start the daemon and keep it running until SIGTERM/SIGINT
// or a problem only the operator can fix (exit 78, so systemd's
// RestartPreventExitStatus can stop a restart loop on a broken config).

import { loadFromArgs, type ParsedArgs } from '../cli-args.js';
import { Daemon, type DaemonFatalError } from '../daemon.js';
import { LedgerLockedError } from '../ledger/ledger.js';
import { createLogger } from '../telemetry/logger.js';

export async function runCommand(args: ParsedArgs): Promise<number> {
  const config = loadFromArgs(args);
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  const daemon = new Daemon({
    config,
    logger,
    onFatal: (err: DaemonFatalError) => resolveExit(err.exitCode),
  });
  const onSignal = (sig: NodeJS.Signals) => {
    logger.info({ event: 'signal', signal: sig }, `received ${sig}; shutting down`);
    resolveExit(0);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await daemon.start();
  } catch (err) {
    const message = err instanceof LedgerLockedError ? err.message : `cannot start: ${(err as Error).message}`;
    logger.fatal({ event: 'start_failed' }, message);
    await daemon.stop();
    logger.flush();
    process.stderr.write(`dcrvoted: ${message}\n`);
    return 1;
  }
  const code = await exited;
  await daemon.stop();
  logger.flush();
  return code;
}
