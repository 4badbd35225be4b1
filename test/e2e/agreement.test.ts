/**
 * Contract tests: the SAME checks run against our in-process fakes
 * (test/support/fake-wallet.ts, fake-dcrd.ts) and against real dcrwallet
 * 2.1.5 / dcrd 2.1.6 on simnet, through our own clients (WalletClient,
 * StatusProbe, DcrdClient, DcrdRpc). Each check is a function
 * `(peer) => Promise<observation>`; the fake's observation must equal the
 * real node's. An observation is normalised so that it holds only what must
 * agree (shapes, kinds, read-back semantics), not values that legitimately
 * differ between two chains (hashes, heights, agenda names).
 *
 * The real node runs first, so a failure shows the real behaviour as the
 * expected value. One simnet for the whole file; wallet checks leave the
 * wallet as they found it (unlocked, choices abstain, no treasury policies)
 * before the dcrd checks mine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DcrdRpcError } from '../../src/dcrd/jsonrpc.js';
import type { DcrdNotification } from '../../src/dcrd/notifications.js';
import { DcrdRpc } from '../../src/dcrd/rpc.js';
import { DcrdClient, DcrdConnectError } from '../../src/dcrd/ws-client.js';
import type { BlockRef } from '../../src/domain.js';
import { readTicket } from '../../src/vote/builder.js';
import { decodeTx, txid } from '../../src/vote/tx.js';
import { WalletClient, type TicketStatus, type WalletTicket } from '../../src/wallet/grpc-client.js';
import { WalletRpcError } from '../../src/wallet/rpc-errors.js';
import { StatusProbe, StatusProbeError } from '../../src/wallet/status-probe.js';
import { generateTestPki, type TestPki } from '../support/certs.js';
import { FakeDcrd, randomHash, startFakeDcrd } from '../support/fake-dcrd.js';
import { FakeWallet } from '../support/fake-wallet.js';
import { walletClient } from './dcrvoted.js';
import { makeClientCert, startSimnet, type Simnet } from './harness/index.js';

const MINUTE = 60_000;
const HEX64 = /^[0-9a-f]{64}$/;
const TICKET_STATUSES: readonly TicketStatus[] = ['UNKNOWN', 'UNMINED', 'IMMATURE', 'LIVE', 'VOTED', 'MISSED', 'EXPIRED', 'REVOKED'];
/** secp256k1's generator point, compressed: a valid treasury key. */
const TREASURY_KEY = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
/** 33 bytes with a valid prefix that are not a point on the curve. */
const NOT_A_KEY = '02' + '00'.repeat(32);

// ---------------------------------------------------------------------------
// Peers.

interface WalletPeer {
  kind: 'real' | 'fake';
  client: WalletClient;
  probe: StatusProbe;
  /** Same wallet, a client certificate that is not in its clients.pem. */
  rogue: () => WalletClient;
  /** walletinfo as raw JSON (basic auth), for field names and types. */
  rawWalletInfo: () => Promise<Record<string, unknown>>;
  /** JSON-RPC with a wrong password. */
  wrongPasswordProbe: () => StatusProbe;
  passphrase: Buffer;
  /** A mined, live ticket the wallet owns. */
  ownTicket: () => Promise<string>;
}

interface DcrdPeer {
  kind: 'real' | 'fake';
  client: DcrdClient;
  rpc: DcrdRpc;
  notifications: DcrdNotification[];
  /** Connect one block on the tip (with votes for the tip); returns the new tip. */
  connectBlock: () => Promise<BlockRef>;
  /** Winners the lottery picked when `hash` was connected (real: the harness observer's record, waited for). */
  winnersAt: (hash: string) => Promise<string[]>;
  /** Make sure a vote on the tip is in the mempool (real: wallets vote by themselves). */
  voteInMempool: (tip: BlockRef) => Promise<void>;
  /**
   * Connect blocks until one revokes a ticket of "ours" (a missed winner);
   * returns that block and the revoked tickets of ours. Leaves the wallet as
   * it was.
   */
  revokeOne: () => Promise<{ block: string; ours: string[] }>;
  /** A DcrdClient with a wrong password. */
  badAuthClient: () => DcrdClient;
}

let sim: Simnet;
let pki: TestPki;
let fakeWallet: FakeWallet;
let fakeDcrd: FakeDcrd;
const peers: { wallet: Record<'real' | 'fake', WalletPeer>; dcrd: Record<'real' | 'fake', DcrdPeer> } = {} as never;
const results: { check: string; verdict: string; realMs: number; fakeMs: number }[] = [];
const closers: (() => unknown)[] = [];
const t0 = Date.now();

