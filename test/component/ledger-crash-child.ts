// Child process for ledger-crash.test.ts: appends records forever and prints
// one line per acknowledged append ("W <i>" for a winner, "O <i>" for its
// outcome). The parent SIGKILLs it at random moments.
//
// Every run starts again at i = 0: records already on disk are refused as
// duplicates (recordWinner/recordOutcome return false) and not re-acked, so a
// record written-but-unacknowledged by a killed run is completed, never doubled.

import type { WalletReadiness } from '../../src/domain.js';
import { Ledger } from '../../src/ledger/ledger.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: ledger-crash-child.ts <stateDir>');

const READY: WalletReadiness = { reachable: true, unlocked: true, voting: true, daemonConnected: false, synced: null };
const hex = (p: string, n: number) => (p + n.toString(16)).padStart(64, '0');

const ledger = await Ledger.open(dir); // fsync on: the real configuration
process.stdout.write(`OPEN ${JSON.stringify(ledger.recovery)}\n`);

// Batches of concurrent appends exercise the serialization queue.
for (let i = 0; ; i += 4) {
  const batch: Promise<void>[] = [];
  for (let j = i; j < i + 4; j++) {
    const block = { hash: hex('b', j), height: 100 + j };
    const ticket = hex('a', j);
    batch.push(
      (async () => {
        if (await ledger.recordWinner({ kind: 'winner', ticket, wallet: 'w', block, notifiedAt: Date.now(), readiness: READY })) {
          process.stdout.write(`W ${j}\n`);
        }
        const outcome =
          j % 3 === 0
            ? { kind: 'outcome' as const, ticket, block, outcome: 'missed' as const, reason: 'wallet_locked' as const, decidedAt: Date.now() }
            : { kind: 'outcome' as const, ticket, block, outcome: 'voted' as const, voteTxid: hex('c', j), voteSeenMs: j, decidedAt: Date.now() };
        if (j % 5 !== 4 && (await ledger.recordOutcome(outcome))) process.stdout.write(`O ${j}\n`);
      })(),
    );
  }
  await Promise.all(batch);
}
