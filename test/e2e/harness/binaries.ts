/**
 * Locates (building on first use) the pinned dcrd and dcrwallet binaries by
 * running scripts/build-nodes.sh, which is idempotent and prints KEY=VALUE
 * lines for us on stdout.
 */
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NodeBinaries {
  dcrd: string;
  dcrwallet: string;
  /** Identifies the binary versions; snapshots and docker images are keyed by it. */
  key: string;
}

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function cacheDir(): string {
  return process.env.DCRVOTED_CACHE ?? join(homedir(), '.cache', 'dcrvoted');
}

let cached: Promise<NodeBinaries> | undefined;

export function ensureBinaries(): Promise<NodeBinaries> {
  cached ??= new Promise<NodeBinaries>((resolve, reject) => {
    const script = join(REPO_ROOT, 'scripts', 'build-nodes.sh');
    execFile('bash', [script], { timeout: 15 * 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`scripts/build-nodes.sh failed: ${err.message}\n${stderr.slice(-4000)}`));
        return;
      }
      const vars = new Map<string, string>();
      for (const line of stdout.split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
        if (m?.[1] && m[2] !== undefined) vars.set(m[1], m[2]);
      }
      const dcrd = vars.get('DCRD_BIN');
      const dcrwallet = vars.get('DCRWALLET_BIN');
      const key = vars.get('NODES_KEY');
      if (!dcrd || !dcrwallet || !key) {
        reject(new Error(`scripts/build-nodes.sh did not print DCRD_BIN/DCRWALLET_BIN/NODES_KEY:\n${stdout}`));
        return;
      }
      resolve({ dcrd, dcrwallet, key });
    });
  });
  return cached;
}