function rawJsonRpc(address: string, ca: Buffer, user: string, password: string, method: string): Promise<Record<string, unknown>> {
  const [host, port] = address.split(':') as [string, string];
  const body = JSON.stringify({ jsonrpc: '1.0', id: 1, method, params: [] });
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host,
        port: Number(port),
        method: 'POST',
        path: '/',
        ca,
        agent: false,
        headers: {
          'Content-Type': 'application/json',
          Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64'),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result: Record<string, unknown>; error: unknown };
            if (parsed.error) reject(new Error(JSON.stringify(parsed.error)));
            else resolve(parsed.result);
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function connectDcrd(opts: ConstructorParameters<typeof DcrdClient>[0]): Promise<{ client: DcrdClient; notifications: DcrdNotification[] }> {
  const client = new DcrdClient({ requestTimeoutMs: 15_000, ...opts });
  const notifications: DcrdNotification[] = [];
  client.on('notification', (n) => notifications.push(n));
  const connected = new Promise<void>((resolve, reject) => {
    client.once('connected', () => resolve());
    client.once('connectFailed', ({ error }) => reject(error));
  });
  client.start();
  await connected;
  return { client, notifications };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a call ends with: 'ok' or the kind of error our client reports. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof WalletRpcError) return err.kind;
    if (err instanceof StatusProbeError) return err.kind;
    if (err instanceof DcrdRpcError) return `rpc ${err.code}`;
    if (err instanceof DcrdConnectError) return err.kind;
    return `unexpected ${(err as Error).name}: ${(err as Error).message}`;
  }
}

/** Field name → JSON type, sorted: the shape of a JSON object. */
function shape(obj: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    out[k] = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  }
  return out;
}

// ---------------------------------------------------------------------------

