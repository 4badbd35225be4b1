import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { insideTSpendWindow } from '../../src/vote/assembler.js';
import { CastError, VoteCaster, type CasterChain, type CasterWallet } from '../../src/vote/caster.js';
import { serializeTx } from '../../src/vote/tx.js';
import { Secret } from '../../src/config/secret.js';
import { WalletPassphrase } from '../../src/wallet/passphrase.js';
import { WalletRpcError } from '../../src/wallet/rpc-errors.js';
import { decodedTx, deploymentsOf, voteFixtures, type VoteFixture as Fixture } from '../support/vote-fixtures.js';

const fixtures = voteFixtures.map((v) => v.fx);
const treasuryFixtures = fixtures.filter((f) => f.tspend && (f.treasuryVotes?.length ?? 0) > 0);

function prefixOf(hex: string): string {
  return Buffer.from(serializeTx(decodedTx(hex), 'noWitness')).toString('hex');
}

/** What the real chain and wallet reported when the fixture's vote was cast: the tspend in the mempool, the wallet's policy for it. */
function chainAndPolicyOf(fx: Fixture): { tspends: { hash: string; expiry: number }[]; policies: Record<string, string> } {
  if (!fx.tspend || !fx.tspendPolicy) return { tspends: [], policies: {} };
  return { tspends: [{ hash: fx.tspend.hash, expiry: fx.tspend.expiry }], policies: { [fx.tspend.hash]: fx.tspendPolicy[fx.wallet] } };
}

/**
 * dcrwallet's lock rules for SignTransaction (wallet.Unlock, rpcserver
 * SignTransaction): without a passphrase a locked wallet leaves the ticket
 * input unsigned; a wrong passphrase locks the wallet; a right one unlocks
 * for the call and relocks a wallet that was locked or unlocked with a timeout.
 */
class LockModel {
  state: 'locked' | 'unlocked' | 'unlocked-with-timeout';
  readonly sent: (string | null)[] = [];
  constructor(
    state: LockModel['state'],
    readonly correct = 'pw',
  ) {
    this.state = state;
  }
  sign(passphrase: Buffer | null, tx: Buffer): { tx: Buffer; unsignedInputIndexes: number[] } {
    this.sent.push(passphrase ? passphrase.toString() : null);
    if (passphrase === null) return { tx, unsignedInputIndexes: this.state === 'locked' ? [0, 1] : [0] };
    if (passphrase.toString() !== this.correct) {
      this.state = 'locked';
      throw new WalletRpcError('wallet w rejected the private passphrase sent with WalletService.SignTransaction', 'wrong_passphrase', grpc.status.INVALID_ARGUMENT, 'WalletService.SignTransaction', 'w', 'x');
    }
    if (this.state === 'unlocked-with-timeout') this.state = 'locked';
    return { tx, unsignedInputIndexes: [0] };
  }
  get unlocked(): boolean {
    return this.state !== 'locked';
  }
}

function passphraseFile(content: string): { path: string; passphrase: WalletPassphrase } {
  const path = join(mkdtempSync(join(tmpdir(), 'dcrvoted-pass-')), 'pass');
  writeFileSync(path, content + '\n');
  return { path, passphrase: new WalletPassphrase(new Secret(Buffer.from(content)), path) };
}

