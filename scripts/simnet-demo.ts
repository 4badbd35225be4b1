// The newcomer's demo: a throwaway simnet with dcrvoted managing the voting
// wallet. A block is mined every few seconds by the "other" wallet's miner;
// dcrvoted's log shows each winning ticket of ours, the vote reaching the
// mempool, and its outcome. /status and /metrics are served while it runs.

import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { quietIpServerNameWarning } from '../src/process-warnings.js';
import { createLogger } from '../src/telemetry/logger.js';
import { writeConfig } from '../test/e2e/dcrvoted.js';
import { startSimnet } from '../test/e2e/harness/index.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string' },
    interval: { type: 'string', default: '3' },
  },
});
const maxBlocks = values.blocks ? Number(values.blocks) : Infinity;
const intervalMs = Number(values.interval) * 1000;

async function freeLocalPort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

quietIpServerNameWarning();
const say = (line: string) => process.stdout.write(`\x1b[1m[demo]\x1b[0m ${line}\n`);

say('starting a throwaway simnet: dcrd, our voting wallet (managed by dcrvoted), and another wallet standing for the rest of the network');
const sim = await startSimnet({ ourWallet: { managed: true } });
say(`simnet up in ${(sim.bringUpMs / 1000).toFixed(1)} s (backend ${sim.backend}); logs in ${sim.logDir}`);

const port = await freeLocalPort(9198);
const configFile = writeConfig(sim, { httpPort: port });
const config = loadConfig({ configFile, env: {} });
config.log.format = process.stdout.isTTY ? 'pretty' : 'json';
config.log.level = 'info';
const logger = createLogger({ level: config.log.level, format: config.log.format });
const daemon = new Daemon({
  config,
  logger,
  onFatal: (err) => {
    say(`dcrvoted stopped: ${err.message}`);
    void shutdown(err.exitCode);
  },
});
await daemon.start();
say(`dcrvoted is running with config ${configFile}`);
say(`  status:  http://${daemon.httpAddress}/status   (or: npx tsx src/cli.ts status --url http://${daemon.httpAddress})`);
say(`  metrics: http://${daemon.httpAddress}/metrics`);
say(`  ledger:  npx tsx src/cli.ts votes --config ${configFile}`);
say(`mining a block every ${intervalMs / 1000} s${Number.isFinite(maxBlocks) ? `, ${maxBlocks} blocks` : '; Ctrl-C to stop and tear everything down'}`);

let stopping = false;
async function shutdown(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('tearing down');
  await daemon.stop();
  await sim.stop();
  say('done');
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

let mined = 0;
while (!stopping && mined < maxBlocks) {
  await new Promise((r) => setTimeout(r, intervalMs));
  if (stopping) break;
  try {
    const [hash] = await sim.mine(1);
    mined++;
    const status = daemon.status();
    const winners = sim.winnersAt(hash as string)?.tickets.length ?? 0;
    say(`block ${status.dcrd.bestBlock?.height ?? '?'} mined (${winners} winners) — ours so far: ${status.votes.voted} voted, ${status.votes.missed} missed, ${status.votes.pending.length} pending; ${status.ready ? 'ready' : 'NOT READY: ' + JSON.stringify(status.reasons)}`);
  } catch (err) {
    say(`mining failed: ${(err as Error).message}`);
  }
}
if (!stopping) {
  const s = daemon.status();
  say(`finished: ${s.votes.voted} voted, ${s.votes.missed} missed`);
  await shutdown(s.votes.missed > 0 ? 1 : 0);
}