beforeAll(async () => {
  pki = generateTestPki();
  closers.push(() => pki.cleanup());
  sim = await startSimnet({ ourWallet: { managed: false } });
  console.log(`[agreement] simnet up in ${(sim.bringUpMs / 1000).toFixed(1)} s, backend=${sim.backend}, ${sim.fromSnapshot ? 'from snapshot' : 'cold'}`);

  // ---- wallets ----
  const realClient = await walletClient(sim.ours);
  const realCa = readFileSync(sim.ours.caCertPath);
  const rogueReal = await makeClientCert(join(sim.baseDir, 'rogue', 'client.pem'), join(sim.baseDir, 'rogue', 'client.key'), 'rogue');
  const realProbe = (password: string) =>
    new StatusProbe({ name: 'ours', address: sim.ours.jsonRpcAddress, caCert: realCa, auth: { type: 'basic', user: sim.ours.rpcUser, password: Buffer.from(password) } });
  const realBest = await realClient.bestBlock();
  peers.wallet = {
    real: {
      kind: 'real',
      client: realClient,
      probe: realProbe(sim.ours.rpcPassword),
      wrongPasswordProbe: () => realProbe('not-the-password'),
      rogue: () =>
        new WalletClient({
          name: 'ours',
          address: sim.ours.grpcAddress,
          caCert: realCa,
          clientCert: readFileSync(rogueReal.certPath),
          clientKey: readFileSync(rogueReal.keyPath),
        }),
      rawWalletInfo: () => rawJsonRpc(sim.ours.jsonRpcAddress, realCa, sim.ours.rpcUser, sim.ours.rpcPassword, 'walletinfo'),
      passphrase: Buffer.from(sim.ours.passphrase),
      ownTicket: async () => {
        const live = await sim.ourLiveTickets();
        if (!live[0]) throw new Error('ours has no live ticket');
        return live[0];
      },
    },
    fake: undefined as never,
  };

  // A real ticket purchase (a captured vote fixture's): GetTickets sends its transaction.
  const fixtureFile = readdirSync('test/fixtures/votes').filter((f) => f.endsWith('.json')).sort()[0]!;
  const fixture = JSON.parse(readFileSync(join('test/fixtures/votes', fixtureFile), 'utf8')) as { ticketHash: string; ticketHex: string };
  const fakeTicket = fixture.ticketHash;
  fakeWallet = await FakeWallet.start({
    pki,
    state: {
      locked: false,
      passphrase: 'fake-private-passphrase',
      bestBlock: realBest,
      tickets: new Map([[fakeTicket, { status: 'LIVE', blockHash: randomHash(), blockHeight: realBest.height - 20, tx: fixture.ticketHex }]]),
    },
  });
  closers.push(() => fakeWallet.stop());
  const fakeProbe = (password: string) =>
    new StatusProbe({
      name: 'ours',
      address: fakeWallet.jsonRpcAddress,
      caCert: pki.serverCa.cert,
      auth: { type: 'basic', user: fakeWallet.jsonRpcUser, password: Buffer.from(password) },
    });
  const fakeClient = (cert: Buffer, key: Buffer) =>
    new WalletClient({ name: 'ours', address: fakeWallet.grpcAddress, caCert: pki.serverCa.cert, clientCert: cert, clientKey: key });
  peers.wallet.fake = {
    kind: 'fake',
    client: fakeClient(pki.client.cert, pki.client.key),
    probe: fakeProbe(fakeWallet.jsonRpcPassword),
    wrongPasswordProbe: () => fakeProbe('not-the-password'),
    rogue: () => fakeClient(pki.rogue.cert, pki.rogue.key),
    rawWalletInfo: () => rawJsonRpc(fakeWallet.jsonRpcAddress, pki.serverCa.cert, fakeWallet.jsonRpcUser, fakeWallet.jsonRpcPassword, 'walletinfo'),
    passphrase: Buffer.from('fake-private-passphrase'),
    ownTicket: async () => fakeTicket,
  };
  closers.push(() => peers.wallet.real.client.close(), () => peers.wallet.fake.client.close());

  // ---- dcrd ----
  const real = await connectDcrd({
    host: sim.dcrd.host,
    port: sim.dcrd.rpcPort,
    user: sim.dcrd.user,
    password: Buffer.from(sim.dcrd.password),
    caCert: readFileSync(sim.dcrd.caCertPath),
  });
  closers.push(() => real.client.close());
  peers.dcrd = {
    real: {
      kind: 'real',
      client: real.client,
      notifications: real.notifications,
      rpc: new DcrdRpc((m, p, o) => real.client.request(m, p, o)),
      connectBlock: async () => {
        await sim.mine(1);
        return sim.tip();
      },
      // The observer is a websocket of its own: its notification can come after ours.
      winnersAt: async (hash) => (await sim.winnersOf(hash)).tickets,
      voteInMempool: async () => undefined,
      revokeOne: async () => {
        const rpc = peers.dcrd.real.rpc;
        const ours = new Set(await sim.ourLiveTickets());
        await sim.ours.stop();
        await sim.ours.start({ enableVoting: false });
        try {
          for (let i = 0; i < 40; i++) {
            const [hash] = await sim.mine(1);
            const { revocations } = await rpc.getBlockVotes(hash!);
            const mine = revocations.map((r) => r.ticketHash).filter((t) => ours.has(t));
            if (mine.length > 0) return { block: hash!, ours: mine };
          }
          throw new Error('no ticket of ours was revoked within 40 blocks');
        } finally {
          await sim.ours.stop();
          await sim.ours.start();
        }
      },
      badAuthClient: () =>
        new DcrdClient({
          host: sim.dcrd.host,
          port: sim.dcrd.rpcPort,
          user: sim.dcrd.user,
          password: Buffer.from('wrong-password'),
          caCert: readFileSync(sim.dcrd.caCertPath),
        }),
    },
    fake: undefined as never,
  };

  fakeDcrd = await startFakeDcrd({ network: 'simnet' });
  closers.push(() => fakeDcrd.dispose());
  const fake = await connectDcrd({ host: '127.0.0.1', port: fakeDcrd.port, user: 'rpcuser', password: Buffer.from('rpcpass'), caCert: fakeDcrd.caCert });
  closers.push(() => fake.client.close());
  // Votes for the tip, as the wallets would publish them: 5 winners, all vote.
  const fakeConnect = (extra: { revocations?: string[] } = {}): BlockRef => {
    const tip = fakeDcrd.tipBlock();
    const votesFor = tip.winners.map((ticket) => ({ ticket, voteBits: 1 }));
    for (const txid of fakeDcrd.mempoolTxids) fakeDcrd.removeMempoolTx(txid);
    return fakeDcrd.connectBlock({ votesFor, ...extra });
  };
  // The fake's base block has no winners; give the chain a normal tip first.
  fakeDcrd.connectBlock();
  fakeDcrd.connectBlock({ votesFor: fakeDcrd.tipBlock().winners.map((ticket) => ({ ticket, voteBits: 1 })) });
  peers.dcrd.fake = {
    kind: 'fake',
    client: fake.client,
    notifications: fake.notifications,
    rpc: new DcrdRpc((m, p, o) => fake.client.request(m, p, o)),
    connectBlock: async () => fakeConnect(),
    winnersAt: async (hash) => fakeDcrd.block(hash)?.winners ?? [],
    voteInMempool: async (tip) => {
      const ticket = fakeDcrd.block(tip.hash)?.winners[0];
      if (ticket) fakeDcrd.addMempoolVote(ticket, tip, 1);
    },
    revokeOne: async () => {
      // A winner of the tip that did not vote is revoked (DCP0009) in the
      // block after the one that left its vote out.
      const missed = fakeDcrd.tipBlock().winners[0]!;
      fakeConnect();
      const b = fakeConnect({ revocations: [missed] });
      return { block: b.hash, ours: [missed] };
    },
    badAuthClient: () =>
      new DcrdClient({ host: '127.0.0.1', port: fakeDcrd.port, user: 'rpcuser', password: Buffer.from('wrong-password'), caCert: fakeDcrd.caCert }),
  };
}, 6 * MINUTE);