function setup(
  fx: Fixture,
  opts: {
    signed?: (tx: Buffer) => { tx: Buffer; unsignedInputIndexes: number[] };
    passphrase?: WalletPassphrase;
    lock?: LockModel;
    /** What the caster last heard of the lock state (a probe can be stale). */
    believedUnlocked?: boolean | null;
    tspends?: { hash: string; expiry: number }[];
    policies?: Record<string, string>;
    signError?: Error;
    now?: () => number;
    /** Resolves before the wallet answers a signature (to overlap calls). */
    signGate?: () => Promise<void>;
  } = {},
) {
  const broadcasts: string[] = [];
  const published: string[] = [];
  const policyCalls: (string | undefined)[][] = [];
  const wallet: CasterWallet = {
    getTicketTx: async (t) => (t === fx.ticketHash ? Buffer.from(fx.ticketHex, 'hex') : null),
    voteChoices: async () => ({ voteBits: fx.voteBits }),
    // Without a hash the wallet lists every tspend it has seen (abstain as '').
    tspendPolicies: async (h, ticket) => {
      policyCalls.push([h, ticket]);
      return h === undefined
        ? (opts.tspends ?? []).map((t) => ({ hash: t.hash, policy: opts.policies?.[t.hash] === 'abstain' ? '' : (opts.policies?.[t.hash] ?? '') }))
        : opts.policies?.[h]
          ? [{ hash: h, policy: opts.policies[h] as string }]
          : [];
    },
    signTransaction: async (p, tx) => {
      if (opts.signError) throw opts.signError;
      await opts.signGate?.();
      if (opts.lock) return opts.lock.sign(p, Buffer.from(tx));
      return opts.signed ? opts.signed(Buffer.from(tx)) : { tx: Buffer.from(tx), unsignedInputIndexes: [0] };
    },
    publishTransaction: async (tx) => {
      published.push(Buffer.from(tx).toString('hex'));
      return 'x';
    },
  };
  const chain: CasterChain = {
    deployments: async () => deploymentsOf(fx),
    tspendExpiry: async (h) => opts.tspends?.find((t) => t.hash === h)?.expiry ?? null,
    broadcast: async (hex) => {
      broadcasts.push(hex);
      return [
        { node: 'a', ok: true, ms: 3 },
        { node: 'b', ok: false, ms: 5, error: 'connection refused' },
      ];
    },
  };
  const metrics = createMetrics({ version: 't', network: 'simnet', processMetrics: false });
  const caster = new VoteCaster({
    walletName: 'w',
    network: 'simnet',
    wallet,
    chain,
    passphrase: opts.passphrase ?? new WalletPassphrase(new Secret(Buffer.from('pw')), null),
    lockState: {
      unlocked: () => (opts.believedUnlocked !== undefined ? opts.believedUnlocked : (opts.lock?.unlocked ?? true)),
      refreshUnlocked: async () => opts.lock?.unlocked ?? true,
    },
    voteVersion: () => fx.voteVersion,
    metrics,
    logger: pino({ level: 'silent' }),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { caster, broadcasts, published, metrics, policyCalls };
}

/** A caster whose wallet records every tspendPolicies(hash, ticket) call. */
function setupRecording(fx: Fixture, tspend: { hash: string; expiry: number }) {
  const made = setup(fx, { tspends: [tspend], policies: { [tspend.hash]: 'yes' } });
  return { caster: made.caster, calls: made.policyCalls };
}

async function value(m: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>) {
  const x = (await m.registry.getMetricsAsJSON()).find((y) => y.name === name);
  return x?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
}

describe('vote caster', () => {
  it.each(fixtures.map((f) => [f.voteTxid.slice(0, 12), f] as const))('casts the same vote the real wallet cast (%s)', async (_n, fx) => {
    const { caster, broadcasts, published } = setup(fx, chainAndPolicyOf(fx));
    const r = await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(r.txid).toBe(fx.voteTxid);
    expect(r.accepted).toEqual(['a']);
    expect(r.rejected).toEqual([{ node: 'b', error: 'connection refused' }]);
    expect(broadcasts).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  const fx = fixtures[0]!;

  it('stamps when the vote was built, signed and answered by each node, for its timeline', async () => {
    let clock = 1_002;
    const { caster } = setup(fx, {
      ...chainAndPolicyOf(fx),
      now: () => clock,
      signed: (tx) => {
        clock += 30; // the wallet's signature takes 30 ms
        return { tx, unsignedInputIndexes: [0] };
      },
    });
    const r = await caster.cast(fx.ticketHash, fx.votedBlock, 1_000);
    expect(r.stages).toEqual({
      builtAt: 1_002,
      signedAt: 1_032,
      signer: 'wallet',
      nodes: [
        { node: 'a', ok: true, at: 1_035 },
        { node: 'b', ok: false, at: 1_037, error: 'connection refused' },
      ],
    });
    expect(r.firstAcceptedMs).toBe(35);
  });

  it('asks the wallet for this ticket’s tspend policy (per-ticket policies win over wallet-wide ones)', async () => {
    const tspend = { hash: 'dd'.repeat(32), expiry: 48 * Math.ceil((fx.votedBlock.height + 2) / 48) + 2 };
    const { caster, calls } = setupRecording(fx, tspend);
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(calls).toContainEqual([tspend.hash, fx.ticketHash]);
  });

  it('a locked wallet and no passphrase: refused and counted', async () => {
    const { caster, metrics } = setup(fx, { lock: new LockModel('locked'), passphrase: new WalletPassphrase(null, null) });
    await expect(caster.cast(fx.ticketHash, fx.votedBlock, Date.now())).rejects.toMatchObject({ reason: 'no_passphrase' });
    expect(await value(metrics, 'dcrvoted_vote_signing_failures_total', { reason: 'no_passphrase' })).toBe(1);
  });

  it('two winners of a locked wallet: the passphrase-carrying signatures go one at a time (dcrwallet relocks as each returns)', async () => {
    const lock = new LockModel('locked');
    let inFlight = 0;
    let most = 0;
    const { caster, broadcasts } = setup(fx, {
      lock,
      signGate: async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
      },
    });
    await Promise.all([caster.cast(fx.ticketHash, fx.votedBlock, Date.now()), caster.cast(fx.ticketHash, { ...fx.votedBlock, hash: 'ee'.repeat(32) }, Date.now())]);
    expect(lock.sent.filter((p) => p !== null)).toHaveLength(2);
    expect(most).toBe(1);
    expect(broadcasts).toHaveLength(2);
  });

  it('never sends a passphrase to an unlocked wallet, so a wrong one cannot lock it', async () => {
    const lock = new LockModel('unlocked');
    const { passphrase } = passphraseFile('wrong');
    const { caster, broadcasts } = setup(fx, { lock, passphrase });
    for (let i = 0; i < 3; i++) await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(lock.sent).toEqual([null, null, null]);
    expect(lock.state).toBe('unlocked');
    expect(broadcasts).toHaveLength(3);
  });

  it('leaves a wallet the operator unlocked with a timeout as it was (no relock by a signature)', async () => {
    const lock = new LockModel('unlocked-with-timeout');
    const { caster } = setup(fx, { lock });
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(lock.sent).toEqual([null]);
    expect(lock.state).toBe('unlocked-with-timeout');
  });

  it('signs a locked wallet’s vote with the passphrase, and the wallet stays locked', async () => {
    const lock = new LockModel('locked');
    const { caster, broadcasts } = setup(fx, { lock });
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(lock.sent).toEqual(['pw']);
    expect(lock.state).toBe('locked');
    expect(broadcasts).toHaveLength(1);
  });

  it('a wallet whose unlock ran out since the last probe: unsigned first, then confirmed locked and signed with the passphrase', async () => {
    const lock = new LockModel('locked');
    const { caster, broadcasts } = setup(fx, { lock, believedUnlocked: true });
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(lock.sent).toEqual([null, 'pw']);
    expect(broadcasts).toHaveLength(1);
  });

  it('a wallet believed locked but unlocked meanwhile gets no passphrase', async () => {
    const lock = new LockModel('unlocked');
    const { passphrase } = passphraseFile('wrong');
    const { caster } = setup(fx, { lock, passphrase, believedUnlocked: false });
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(lock.sent).toEqual([null]);
    expect(lock.state).toBe('unlocked');
  });

  it('a wrong passphrase is counted as wrong_passphrase and not sent again until its file changes', async () => {
    const lock = new LockModel('locked');
    const file = passphraseFile('wrong');
    const { caster, metrics, broadcasts } = setup(fx, { lock, passphrase: file.passphrase });
    await expect(caster.cast(fx.ticketHash, fx.votedBlock, Date.now())).rejects.toMatchObject({ reason: 'wrong_passphrase' });
    await expect(caster.cast(fx.ticketHash, fx.votedBlock, Date.now())).rejects.toMatchObject({ reason: 'wrong_passphrase' });
    expect(lock.sent).toEqual(['wrong']);
    expect(await value(metrics, 'dcrvoted_vote_signing_failures_total', { reason: 'wrong_passphrase' })).toBe(2);
    expect(await value(metrics, 'dcrvoted_vote_signing_failures_total', { reason: 'wallet_error' })).toBe(0);
    expect(file.passphrase.state()).toBe('rejected');
    // The operator fixes the file: the next vote uses it.
    writeFileSync(file.path, 'pw\n');
    await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(lock.sent).toEqual(['wrong', 'pw']);
    expect(broadcasts).toHaveLength(1);
    expect(file.passphrase.state()).toBe('accepted');
  });

  it('a ticket input the wallet could not sign is not broadcast', async () => {
    const { caster, broadcasts } = setup(fx, { signed: (tx) => ({ tx, unsignedInputIndexes: [0, 1] }) });
    await expect(caster.cast(fx.ticketHash, fx.votedBlock, Date.now())).rejects.toBeInstanceOf(CastError);
    expect(broadcasts).toHaveLength(0);
  });

  it('a ticket the wallet does not hold is refused', async () => {
    const { caster } = setup(fx);
    await expect(caster.cast('00'.repeat(32), fx.votedBlock, Date.now())).rejects.toMatchObject({ reason: 'ticket_unknown' });
  });

  it('votes on tspends inside their window with the wallet’s policy, and only those', async () => {
    const h = fx.votedBlock.height;
    // simnet: TVI 48, multiplier 3 → expiry must be 2 more than a multiple of 48; window [expiry-146, expiry-2].
    const expiryIn = 48 * Math.ceil((h + 2) / 48) + 2;
    const yes = '01' + 'aa'.repeat(30) + 'ff';
    const abstain = 'bb'.repeat(32);
    const outside = 'cc'.repeat(32);
    const { caster, broadcasts } = setup(fx, {
      tspends: [
        { hash: yes, expiry: expiryIn },
        { hash: abstain, expiry: expiryIn },
        { hash: outside, expiry: expiryIn + 48 * 10 },
      ],
      policies: { [yes]: 'yes', [abstain]: 'abstain', [outside]: 'no' },
    });
    const r = await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
    expect(r.txid).not.toBe(fx.voteTxid);
    const hex = broadcasts[0]!;
    expect(hex.slice(0, 8)).toBe('03000000'); // tx version 3 with treasury votes
    // OP_RETURN OP_DATA_35 'T' 'V' <tspend hash, internal byte order> <1 = yes>
    expect(hex).toContain('6a235456' + Buffer.from(yes, 'hex').reverse().toString('hex') + '01');
    expect(hex).not.toContain('bb'.repeat(32));
    expect(hex).not.toContain('cc'.repeat(32));
  });
});

describe('vote caster with a real treasury spend (simnet fixtures)', () => {
  it('has real votes with treasury votes', () => {
    expect(treasuryFixtures.length).toBeGreaterThanOrEqual(4);
    expect(new Set(treasuryFixtures.map((f) => f.treasuryVotes?.[0]?.vote))).toEqual(new Set(['yes', 'no']));
  });

  it.each(treasuryFixtures.map((f) => [f.voteTxid.slice(0, 12), f.wallet, f.treasuryVotes?.[0]?.vote, f] as const))(
    'the tspend in the mempool and the wallet’s policy give the real wallet’s txid (%s, %s, %s)',
    async (_n, _w, _v, fx) => {
      const tspend = fx.tspend!;
      const policy = fx.tspendPolicy![fx.wallet];
      const { caster, broadcasts } = setup(fx, chainAndPolicyOf(fx));
      const r = await caster.cast(fx.ticketHash, fx.votedBlock, Date.now());
      expect(r.txid).toBe(fx.voteTxid);
      const hex = broadcasts[0]!;
      expect(hex.slice(0, 8)).toBe('03000000');
      // The real vote's last output, byte for byte.
      expect(hex).toContain('6a235456' + Buffer.from(tspend.hash, 'hex').reverse().toString('hex') + (policy === 'yes' ? '01' : '02'));
      // The whole prefix (no witness) equals the real vote's.
      expect(prefixOf(hex)).toBe(prefixOf(fx.voteHex));
    },
  );

  it.each(treasuryFixtures.slice(0, 2).map((f) => [f.voteTxid.slice(0, 12), f] as const))(
    'without the tspend, with the other choice or with abstain the txid differs from the real one (%s)',
    async (_n, fx) => {
      const tspend = fx.tspend!;
      const real = fx.tspendPolicy![fx.wallet];
      const none = setup(fx, { tspends: [], policies: {} });
      expect((await none.caster.cast(fx.ticketHash, fx.votedBlock, Date.now())).txid).not.toBe(fx.voteTxid);
      expect(none.broadcasts[0]!.slice(0, 8)).toBe('01000000');
      const other = setup(fx, { tspends: [{ hash: tspend.hash, expiry: tspend.expiry }], policies: { [tspend.hash]: real === 'yes' ? 'no' : 'yes' } });
      expect((await other.caster.cast(fx.ticketHash, fx.votedBlock, Date.now())).txid).not.toBe(fx.voteTxid);
      const abstain = setup(fx, { tspends: [{ hash: tspend.hash, expiry: tspend.expiry }], policies: { [tspend.hash]: 'abstain' } });
      expect((await abstain.caster.cast(fx.ticketHash, fx.votedBlock, Date.now())).txid).not.toBe(fx.voteTxid);
      expect(abstain.broadcasts[0]!.slice(0, 8)).toBe('01000000');
      // Reported with an expiry whose window has not started at the voted height: no treasury vote.
      const later = setup(fx, { tspends: [{ hash: tspend.hash, expiry: tspend.expiry + 48 * 3 }], policies: { [tspend.hash]: real } });
      expect((await later.caster.cast(fx.ticketHash, fx.votedBlock, Date.now())).txid).not.toBe(fx.voteTxid);
    },
  );
});

describe('tspend voting window (dcrd InsideTSpendWindow)', () => {
  it.each([
    // [height, expiry, tvi, mul, inside]
    [100, 146, 48, 3, true], // the smallest expiry allowed: window [0, 144]
    [0, 146, 48, 3, true],
    [0, 98, 48, 3, false], // expiry below tvi*mul+2
    [144, 146, 48, 3, true],
    [145, 146, 48, 3, false],
    [10, 147, 48, 3, false], // expiry-2 not a multiple of the TVI
    [200, 338, 48, 3, true], // window [192, 336]
    [191, 338, 48, 3, false],
    [336, 338, 48, 3, true],
    [5000, 5186, 288, 12, true], // mainnet: expiry-2 = 5184 = 18*288; window [1728, 5184]
    [1727, 5186, 288, 12, false],
    [5185, 5186, 288, 12, false],
  ] as const)('height %i, expiry %i (tvi %i × %i) → %s', (height, expiry, tvi, mul, inside) => {
    expect(insideTSpendWindow(height, expiry, tvi, mul)).toBe(inside);
  });
});
