// `dcrvoted run`: start the daemon and keep it running until SIGTERM/SIGINT
// or a problem only the operator can fix (exit 78, so systemd's
// RestartPreventExitStatus can stop a restart loop on a broken config).

import { loadFromArgs, type ParsedArgs } from '../cli-args.js';
import { Daemon, type DaemonFatalError } from '../daemon.js';
import { LedgerLockedError } from '../ledger/ledger.js';
import { configureNotifier, notifyReady, notifyStatus, notifyStopping } from '../systemd/notify.js';
import { SystemdWatchdog } from '../systemd/watchdog.js';
import { createLogger } from '../telemetry/logger.js';
import { errorMessage } from '../errors.js';

/**
 * From SIGTERM/SIGINT or a fatal error to the end of the process, whatever
 * the peers do. systemd's default TimeoutStopSec is far longer; 5 s is our
 * own promise (docs/operations.md).
 */
export const STOP_BUDGET_MS = 4500;

export async function runCommand(args: ParsedArgs): Promise<number> {
  const config = loadFromArgs(args);
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  configureNotifier({ onError: (message) => logger.warn({ event: 'sd_notify_failed' }, message) });
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
    const message = err instanceof LedgerLockedError ? err.message : `cannot start: ${errorMessage(err)}`;
    logger.fatal({ event: 'start_failed' }, message);
    await daemon.stop();
    logger.flush();
    process.stderr.write(`dcrvoted: ${message}\n`);
    return 1;
  }
  // READY=1 once we are up and watching; whether the wallets can vote is
  // what /readyz and the STATUS line report, not a reason to fail the start.
  await notifyReady(daemon.summary());
  const watchdog = new SystemdWatchdog({
    isHealthy: () => daemon.heartbeat.verdict(),
    onUnhealthy: (reason) => logger.error({ event: 'watchdog_withheld', reason }, `main loop stalled (${reason}); withholding the systemd watchdog ping`),
    onRecovered: () => logger.warn({ event: 'watchdog_recovered' }, 'main loop progressing again'),
  });
  watchdog.start();
  let lastSummary = '';
  const statusTimer = setInterval(() => {
    const line = daemon.summary();
    if (line !== lastSummary) void notifyStatus((lastSummary = line));
  }, 5000);
  statusTimer.unref();

  const code = await exited;
  clearInterval(statusTimer);
  watchdog.stop();
  // The last resort: should anything below hang (a peer nobody can cancel,
  // a stuck systemd-notify), exit anyway and with the right code, so that
  // systemd's RestartPreventExitStatus=78 still sees a 78.
  const forced = setTimeout(() => {
    logger.error({ event: 'stop_forced', exitCode: code }, `shutdown did not finish within ${STOP_BUDGET_MS} ms; exiting with ${code} anyway`);
    logger.flush();
    process.exit(code);
  }, STOP_BUDGET_MS);
  await Promise.race([notifyStopping('shutting down'), sleep(500)]);
  await daemon.stop(STOP_BUDGET_MS - 1000);
  clearTimeout(forced);
  logger.flush();
  return code;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