afterAll(async () => {
  for (const c of closers.reverse()) {
    try {
      await c();
    } catch {
      // best effort
    }
  }
  await sim?.stop();
  const w = Math.max(...results.map((r) => r.check.length));
  console.log(
    `[agreement] ${results.length} checks in ${((Date.now() - t0) / 1000).toFixed(1)} s\n` +
      results.map((r) => `  ${r.check.padEnd(w)}  ${r.verdict.padEnd(9)} real ${r.realMs} ms, fake ${r.fakeMs} ms`).join('\n'),
  );
}, 2 * MINUTE);

async function agree<P extends { kind: string }>(name: string, real: P, fake: P, check: (peer: P) => Promise<unknown>): Promise<void> {
  let t = Date.now();
  const r = await check(real);
  const realMs = Date.now() - t;
  t = Date.now();
  const f = await check(fake);
  const fakeMs = Date.now() - t;
  results.push({ check: name, verdict: JSON.stringify(f) === JSON.stringify(r) ? 'agree' : 'DISAGREE', realMs, fakeMs });
  expect(f, `fake disagrees with real node on "${name}"`).toEqual(r);
}

// ---------------------------------------------------------------------------
// dcrwallet checks.

type WalletCheck = [name: string, check: (w: WalletPeer) => Promise<unknown>];

const walletChecks: WalletCheck[] = [
  ['Ping', (w) => outcome(w.client.ping())],
  ['Network', (w) => w.client.networkInfo()],
  [
    'BestBlock shape',
    async (w) => {
      const b = await w.client.bestBlock();
      return { hash: HEX64.test(b.hash), height: Number.isSafeInteger(b.height) && b.height > 0 };
    },
  ],
  ['GetTicket unknown hash → null', (w) => w.client.getTicket(randomHash())],
  [
    'GetTicket own live ticket',
    async (w) => {
      const hash = await w.ownTicket();
      const t = await w.client.getTicket(hash);
      if (!t) return 'null';
      return {
        statusIsEnum: TICKET_STATUSES.includes(t.status),
        status: t.status,
        hashRoundTrips: t.hash === hash,
        spender: [t.spenderHash, t.spenderType],
        block: t.blockHash !== null && HEX64.test(t.blockHash) && typeof t.blockHeight === 'number',
        vspHost: t.vspHost,
      };
    },
  ],
  [
    'GetTickets: every ticket once with its purchase transaction, by block height, unmined last',
    async (w) => {
      const own = await w.ownTicket();
      const listed: WalletTicket[] = [];
      await w.client.listTickets(0, (t, tx) => listed.push({ hash: t.hash, status: t.status, tx, blockHeight: t.blockHeight }));
      const heights = listed.map((t) => t.blockHeight);
      const firstUnmined = heights.indexOf(null);
      const mined = heights.filter((h): h is number => h !== null);
      return {
        includesOwnLive: listed.some((t) => t.hash === own && t.status === 'LIVE'),
        once: new Set(listed.map((t) => t.hash)).size === listed.length,
        hashIsTxid: listed.every((t) => {
          const d = decodeTx(t.tx);
          return d.ok && txid(d.value.tx) === t.hash;
        }),
        purchases: listed.every((t) => {
          const d = decodeTx(t.tx);
          try {
            return d.ok && readTicket(d.value.tx).commitments.length > 0;
          } catch {
            return false;
          }
        }),
        byHeight: mined.every((h, i) => i === 0 || h >= (mined[i - 1] as number)),
        unminedLast: firstUnmined === -1 || heights.slice(firstUnmined).every((h) => h === null),
        statuses: listed.every((t) => TICKET_STATUSES.includes(t.status)),
      };
    },
  ],
  [
    'TransactionNotifications: the stream stays open until cancelled, and ends without an error',
    async (w) => {
      const stream = w.client.transactionNotifications();
      let errors = 0;
      stream.on('error', () => errors++);
      await new Promise((r) => setTimeout(r, 500));
      const openAfterWait = !stream.ended;
      const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
      stream.cancel();
      await ended;
      return { openAfterWait, errors, lastError: stream.lastError?.kind ?? null };
    },
  ],
  [
    'Agendas shape',
    async (w) => {
      const { version, agendas } = await w.client.agendas();
      return {
        version: Number.isInteger(version) && version > 0,
        some: agendas.length > 0,
        idsUnique: new Set(agendas.map((a) => a.id)).size === agendas.length,
        ids: agendas.every((a) => /^[a-z0-9]+$/i.test(a.id)),
        choices: [...new Set(agendas.map((a) => a.choices.map((c) => `${c.id}:${c.isAbstain ? 'A' : ''}${c.isNo ? 'N' : ''}`).join(',')))],
        abstainBits0: agendas.every((a) => a.choices.every((c) => !c.isAbstain || c.bits === 0)),
        bitsInMask: agendas.every((a) => a.choices.every((c) => (c.bits & ~a.mask) === 0)),
        // chaincfg's "never expires" (MaxInt64) is clamped, never a failure;
        // a real expiry is after the start.
        expireTimes: agendas.every((a) => Number.isSafeInteger(a.expireTime) && a.expireTime > a.startTime),
      };
    },
  ],
  [
    'VoteChoices after SetVoteChoices',
    async (w) => {
      const { agendas } = await w.client.agendas();
      const a = agendas[0]!;
      const yes = a.choices.find((c) => c.id === 'yes')!;
      const set = await w.client.setVoteChoices([{ agendaId: a.id, choiceId: 'yes' }]);
      const read = await w.client.voteChoices();
      const abstained = await w.client.setVoteChoices([{ agendaId: a.id, choiceId: 'abstain' }]);
      const after = await w.client.voteChoices();
      return {
        listsEveryAgenda: read.choices.map((c) => c.agendaId).sort().join() === agendas.map((x) => x.id).sort().join(),
        readBack: read.choices.find((c) => c.agendaId === a.id)?.choiceId,
        setBits: set.voteBits === (1 | yes.bits),
        readBits: read.voteBits === (1 | yes.bits),
        version: read.version === (await w.client.agendas()).version,
        afterAbstain: [after.choices.find((c) => c.agendaId === a.id)?.choiceId, abstained.voteBits, after.voteBits],
        othersAbstain: after.choices.every((c) => c.choiceId === 'abstain'),
      };
    },
  ],
  [
    'SetVoteChoices unknown agenda / unknown choice / one bad pair',
    async (w) => {
      const { agendas } = await w.client.agendas();
      const a = agendas[0]!;
      return {
        unknownAgenda: await outcome(w.client.setVoteChoices([{ agendaId: 'nosuchagenda', choiceId: 'yes' }])),
        unknownChoice: await outcome(w.client.setVoteChoices([{ agendaId: a.id, choiceId: 'maybe' }])),
        badPair: await outcome(w.client.setVoteChoices([{ agendaId: a.id, choiceId: 'yes' }, { agendaId: 'nosuchagenda', choiceId: 'no' }])),
        appliedNothing: (await w.client.voteChoices()).choices.find((c) => c.agendaId === a.id)?.choiceId,
      };
    },
  ],
  [
    'VoteChoices / SetVoteChoices for a ticket the wallet does not own',
    async (w) => ({
      read: await outcome(w.client.voteChoices(randomHash())),
      set: await outcome(w.client.setVoteChoices([{ agendaId: (await w.client.agendas()).agendas[0]!.id, choiceId: 'no' }], randomHash())),
    }),
  ],
  [
    'SetTreasuryPolicy yes / no / abstain → TreasuryPolicies',
    async (w) => {
      const read = async () => (await w.client.treasuryPolicies()).filter((p) => p.key === TREASURY_KEY);
      const out: unknown[] = [];
      for (const policy of ['yes', 'no', 'abstain'] as const) {
        await w.client.setTreasuryPolicy(TREASURY_KEY, policy);
        out.push([policy, await read()]);
      }
      return out;
    },
  ],
  [
    'SetTreasuryPolicy with a bad key / unknown policy',
    async (w) => ({
      notAPoint: await outcome(w.client.setTreasuryPolicy(NOT_A_KEY, 'abstain')),
      unknownPolicy: await outcome(w.client.setTreasuryPolicy(TREASURY_KEY, 'maybe' as never)),
    }),
  ],
  [
    'TSpendPolicies for an unseen tspend',
    async (w) => {
      const tspend = randomHash();
      const before = await w.client.tspendPolicies(tspend);
      await w.client.setTSpendPolicy(tspend, 'yes');
      const byHash = await w.client.tspendPolicies(tspend);
      const listed = (await w.client.tspendPolicies()).some((p) => p.hash === tspend);
      await w.client.setTSpendPolicy(tspend, 'abstain');
      const cleared = await w.client.tspendPolicies(tspend);
      const norm = (ps: { hash: string; policy: string; ticketHash: string | null }[]) =>
        ps.map((p) => ({ hashRoundTrips: p.hash === tspend, policy: p.policy, ticketHash: p.ticketHash }));
      return { before: norm(before), byHash: norm(byHash), listedWithoutHash: listed, cleared: norm(cleared) };
    },
  ],
  [
    'UnlockWallet wrong passphrase → wrong_passphrase, wallet locked; right one unlocks',
    async (w) => {
      try {
        const before = (await w.probe.walletInfo()).unlocked;
        const wrong = await outcome(w.client.unlockWallet(Buffer.from('definitely not the passphrase')));
        const afterWrong = (await w.probe.walletInfo()).unlocked;
        const right = await outcome(w.client.unlockWallet(w.passphrase));
        const afterRight = (await w.probe.walletInfo()).unlocked;
        return { before, wrong, afterWrong, right, afterRight };
      } finally {
        // A wrong passphrase locks the wallet: never leave it locked for the checks after this one.
        await w.client.unlockWallet(w.passphrase).catch(() => undefined);
      }
    },
  ],
  [
    'LockWallet → walletinfo.unlocked false',
    async (w) => {
      try {
        const lock = await outcome(w.client.lockWallet());
        const locked = (await w.probe.walletInfo()).unlocked;
        const lockAgain = await outcome(w.client.lockWallet());
        await w.client.unlockWallet(w.passphrase);
        const unlockAgain = await outcome(w.client.unlockWallet(w.passphrase));
        return { lock, locked, lockAgain, unlockAgain, unlocked: (await w.probe.walletInfo()).unlocked };
      } finally {
        // Never leave the wallet locked for the checks after this one.
        await w.client.unlockWallet(w.passphrase).catch(() => undefined);
      }
    },
  ],
  [
    'walletinfo fields and types',
    async (w) => {
      const raw = await w.rawWalletInfo();
      const parsed = await w.probe.walletInfo();
      return {
        shape: shape(raw),
        parsed: { unlocked: parsed.unlocked, voting: parsed.voting, daemonConnected: parsed.daemonConnected, spv: parsed.spv },
        voteVersionIsAgendasVersion: parsed.voteVersion === (await w.client.agendas()).version,
        votebits: raw['votebits'],
        votebitsextendedIsVoteVersion:
          typeof raw['votebitsextended'] === 'string' && Buffer.from(raw['votebitsextended'], 'hex').readUInt32LE(0) === parsed.voteVersion,
      };
    },
  ],
  ['walletinfo with a wrong JSON-RPC password', (w) => outcome(w.wrongPasswordProbe().walletInfo())],
  [
    'StakeInfo field presence',
    async (w) => {
      const s = await w.client.stakeInfo();
      return {
        fields: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Number.isSafeInteger(v) && v >= 0])),
        live: s.live > 0,
        poolSize: s.poolSize > 0,
        unspentCoversLive: s.unspent >= s.live + s.immature,
      };
    },
  ],
  [
    'client cert not in clients.pem → tls_rejected',
    async (w) => {
      const c = w.rogue();
      try {
        return await outcome(c.ping());
      } finally {
        c.close();
      }
    },
  ],
];

describe('dcrwallet: fake agrees with dcrwallet 2.1.5', () => {
  for (const [name, check] of walletChecks) {
    it(name, () => agree(name, peers.wallet.real, peers.wallet.fake, check), MINUTE);
  }
});

// ---------------------------------------------------------------------------
// dcrd checks.

type DcrdCheck = [name: string, check: (d: DcrdPeer) => Promise<unknown>];

const dcrdChecks: DcrdCheck[] = [
  ['getNetworkName', (d) => d.rpc.getNetworkName()],
  [
    'winningtickets + blockconnected for one new block',
    async (d) => {
      const before = await d.rpc.getBestBlock();
      const mark = d.notifications.length;
      await d.connectBlock();
      const tip = await d.rpc.getBestBlock();
      const seen = await until('notifications for the new tip', async () => {
        const ns = d.notifications.slice(mark).filter((n) => n.block.hash === tip.hash);
        return ns.some((n) => n.kind === 'blockconnected') && ns.some((n) => n.kind === 'winningtickets') ? ns : undefined;
      });
      const wt = seen.find((n) => n.kind === 'winningtickets');
      const bc = seen.find((n) => n.kind === 'blockconnected');
      if (wt?.kind !== 'winningtickets' || bc?.kind !== 'blockconnected') throw new Error('unreachable');
      const votes = await d.rpc.getBlockVotes(tip.hash);
      return {
        order: seen.map((n) => n.kind),
        rawBlockShape: shape(await d.client.request<Record<string, unknown>>('getblock', [tip.hash, true, false])),
        coinbase: await (async () => {
          const b = await d.client.request<{ rawtx: Record<string, unknown>[]; rawstx: Record<string, unknown>[] }>('getblock', [tip.hash, true, true]);
          const cb = b.rawtx[0]!;
          return {
            shape: shape(cb),
            vin0: shape((cb['vin'] as Record<string, unknown>[])[0]!),
            vout0Type: (cb['vout'] as { scriptPubKey: { type: string } }[])[0]!.scriptPubKey.type,
            byTxid: shape(await d.client.request<Record<string, unknown>>('getrawtransaction', [cb['txid'], 1])),
          };
        })(),
        winners: wt.tickets.length,
        winnersHex: wt.tickets.every((t) => HEX64.test(t)),
        winnersMatchPeer: wt.tickets.join() === (await d.winnersAt(tip.hash)).join(),
        winningBlock: wt.block.height === tip.height,
        connectedIsBest: bc.block.hash === tip.hash && bc.block.height === tip.height,
        previousHash: bc.previousHash === before.hash && bc.header.prevBlock === before.hash,
        oneBlock: tip.height === before.height + 1,
        subscribedTxs: bc.subscribedTxs,
        headerVoters: bc.header.voters === votes.votes.length,
        headerRevocations: bc.header.revocations === votes.revocations.length,
        headerTime: bc.header.timestamp === votes.block.time,
      };
    },
  ],
  [
    'getBlockVotes on a block with votes',
    async (d) => {
      const tip = await d.rpc.getBestBlock();
      const bv = await d.rpc.getBlockVotes(tip.hash);
      const parent = await d.rpc.getBlockHeader(bv.block.previousHash);
      const parentWinners = await d.winnersAt(parent.hash);
      return {
        block: bv.block.hash === tip.hash && bv.block.height === tip.height && bv.block.confirmations === 1,
        enoughVotes: bv.votes.length >= 3 && bv.votes.length <= 5,
        votedBlockIsParent: bv.votes.every((v) => v.votedBlock.hash === parent.hash && v.votedBlock.height === parent.height),
        votersWereWinners: bv.votes.every((v) => parentWinners.includes(v.ticketHash)),
        voteBitsLowBit: bv.votes.every((v) => (v.voteBits & 1) === 1),
        voteVersion: bv.votes.every((v) => typeof v.voteVersion === 'number' && v.voteVersion > 0),
        txids: bv.votes.every((v) => HEX64.test(v.txid)),
      };
    },
  ],
  [
    'getBlockHeader confirmations on the main chain; unknown block',
    async (d) => {
      const tip = await d.rpc.getBestBlock();
      const h = await d.rpc.getBlockHeader(tip.hash);
      const p = await d.rpc.getBlockHeader(h.previousHash);
      const raw = (await d.client.request('getblockheader', [tip.hash, true])) as Record<string, unknown>;
      return {
        tip: [h.hash === tip.hash, h.height === tip.height, h.confirmations],
        parent: [p.height === tip.height - 1, p.confirmations],
        parentNext: (await d.client.request<Record<string, unknown>>('getblockheader', [p.hash, true]))['nextblockhash'] === tip.hash,
        rawShape: shape(raw),
        unknown: await outcome(d.rpc.getBlockHeader(randomHash())),
        hashAtHeight: (await d.rpc.getBlockHash(tip.height)) === tip.hash,
        beyondTip: await outcome(d.rpc.getBlockHash(tip.height + 1000)),
      };
    },
  ],
  [
    'getrawmempool votes + getVoteTx for a vote in the mempool',
    async (d) => {
      const tip = await d.rpc.getBestBlock();
      await d.voteInMempool(tip);
      const txid = await until('a vote on the tip in the mempool', async () => {
        for (const id of await d.rpc.getRawMempoolVotes()) {
          const v = await d.rpc.getVoteTx(id).catch(() => null);
          if (v && v.votedBlock.hash === tip.hash) return id;
        }
        return undefined;
      });
      const v = (await d.rpc.getVoteTx(txid))!;
      const raw = (await d.client.request('getrawtransaction', [txid, 1])) as Record<string, unknown>;
      const winners = await d.winnersAt(tip.hash);
      return {
        votedBlock: v.votedBlock.height === tip.height,
        winner: winners.includes(v.ticketHash),
        txid: v.txid === txid,
        voteBitsLowBit: (v.voteBits & 1) === 1,
        exists: await d.rpc.existsMempoolTxs([txid, randomHash()]),
        // Mempool txs carry no block fields (omitempty).
        rawShape: shape(raw),
        vinShapes: (raw['vin'] as Record<string, unknown>[]).map(shape),
        voutShapes: (raw['vout'] as Record<string, unknown>[]).map((o) => ({ ...shape(o), scriptPubKey: shape(o['scriptPubKey'] as Record<string, unknown>) })),
        voutTypes: (raw['vout'] as { scriptPubKey: { type: string } }[]).map((o) => o.scriptPubKey.type),
        simnetAddresses: (raw['vout'] as { scriptPubKey: { addresses?: string[] } }[]).every((o) =>
          (o.scriptPubKey.addresses ?? []).every((a) => /^Ss[1-9A-HJ-NP-Za-km-z]{33}$/.test(a)),
        ),
      };
    },
  ],
  [
    'a block that revokes a missed ticket (automatic revocation)',
    async (d) => {
      const { block, ours } = await d.revokeOne();
      const bv = await d.rpc.getBlockVotes(block);
      const rev = bv.revocations.find((r) => r.ticketHash === ours[0])!;
      const raw = (await d.client.request('getrawtransaction', [rev.txid, 1])) as Record<string, unknown>;
      const vin = (raw['vin'] as Record<string, unknown>[])[0]!;
      const vout = (raw['vout'] as Record<string, unknown>[]).map((o) => shape(o['scriptPubKey'] as Record<string, unknown>));
      return {
        decoded: HEX64.test(rev.txid),
        headerCount: (await d.client.request<Record<string, unknown>>('getblockheader', [block, true]))['revocations'] === bv.revocations.length,
        version: raw['version'],
        rawShape: shape(raw),
        vinShape: shape(vin),
        voutTypes: [...new Set((raw['vout'] as { scriptPubKey: { type: string } }[]).map((o) => o.scriptPubKey.type))],
        voutShape: vout[0],
      };
    },
  ],
  [
    'getblockchaininfo raw shape',
    async (d) => {
      const raw = await d.client.request<Record<string, unknown>>('getblockchaininfo', []);
      const deployments = Object.values(raw['deployments'] as Record<string, Record<string, unknown>>);
      return {
        chain: raw['chain'],
        shape: shape(raw),
        deployments: deployments.length > 0,
        deploymentShapes: [...new Set(deployments.map((x) => JSON.stringify(shape(x))))],
        neverExpires: deployments.some((x) => typeof x['expiretime'] === 'number' && x['expiretime'] > Number.MAX_SAFE_INTEGER),
      };
    },
  ],
  [
    'wrong RPC password → DcrdConnectError auth',
    async (d) => {
      const c = d.badAuthClient();
      try {
        const failed = new Promise<string>((resolve) => c.once('connectFailed', ({ error }) => resolve(error.kind)));
        c.start();
        return await failed;
      } finally {
        await c.close();
      }
    },
  ],
];

describe('dcrd: fake agrees with dcrd 2.1.6', () => {
  for (const [name, check] of dcrdChecks) {
    it(name, () => agree(name, peers.dcrd.real, peers.dcrd.fake, check), 5 * MINUTE);
  }

  // Guards a client fix (src/dcrd/rpc.ts getBlockchainInfo): every simnet
  // deployment has expiretime math.MaxInt64 ("never expires"), which
  // JSON.parse reads as 2^63; the helper used to reject it as not a safe
  // integer and threw against real dcrd. It must clamp it, as the wallet
  // client's toUnixSeconds does for agenda times.
  it('DcrdRpc.getBlockchainInfo parses real simnet deployments (never-expiring agendas)', () =>
    agree('getBlockchainInfo parsed', peers.dcrd.real, peers.dcrd.fake, async (d) => {
      const info = await d.rpc.getBlockchainInfo();
      const ds = Object.values(info.deployments);
      return {
        chain: info.chain,
        some: ds.length > 0,
        clamped: ds.every((x) => Number.isSafeInteger(x.expiretime) && x.expiretime > x.starttime),
      };
    }));
});
