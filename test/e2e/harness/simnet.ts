/**
 * A private Decred simnet for end-to-end tests: one dcrd and two dcrwallets
 * ("ours", the wallet dcrvoted looks after, and "other", the rest of the
 * network), on loopback only, run as child processes or docker containers.
 *
 * The first bring-up builds a chain past stake validation height in which
 * both wallets hold live tickets, then saves the three data directories as a
 * snapshot in the cache; later runs copy the snapshot and are ready in
 * seconds. See README.md in this directory for the API and the facts behind
 * the choices made here.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cacheDir, ensureBinaries, type NodeBinaries } from './binaries.js';
import {
  DockerRunner,
  ProcessRunner,
  dockerAvailable,
  ensureNodeImage,
  type BackendKind,
  type NodeHandle,
  type NodeRunner,
  type NodeSpec,
} from './backends.js';
import { makeClientCert, trustClientCert } from './certs.js';
import { JsonRpcError, jsonRpcCall, type JsonRpcEndpoint } from './jsonrpc.js';
import { ChainObserver, type WinningTickets } from './observer.js';
import { LOOPBACK, errorMessage, freePorts, sleep, testSeed, waitFor } from './util.js';
import { WalletGrpc } from './walletGrpc.js';

// Simnet consensus parameters (dcrd chaincfg/simnetparams.go).
export const SIMNET = {
  coinbaseMaturity: 16,
  ticketMaturity: 16,
  ticketsPerBlock: 5,
  ticketPoolSize: 64,
  ticketExpiry: 384,
  stakeEnabledHeight: 32,
  stakeValidationHeight: 144,
  minVotesPerBlock: 3,
} as const;

/** Bump when the bring-up recipe changes so stale snapshots are not reused. */
const SNAPSHOT_LAYOUT = 1;
/** Height the snapshot is taken at: a few blocks past SVH. */
const SNAPSHOT_HEIGHT = SIMNET.stakeValidationHeight + 8;
/** Tickets bought per block during bring-up (ours ≈ 1/6 of the pool). */
const BRINGUP_TICKETS = { other: 5, ours: 1 } as const;
const OURS_FUNDING_DCR = 20;
const OURS_FUNDING_OUTPUTS = 4;

const DCRD_USER = 'dcrvoted-sim';
const DCRD_PASSWORD = 'dcrvoted-sim-dcrd-password';

export interface StartSimnetOptions {
  /** 'auto' (default): docker when an engine answers `docker info`, else process. */
  backend?: 'auto' | BackendKind;
  /** Directory for the run's data; default: a fresh directory under the OS temp dir. */
  baseDir?: string;
  /** Where node logs go; default `${baseDir}/logs`. Kept after stop(). */
  logDir?: string;
  /**
   * managed: true starts "ours" with --noinitialload: the wallet is not
   * opened, synced or unlocked until someone (dcrvoted, or the test through
   * `sim.ours.grpc()`) does OpenWallet + RpcSync + UnlockWallet over gRPC.
   */
  ourWallet?: { managed: boolean };
  /** Use (and create) the cached snapshot; default true unless DCRVOTED_SIMNET_SNAPSHOT=0. */
  useSnapshot?: boolean;
  /** Progress lines; default console.log with a "[simnet]" prefix. */
  log?: (line: string) => void;
  /**
   * Also run a second dcrd ("dcrd2") on a copy of the first one's chain,
   * linked to it over p2p (the first connects out to the second). The
   * wallets talk to the first dcrd only. Default false.
   */
  secondDcrd?: boolean;
}

export interface DcrdNode {
  /** dcrd | dcrd2: log file and container name. */
  readonly name: string;
  readonly host: string;
  readonly rpcPort: number;
  /** wss://127.0.0.1:<port>/ws */
  readonly wsUrl: string;
  readonly caCertPath: string;
  readonly user: string;
  readonly password: string;
  readonly logFile: string;
  /** host:port of its p2p listener; null when it does not listen (the first dcrd). */
  readonly p2pAddress: string | null;
  rpc(method: string, params?: unknown[], timeoutMs?: number): Promise<any>;
  isRunning(): boolean;
  /** Stops the node; data and ports are kept for start(). */
  stop(): Promise<void>;
  /** Starts it again with the same ports and data; resolves when RPC answers. */
  start(): Promise<void>;
}

export interface WalletStartOptions {
  /** --enablevoting (default true). */
  enableVoting?: boolean;
  /** --noinitialload (default: the simnet's ourWallet.managed for "ours", false for "other"). */
  managed?: boolean;
  /** Unlock over JSON-RPC once synced (default: !managed). Ignored when managed. */
  unlock?: boolean;
  /**
   * Start with `pass=` in the wallet's config for this start only (default
   * false): the wallet is unlocked from the moment it opens, so the vote it
   * casts at startup for the tip's winners it owns can be signed. Without it
   * that startup vote fails with "wallet locked" and the JSON-RPC unlock
   * comes too late for it.
   */
  unlockedAtStart?: boolean;
  /**
   * The dcrd this wallet talks to for this start only (default `dcrd`). With
   * `dcrd2` and the link cut, the wallet hears blocks and votes where dcrd2
   * does: e.g. "other" voting on a block the first dcrd does not have yet.
   */
  dcrd?: 'dcrd' | 'dcrd2';
}

export interface WalletNode {
  readonly name: 'ours' | 'other';
  readonly appDir: string;
  readonly grpcAddress: string;
  readonly jsonRpcAddress: string;
  /** The wallet's rpc.cert (server certificate for both gRPC and JSON-RPC). */
  readonly caCertPath: string;
  /** The wallet's clients.pem (its --clientcafile). */
  readonly clientsPemPath: string;
  /** dcrvoted's client certificate and key; the certificate is in clients.pem. */
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
  readonly passphrase: string;
  /** File holding the private passphrase (mode 0600, no trailing newline). */
  readonly passphraseFile: string;
  readonly rpcUser: string;
  readonly rpcPassword: string;
  readonly logFile: string;
  rpc(method: string, params?: unknown[], timeoutMs?: number): Promise<any>;
  /** A gRPC client presenting dcrvoted's client certificate (caller closes it). */
  grpc(): WalletGrpc;
  isRunning(): boolean;
  /** Whether the running process was started with --noinitialload. */
  isManaged(): boolean;
  stop(): Promise<void>;
  start(opts?: WalletStartOptions): Promise<void>;
  /**
   * For a wallet started managed: OpenWallet + RpcSync + UnlockWallet over
   * gRPC (what dcrvoted does). The RpcSync stream stays open until stop().
   */
  openManaged(): Promise<void>;
}

export interface MineOptions {
  /** Tickets "other" buys before each block once tickets can be bought (default 5: replaces the votes). */
  buyOther?: number;
  /** Votes for the tip that must be in dcrd's mempool before asking for a block (default 3). */
  minVotes?: number;
  /** How long to wait for those votes (default 5 s; on loopback votes arrive within milliseconds). */
  voteWaitMs?: number;
  /**
   * When the tip cannot get minVotes (typically: ours holds 3+ of the 5
   * winners and is not voting), invalidate it and mine a replacement block
   * at the same height, i.e. a one-block reorg with a fresh lottery
   * (default true). With false, mine() throws instead.
   */
  reroll?: boolean;
  /** Re-rolls allowed per mine() call before giving up (default 10). */
  maxRerolls?: number;
  /** Upper bound for one `generate` call (default 45 s). */
  generateTimeoutMs?: number;
}

export interface VoteInBlock {
  voteTxid: string;
  ticket: string;
}

export interface Simnet {
  readonly backend: BackendKind;
  readonly baseDir: string;
  readonly logDir: string;
  /** True when this run started from the cached snapshot. */
  readonly fromSnapshot: boolean;
  /** Milliseconds from startSimnet() to ready. */
  readonly bringUpMs: number;
  readonly dcrd: DcrdNode;
  /** The second dcrd (option secondDcrd); null when not asked for. */
  readonly dcrd2: DcrdNode | null;
  /**
   * Ends the p2p link between the two dcrds (`addnode <dcrd2> remove` on the
   * first: the connection is dropped and not retried) and waits until
   * neither lists the other as a peer. From now on neither relays blocks or
   * transactions to the other.
   */
  cutLink(): Promise<void>;
  /**
   * Links the dcrds again (`addnode <dcrd2> add`) and waits until both list
   * the other as a peer. It does not wait for them to agree on a tip (after a
   * fork they may not until the next block): use waitDcrdsAgree().
   */
  restoreLink(): Promise<void>;
  /** Resolves when both dcrds report the same best block. */
  waitDcrdsAgree(timeoutMs?: number): Promise<{ hash: string; height: number }>;
  /** Votes in that dcrd's mempool on the given block, with the tickets they spend. */
  mempoolVotes(node: DcrdNode, blockHash: string): Promise<VoteInBlock[]>;
  readonly ours: WalletNode;
  readonly other: WalletNode;
  /** The harness's own websocket observer of dcrd (winningtickets log). */
  readonly observer: ChainObserver;
  /** Tips mine() invalidated because they could not get enough votes (see MineOptions.reroll). */
  readonly rerolledBlocks: readonly string[];
  /**
   * Mines n blocks, waiting for votes before each block past SVH. Returns the
   * main-chain hashes of the n new heights (after any re-roll).
   */
  mine(n: number, opts?: MineOptions): Promise<string[]>;
  waitFor<T>(cond: () => T | Promise<T>, timeoutMs: number, what?: string): Promise<NonNullable<T>>;
  tip(): Promise<{ hash: string; height: number }>;
  /** Live (mature, unspent) tickets of "ours" (needs ours loaded). */
  ourLiveTickets(): Promise<string[]>;
  /** Winning tickets announced for a block (recorded by the observer). */
  winnersAt(blockHash: string): WinningTickets | undefined;
  /**
   * The same, waiting for the observer's notification: mine() returns once
   * dcrd has the block, which can be before the notification of its
   * winners has reached the harness.
   */
  winnersOf(blockHash: string, timeoutMs?: number): Promise<WinningTickets>;
  /** Votes (SSGen) mined in a block and the tickets they spend. */
  votesIn(blockHash: string): Promise<VoteInBlock[]>;
  buyTickets(wallet: 'ours' | 'other', count: number): Promise<string[]>;
  /** Resolves when the wallet's best block equals dcrd's. */
  waitWalletSynced(wallet: 'ours' | 'other', timeoutMs?: number): Promise<void>;
  logFiles(): string[];
  /** Stops every node and the observer; keeps logDir. */
  stop(): Promise<void>;
}

// ------------------------------------------------------------------------

interface Meta {
  layout: number;
  otherMiningAddress: string;
  snapshotHeight: number;
  createdAt: string;
}

interface Layout {
  baseDir: string;
  logDir: string;
  dcrdDir: string;
  dcrd2Dir: string;
  certDir: string;
  secretDir: string;
  walletDir: (name: 'ours' | 'other') => string;
  metaFile: string;
}

function layoutFor(baseDir: string, logDir: string): Layout {
  return {
    baseDir,
    logDir,
    dcrdDir: join(baseDir, 'dcrd'),
    dcrd2Dir: join(baseDir, 'dcrd2'),
    certDir: join(baseDir, 'certs'),
    secretDir: join(baseDir, 'secrets'),
    walletDir: (name) => join(baseDir, name),
    metaFile: join(baseDir, 'simnet.json'),
  };
}

const SNAPSHOT_PARTS = ['dcrd', 'ours', 'other', 'certs', 'simnet.json'];

function snapshotDir(bins: NodeBinaries): string {
  return join(cacheDir(), 'snapshots', `${bins.key}-layout${SNAPSHOT_LAYOUT}`);
}

function walletPassphrase(name: 'ours' | 'other'): string {
  return `${name}-simnet-private-passphrase`;
}

/** Runs `dcrwallet --create` with answers on stdin; returns its output. */
function createWallet(bin: string, appDir: string, emptyConf: string, passphrase: string, seedHex: string): Promise<string> {
  // Prompt order (dcrwallet internal/prompt): private passphrase + confirm,
  // extra public-data encryption? (n), existing seed? (y), seed (hex on one
  // line ends the seed input). Later optional prompts accept EOF as "no".
  const answers = `${passphrase}\n${passphrase}\nn\ny\n${seedHex}\n`;
  return new Promise((resolveOut, reject) => {
    const child = spawn(bin, ['--simnet', `--appdata=${appDir}`, `--configfile=${emptyConf}`, '--nofilelogging', '--create'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolveOut(out);
      else reject(new Error(`dcrwallet --create in ${appDir} exited with ${code}:\n${out}`));
    });
    child.stdin.end(answers);
  });
}

function writeDcrdConf(dir: string, rpcPort: number, miningAddress: string, p2pPort: number | null): string {
  const conf = join(dir, 'dcrd.conf');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    conf,
    [
      'simnet=1',
      `rpcuser=${DCRD_USER}`,
      `rpcpass=${DCRD_PASSWORD}`,
      `rpclisten=${LOOPBACK}:${rpcPort}`,
      // Only the second dcrd listens: the first connects out to it, so the
      // link has one direction to cut (addnode remove) and nothing redials it.
      ...(p2pPort === null ? ['nolisten=1'] : [`listen=${LOOPBACK}:${p2pPort}`]),
      'txindex=1',
      `miningaddr=${miningAddress}`,
      'nofilelogging=1',
      'debuglevel=info',
      '',
    ].join('\n'),
  );
  return conf;
}

function writeWalletConf(
  l: Layout,
  name: 'ours' | 'other',
  ports: { grpc: number; json: number; dcrd: number },
  autoUnlock: boolean,
  dcrdDir: string = l.dcrdDir,
): string {
  const dir = l.walletDir(name);
  const conf = join(dir, 'dcrwallet.conf');
  writeFileSync(
    conf,
    [
      'simnet=1',
      `username=${name}-rpc`,
      `password=${name}-rpc-password`,
      `rpcconnect=${LOOPBACK}:${ports.dcrd}`,
      `cafile=${join(dcrdDir, 'rpc.cert')}`,
      `dcrdusername=${DCRD_USER}`,
      `dcrdpassword=${DCRD_PASSWORD}`,
      `grpclisten=${LOOPBACK}:${ports.grpc}`,
      `rpclisten=${LOOPBACK}:${ports.json}`,
      `clientcafile=${join(dir, 'clients.pem')}`,
      'nofilelogging=1',
      // "other" stands for the rest of the network: always unlocked.
      ...(autoUnlock ? [`pass=${walletPassphrase(name)}`] : []),
      '',
    ].join('\n'),
  );
  return conf;
}

/** Logged by dcrwallet when its RPC sync with dcrd has finished (chain/sync.go). */
const SYNC_DONE_LINE = 'Blockchain sync completed, wallet ready for general usage.';

function logContainsSince(file: string, offset: number, needle: string): boolean {
  if (!existsSync(file)) return false;
  const size = statSync(file).size;
  if (size <= offset) return false;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8').includes(needle);
  } finally {
    closeSync(fd);
  }
}

/** Parses the 32-byte block hash an SSGen's first output (OP_RETURN) commits to. */
function votedBlockHash(scriptHex: string): string | undefined {
  // OP_RETURN (6a) OP_DATA_36 (24) <32-byte hash, internal byte order> <4-byte height>
  if (!scriptHex.startsWith('6a24') || scriptHex.length < 4 + 72) return undefined;
  const raw = Buffer.from(scriptHex.slice(4, 4 + 64), 'hex');
  return Buffer.from(raw).reverse().toString('hex');
}

// ------------------------------------------------------------------------

export async function startSimnet(opts: StartSimnetOptions = {}): Promise<Simnet> {
  const t0 = Date.now();
  const say = opts.log ?? ((line: string) => console.log(`[simnet] ${line}`));
  const managed = opts.ourWallet?.managed ?? false;
  const useSnapshot = opts.useSnapshot ?? process.env.DCRVOTED_SIMNET_SNAPSHOT !== '0';

  const bins = await ensureBinaries();

  // Backend choice.
  let backend: BackendKind;
  const requested = opts.backend ?? (process.env.DCRVOTED_SIMNET_BACKEND as BackendKind | 'auto' | undefined) ?? 'auto';
  if (requested === 'auto') {
    backend = (await dockerAvailable()) ? 'docker' : 'process';
  } else {
    backend = requested;
    if (backend === 'docker' && !(await dockerAvailable())) {
      throw new Error('backend=docker requested but no Docker engine answers `docker info` (run scripts/start-docker.sh)');
    }
  }
  say(`backend=${backend}${requested === 'auto' ? ' (auto)' : ''}`);

  const ownBaseDir = opts.baseDir === undefined;
  const baseDir = resolve(opts.baseDir ?? mkdtempSync(join(tmpdir(), 'dcrvoted-simnet-')));
  const logDir = resolve(opts.logDir ?? join(baseDir, 'logs'));
  mkdirSync(baseDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const l = layoutFor(baseDir, logDir);

  const runner: NodeRunner =
    backend === 'docker' ? new DockerRunner(await ensureNodeImage(bins), baseDir) : new ProcessRunner(bins);

  // Restore the snapshot when there is one.
  const snapDir = snapshotDir(bins);
  const fromSnapshot = useSnapshot && existsSync(join(snapDir, 'simnet.json'));
  if (fromSnapshot) {
    for (const part of SNAPSHOT_PARTS) {
      rmSync(join(baseDir, part), { recursive: true, force: true });
      cpSync(join(snapDir, part), join(baseDir, part), { recursive: true });
    }
    say(`restored snapshot ${snapDir}`);
  }

  const withSecond = opts.secondDcrd ?? false;
  const [dcrdPort, oursGrpc, oursJson, otherGrpc, otherJson, dcrd2Port, dcrd2P2p] = (await freePorts(7)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];

  // Certificates and secrets.
  const clientCert = await makeClientCert(join(l.certDir, 'dcrvoted-client.pem'), join(l.certDir, 'dcrvoted-client.key'), 'dcrvoted');
  mkdirSync(l.secretDir, { recursive: true, mode: 0o700 });

  let meta: Meta;
  if (fromSnapshot) {
    meta = JSON.parse(readFileSync(l.metaFile, 'utf8')) as Meta;
  } else {
    for (const part of ['dcrd', 'ours', 'other', 'simnet.json']) rmSync(join(baseDir, part), { recursive: true, force: true });
    const emptyConf = join(baseDir, 'empty.conf');
    writeFileSync(emptyConf, '');
    const [otherOut] = await Promise.all([
      createWallet(bins.dcrwallet, l.walletDir('other'), emptyConf, walletPassphrase('other'), testSeed('other')),
      createWallet(bins.dcrwallet, l.walletDir('ours'), emptyConf, walletPassphrase('ours'), testSeed('ours')),
    ]);
    // For an imported seed dcrwallet prints both coin types' first address;
    // mining to the SLIP0044 one works whether the wallet first syncs before
    // or after the blocks exist (it upgrades to SLIP0044 when legacy is unused).
    const m = /Mining address for the SLIP0044 coin type: (\S+)/.exec(otherOut);
    if (!m?.[1]) throw new Error(`could not find the SLIP0044 mining address in dcrwallet --create output:\n${otherOut}`);
    meta = { layout: SNAPSHOT_LAYOUT, otherMiningAddress: m[1], snapshotHeight: 0, createdAt: new Date().toISOString() };
    writeFileSync(l.metaFile, JSON.stringify(meta, null, 2));
  }
  for (const name of ['ours', 'other'] as const) {
    trustClientCert(join(l.walletDir(name), 'clients.pem'), clientCert.certPath);
    writeFileSync(join(l.secretDir, `${name}.passphrase`), walletPassphrase(name), { mode: 0o600 });
  }

  const dcrdConf = writeDcrdConf(l.dcrdDir, dcrdPort, meta.otherMiningAddress, null);
  const walletConf = {
    ours: writeWalletConf(l, 'ours', { grpc: oursGrpc, json: oursJson, dcrd: dcrdPort }, false),
    other: writeWalletConf(l, 'other', { grpc: otherGrpc, json: otherJson, dcrd: dcrdPort }, true),
  };

  // ---- nodes ----
  const logHint = () => `logs: ${logDir}`;

  async function waitReady(handle: NodeHandle, what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    let fatal: string | undefined;
    try {
      await waitFor(
        async () => {
          const exit = handle.exitReason();
          if (exit !== undefined) {
            fatal = exit;
            return true;
          }
          return probe();
        },
        timeoutMs,
        what,
        100,
      );
    } catch (err) {
      throw new Error(`${errorMessage(err)}; see ${handle.spec.logFile}`);
    }
    if (fatal !== undefined) throw new Error(`${what}: ${handle.spec.name} ${fatal}; see ${handle.spec.logFile}`);
  }

  function makeDcrd(name: 'dcrd' | 'dcrd2', dir: string, rpcPort: number, p2pPort: number | null, conf: () => string): { node: DcrdNode; ep: JsonRpcEndpoint } {
    const ep: JsonRpcEndpoint = { host: LOOPBACK, port: rpcPort, caCertPath: join(dir, 'rpc.cert'), user: DCRD_USER, password: DCRD_PASSWORD };
    const logFile = join(logDir, `${name}.log`);
    let handle: NodeHandle | undefined;
    const node: DcrdNode = {
      name,
      host: LOOPBACK,
      rpcPort,
      wsUrl: `wss://${LOOPBACK}:${rpcPort}/ws`,
      caCertPath: ep.caCertPath,
      user: DCRD_USER,
      password: DCRD_PASSWORD,
      logFile,
      p2pAddress: p2pPort === null ? null : `${LOOPBACK}:${p2pPort}`,
      rpc: (method, params = [], timeoutMs) => jsonRpcCall(ep, method, params, timeoutMs),
      isRunning: () => handle !== undefined && handle.exitReason() === undefined,
      async stop() {
        const h = handle;
        handle = undefined;
        await h?.stop();
      },
      async start() {
        if (node.isRunning()) return;
        const spec: NodeSpec = { name, binary: 'dcrd', args: [`--appdata=${dir}`, `--configfile=${conf()}`], logFile };
        const h = await runner.start(spec);
        handle = h;
        await waitReady(
          h,
          `${name} RPC`,
          async () => existsSync(ep.caCertPath) && (await jsonRpcCall(ep, 'getbestblock', [], 5_000)) !== undefined,
          60_000,
        );
      },
    };
    return { node, ep };
  }

  const { node: dcrd, ep: dcrdEp } = makeDcrd('dcrd', l.dcrdDir, dcrdPort, null, () => dcrdConf);
  const dcrdLog = dcrd.logFile;
  // The second dcrd mines to an address of its own, so a block it mines at
  // the same height as the first one's is a different block (a fork).
  let dcrd2Conf = '';
  const dcrd2 = withSecond ? makeDcrd('dcrd2', l.dcrd2Dir, dcrd2Port, dcrd2P2p, () => dcrd2Conf).node : null;

  function makeWallet(name: 'ours' | 'other', grpcPort: number, jsonPort: number): WalletNode {
    const dir = l.walletDir(name);
    const ep: JsonRpcEndpoint = {
      host: LOOPBACK,
      port: jsonPort,
      caCertPath: join(dir, 'rpc.cert'),
      user: `${name}-rpc`,
      password: `${name}-rpc-password`,
    };
    const logFile = join(logDir, `${name}.log`);
    let handle: NodeHandle | undefined;
    let runningManaged = false;
    let managedClient: WalletGrpc | undefined;
    const defaultManaged = name === 'ours' ? managed : false;

    /** Managed: until JSON-RPC answers (with an error: no wallet loaded); otherwise until the initial sync is done. */
    async function waitStarted(h: NodeHandle, asManaged: boolean, logOffset: number): Promise<void> {
      if (asManaged) {
        await waitReady(
          h,
          `${name} wallet RPC server`,
          async () => {
            if (!existsSync(ep.caCertPath)) return false;
            try {
              await jsonRpcCall(ep, 'walletinfo', [], 5_000);
            } catch (err) {
              if (!(err instanceof JsonRpcError)) throw err;
            }
            return true;
          },
          60_000,
        );
        return;
      }
      // Readiness is read from the wallet's own log: its best block moves
      // before address discovery and rescan finish, and no RPC reports the
      // end of the initial sync.
      await waitReady(h, `${name} wallet to finish its initial sync`, async () => logContainsSince(logFile, logOffset, SYNC_DONE_LINE), 120_000);
    }

    const node: WalletNode = {
      name,
      appDir: dir,
      grpcAddress: `${LOOPBACK}:${grpcPort}`,
      jsonRpcAddress: `${LOOPBACK}:${jsonPort}`,
      caCertPath: ep.caCertPath,
      clientsPemPath: join(dir, 'clients.pem'),
      clientCertPath: clientCert.certPath,
      clientKeyPath: clientCert.keyPath,
      passphrase: walletPassphrase(name),
      passphraseFile: join(l.secretDir, `${name}.passphrase`),
      rpcUser: ep.user,
      rpcPassword: ep.password,
      logFile,
      rpc: (method, params = [], timeoutMs) => jsonRpcCall(ep, method, params, timeoutMs),
      grpc: () =>
        new WalletGrpc({
          address: `${LOOPBACK}:${grpcPort}`,
          caCertPath: ep.caCertPath,
          clientCertPath: clientCert.certPath,
          clientKeyPath: clientCert.keyPath,
        }),
      isRunning: () => handle !== undefined && handle.exitReason() === undefined,
      isManaged: () => runningManaged,
      async stop() {
        managedClient?.close();
        managedClient = undefined;
        const h = handle;
        handle = undefined;
        await h?.stop();
      },
      async start(so: WalletStartOptions = {}) {
        if (node.isRunning()) return;
        const asManaged = so.managed ?? defaultManaged;
        const ports = { grpc: grpcPort, json: jsonPort, dcrd: dcrdPort };
        const onSecond = so.dcrd === 'dcrd2';
        if (onSecond && !dcrd2) throw new Error(`${name}: start({ dcrd: 'dcrd2' }) needs startSimnet({ secondDcrd: true })`);
        const oneOff = so.unlockedAtStart === true || onSecond;
        if (oneOff) writeWalletConf(l, name, onSecond ? { ...ports, dcrd: dcrd2Port } : ports, so.unlockedAtStart === true || name === 'other', onSecond ? l.dcrd2Dir : l.dcrdDir);
        const args = [`--appdata=${dir}`, `--configfile=${walletConf[name]}`];
        if (so.enableVoting ?? true) args.push('--enablevoting');
        if (asManaged) args.push('--noinitialload');
        const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
        const h = await runner.start({ name, binary: 'dcrwallet', args, logFile });
        handle = h;
        runningManaged = asManaged;
        // dcrwallet has read its config by the time its log says it is ready; the next start is as configured.
        try {
          await waitStarted(h, asManaged, logOffset);
        } finally {
          if (oneOff) writeWalletConf(l, name, ports, name === 'other');
        }
        if (asManaged) return;
        const itsDcrd = onSecond && dcrd2 ? dcrd2 : dcrd;
        if (itsDcrd.isRunning()) await syncWallet(node, 60_000, itsDcrd);
        if (so.unlock ?? true) {
          await node.rpc('walletpassphrase', [node.passphrase, 0]);
        }
      },
      async openManaged() {
        const c = node.grpc();
        try {
          const exists = await c.walletExists();
          if (!exists.exists) throw new Error(`${name}: WalletExists says no wallet in ${dir}`);
          await c.openWallet();
          await c.rpcSync({
            networkAddress: `${LOOPBACK}:${dcrdPort}`,
            username: DCRD_USER,
            password: DCRD_PASSWORD,
            certificate: readFileSync(dcrdEp.caCertPath),
          });
          await c.unlockWallet(node.passphrase);
          managedClient = c;
        } catch (err) {
          c.close();
          throw err;
        }
        await syncWallet(node, 60_000);
      },
    };
    return node;
  }

  async function syncWallet(w: WalletNode, timeoutMs = 30_000, itsDcrd: DcrdNode = dcrd): Promise<void> {
    await waitFor(
      async () => {
        const [d, ws] = await Promise.all([itsDcrd.rpc('getbestblock'), w.rpc('getbestblock')]);
        return d.hash === ws.hash;
      },
      timeoutMs,
      `${w.name} wallet to reach ${itsDcrd.name}'s best block (${logHint()})`,
      50,
    );
  }

  const ours = makeWallet('ours', oursGrpc, oursJson);
  const other = makeWallet('other', otherGrpc, otherJson);
  const observer = new ChainObserver({ wsUrl: dcrd.wsUrl, caCertPath: dcrd.caCertPath, user: DCRD_USER, password: DCRD_PASSWORD });

  // ---- mining ----
  const voteTargets = new Map<string, string | null>(); // vote txid -> block it votes on
  const rerolled: string[] = [];

  async function votesInMempoolFor(blockHash: string): Promise<number> {
    const hashes = (await dcrd.rpc('getrawmempool', [false, 'votes'])) as string[];
    let n = 0;
    for (const h of hashes) {
      let target = voteTargets.get(h);
      if (target === undefined) {
        try {
          const tx = await dcrd.rpc('getrawtransaction', [h, 1]);
          target = votedBlockHash(tx?.vout?.[0]?.scriptPubKey?.hex ?? '') ?? null;
        } catch {
          continue; // mined or evicted meanwhile
        }
        voteTargets.set(h, target);
      }
      if (target === blockHash) n++;
    }
    return n;
  }

  async function walletSyncedIfLoaded(w: WalletNode, timeoutMs: number): Promise<void> {
    if (!w.isRunning()) return;
    try {
      await w.rpc('getbestblock', [], 5_000);
    } catch {
      return; // not loaded (managed and not opened yet)
    }
    await syncWallet(w, timeoutMs);
  }

  async function mine(n: number, mo: MineOptions = {}): Promise<string[]> {
    const buyOther = mo.buyOther ?? SIMNET.ticketsPerBlock;
    const minVotes = mo.minVotes ?? SIMNET.minVotesPerBlock;
    const voteWaitMs = mo.voteWaitMs ?? 5_000;
    const generateTimeoutMs = mo.generateTimeoutMs ?? 45_000;
    const reroll = mo.reroll ?? true;
    const maxRerolls = mo.maxRerolls ?? 10;
    let rerolls = 0;
    const startHeight = ((await dcrd.rpc('getbestblock')) as { height: number }).height;
    for (let i = 0; i < n; i++) {
      const tip = (await dcrd.rpc('getbestblock')) as { hash: string; height: number };
      if (buyOther > 0 && tip.height + 1 >= SIMNET.stakeEnabledHeight && other.isRunning()) {
        try {
          await other.rpc('purchaseticket', ['default', 1, buyOther]);
        } catch (err) {
          say(`warning: "other" could not buy ${buyOther} tickets at height ${tip.height}: ${errorMessage(err)}`);
        }
      }
      let votes = 0;
      if (tip.height + 1 >= SIMNET.stakeValidationHeight) {
        const deadline = Date.now() + voteWaitMs;
        for (;;) {
          votes = await votesInMempoolFor(tip.hash);
          if (votes >= minVotes || Date.now() > deadline) break;
          await sleep(25);
        }
        if (votes < minVotes) {
          const winners = observer.winnersAt(tip.hash)?.tickets.join(', ') ?? 'not observed';
          const detail =
            `only ${votes} vote(s) for tip ${tip.height} (${tip.hash}) after ${voteWaitMs} ms, need ${minVotes}; ` +
            `winners: ${winners}; ours running=${ours.isRunning()} managed=${ours.isManaged()}, ` +
            `other running=${other.isRunning()}`;
          // dcrd's background template generator does not give up on a tip
          // that lacks votes by itself (on a real network another miner's
          // variant of the block turns up). Make that variant: force a fresh
          // template, which builds on the tip's parent; `generate` mines it as
          // a sibling of the tip, the wallets vote on its (new) lottery
          // winners and dcrd reorganizes to it and builds the next block on
          // it: a one-block reorg.
          if (!reroll || rerolls >= maxRerolls || tip.height < SIMNET.stakeValidationHeight) {
            throw new Error(`chain stalled: ${detail}. ${logHint()}`);
          }
          rerolls++;
          say(`re-rolling tip: ${detail}`);
          await dcrd.rpc('regentemplate');
          await sleep(200);
          rerolled.push(tip.hash);
        }
      }
      let res: string[] | null;
      try {
        res = (await dcrd.rpc('generate', [1], generateTimeoutMs)) as string[] | null;
      } catch (err) {
        throw new Error(
          `could not mine on top of height ${tip.height} (${tip.hash}) with ${votes} vote(s) in mempool: ` +
            `${errorMessage(err)}. ${logHint()}`,
        );
      }
      if (!res?.length) throw new Error(`generate returned no block hash at height ${tip.height + 1}`);
      // Keep the wallets in step so the next purchase sees the new block.
      await walletSyncedIfLoaded(other, 30_000);
      await walletSyncedIfLoaded(ours, 30_000);
    }
    // Old vote lookups are useless now.
    if (voteTargets.size > 5_000) voteTargets.clear();
    // Report the main chain as it stands (a re-roll replaces blocks).
    const mined: string[] = [];
    for (let h = startHeight + 1; h <= startHeight + n; h++) mined.push((await dcrd.rpc('getblockhash', [h])) as string);
    return mined;
  }

  function needSecond(what: string): DcrdNode {
    if (!dcrd2) throw new Error(`${what} needs the second dcrd (startSimnet({ secondDcrd: true }))`);
    return dcrd2;
  }

  /** The addresses each dcrd lists in getpeerinfo. */
  async function peerAddrs(node: DcrdNode): Promise<string[]> {
    return ((await node.rpc('getpeerinfo')) as { addr: string }[]).map((p) => p.addr);
  }

  async function cutLink(): Promise<void> {
    const second = needSecond('cutLink()');
    await dcrd.rpc('addnode', [second.p2pAddress, 'remove']);
    await waitFor(
      async () => (await peerAddrs(dcrd)).length === 0 && (await peerAddrs(second)).length === 0,
      15_000,
      'the two dcrds to drop their p2p link',
      50,
    );
    say('p2p link between dcrd and dcrd2 cut');
  }

  async function restoreLink(): Promise<void> {
    const second = needSecond('restoreLink()');
    await dcrd.rpc('addnode', [second.p2pAddress, 'add']);
    await waitFor(
      async () => (await peerAddrs(dcrd)).includes(second.p2pAddress ?? '') && (await peerAddrs(second)).length > 0,
      30_000,
      `dcrd to connect to dcrd2 at ${second.p2pAddress} (${logHint()})`,
      50,
    );
    say('p2p link between dcrd and dcrd2 up');
  }

  async function waitDcrdsAgree(timeoutMs = 30_000): Promise<{ hash: string; height: number }> {
    const second = needSecond('waitDcrdsAgree()');
    return waitFor(
      async () => {
        const [a, b] = (await Promise.all([dcrd.rpc('getbestblock'), second.rpc('getbestblock')])) as { hash: string; height: number }[];
        return a && b && a.hash === b.hash ? a : null;
      },
      timeoutMs,
      `dcrd and dcrd2 to report the same best block (${logHint()})`,
      50,
    );
  }

  async function mempoolVotes(node: DcrdNode, blockHash: string): Promise<VoteInBlock[]> {
    const out: VoteInBlock[] = [];
    for (const h of (await node.rpc('getrawmempool', [false, 'votes'])) as string[]) {
      try {
        const tx = await node.rpc('getrawtransaction', [h, 1]);
        const ticket = tx?.vin?.[1]?.txid as string | undefined;
        if (ticket && votedBlockHash(tx?.vout?.[0]?.scriptPubKey?.hex ?? '') === blockHash) out.push({ voteTxid: h, ticket });
      } catch {
        // mined or evicted meanwhile
      }
    }
    return out;
  }

  /** dcrd2 starts on a copy of the first dcrd's chain (taken while it is stopped). */
  function cloneChainForSecond(): void {
    rmSync(l.dcrd2Dir, { recursive: true, force: true });
    cpSync(l.dcrdDir, l.dcrd2Dir, { recursive: true });
    rmSync(join(l.dcrd2Dir, 'dcrd.conf'), { force: true });
  }

  const sim: Simnet = {
    backend,
    baseDir,
    logDir,
    fromSnapshot,
    bringUpMs: 0,
    dcrd,
    dcrd2,
    cutLink,
    restoreLink,
    waitDcrdsAgree,
    mempoolVotes,
    ours,
    other,
    observer,
    rerolledBlocks: rerolled,
    mine,
    waitFor: (cond, timeoutMs, what) => waitFor(cond, timeoutMs, what),
    tip: () => dcrd.rpc('getbestblock'),
    async ourLiveTickets() {
      const res = (await ours.rpc('gettickets', [false])) as { hashes?: string[] | null };
      return res.hashes ?? [];
    },
    winnersAt: (blockHash) => observer.winnersAt(blockHash),
    winnersOf: (blockHash, timeoutMs = 15_000) => waitFor(() => observer.winnersAt(blockHash), timeoutMs, `the winning tickets of block ${blockHash} (notifywinningtickets)`, 25),
    async votesIn(blockHash) {
      const block = await dcrd.rpc('getblock', [blockHash, true, true]);
      const out: VoteInBlock[] = [];
      for (const stx of (block?.rawstx ?? []) as Array<{ txid: string; vin: Array<{ stakebase?: string; txid?: string }> }>) {
        if (stx.vin.length === 2 && stx.vin[0]?.stakebase !== undefined && stx.vin[1]?.txid) {
          out.push({ voteTxid: stx.txid, ticket: stx.vin[1].txid });
        }
      }
      return out;
    },
    async buyTickets(wallet, count) {
      const w = wallet === 'ours' ? ours : other;
      return (await w.rpc('purchaseticket', ['default', 1, count])) as string[];
    },
    waitWalletSynced: (wallet, timeoutMs = 30_000) => syncWallet(wallet === 'ours' ? ours : other, timeoutMs),
    logFiles: () => [dcrdLog, ...(dcrd2 ? [dcrd2.logFile] : []), ours.logFile, other.logFile],
    async stop() {
      await observer.close();
      await Promise.all([ours.stop(), other.stop()]);
      await Promise.all([dcrd.stop(), dcrd2?.stop()]);
      if (ownBaseDir && process.env.DCRVOTED_SIMNET_KEEP !== '1') {
        for (const part of ['dcrd', 'dcrd2', 'ours', 'other']) rmSync(join(baseDir, part), { recursive: true, force: true });
      }
      say(`stopped; logs kept in ${logDir}`);
    },
  };

  try {
    if (!fromSnapshot) {
      await dcrd.start();
      await observer.start();
      await coldBringUp();
      await Promise.all([ours.stop(), other.stop()]);
      await dcrd.stop();
      if (useSnapshot) saveSnapshot();
    }
    if (dcrd2) cloneChainForSecond();
    await dcrd.start();
    if (fromSnapshot) await observer.start();

    await other.start();
    await ours.start({ managed });
    if (dcrd2) {
      const miningAddress = (await other.rpc('getnewaddress', ['default'])) as string;
      dcrd2Conf = writeDcrdConf(l.dcrd2Dir, dcrd2Port, miningAddress, dcrd2P2p);
      await dcrd2.start();
      await restoreLink();
      await waitDcrdsAgree();
    }
    const bringUpMs = Date.now() - t0;
    (sim as { bringUpMs: number }).bringUpMs = bringUpMs;
    const tip = await sim.tip();
    say(
      `ready in ${(bringUpMs / 1000).toFixed(1)} s (${fromSnapshot ? 'from snapshot' : 'cold'}, backend=${backend}, ` +
        `height ${tip.height}, ours ${managed ? 'managed (not opened)' : 'unlocked'}${dcrd2 ? `, dcrd2 linked at ${dcrd2.p2pAddress}` : ''}); logs: ${logDir}`,
    );
    return sim;
  } catch (err) {
    say(`bring-up failed: ${errorMessage(err)}`);
    say(`node logs: ${sim.logFiles().join(', ')}`);
    await sim.stop().catch(() => undefined);
    throw err;
  }

  async function coldBringUp(): Promise<void> {
    say('cold bring-up: mining to stake enabled height');
    await dcrd.rpc('generate', [SIMNET.stakeEnabledHeight]);
    await other.start();
    // A seed-restored wallet must sync its accounts unlocked on its first
    // start and prompts for the passphrase on stdin unless `pass` is
    // configured, so ours gets `pass` for the bring-up only.
    writeWalletConf(l, 'ours', { grpc: oursGrpc, json: oursJson, dcrd: dcrdPort }, true);
    await ours.start({ managed: false, unlock: true });

    // Several outputs, so ours can buy a ticket in consecutive blocks while
    // the change of the previous purchase is still unconfirmed.
    const outputs: Record<string, number> = {};
    for (let i = 0; i < OURS_FUNDING_OUTPUTS; i++) {
      outputs[await ours.rpc('getnewaddress', ['default'])] = OURS_FUNDING_DCR / OURS_FUNDING_OUTPUTS;
    }
    await other.rpc('sendmany', ['default', outputs]);
    // dcrd's template for the next block already exists when the payment
    // reaches its mempool, so it confirms one block later.
    await mine(2, { buyOther: 0 });

    // Fill the ticket pool: tickets bought up to here are live by SVH.
    const lastBuyHeight = SIMNET.stakeValidationHeight - SIMNET.ticketMaturity - 1;
    say(`buying tickets up to height ${lastBuyHeight} (other ${BRINGUP_TICKETS.other}/block, ours ${BRINGUP_TICKETS.ours}/block)`);
    for (;;) {
      const tip = await sim.tip();
      if (tip.height >= lastBuyHeight) break;
      try {
        await ours.rpc('purchaseticket', ['default', 1, BRINGUP_TICKETS.ours]);
      } catch (err) {
        // All outputs may be tied up in unconfirmed purchases; buy next block.
        if (!/insufficient balance/.test(errorMessage(err))) throw err;
      }
      await mine(1, { buyOther: BRINGUP_TICKETS.other });
    }
    const tip = await sim.tip();
    say(`mining from ${tip.height} past stake validation height to ${SNAPSHOT_HEIGHT}`);
    await mine(SNAPSHOT_HEIGHT - tip.height);
    writeWalletConf(l, 'ours', { grpc: oursGrpc, json: oursJson, dcrd: dcrdPort }, false);
    const live = await sim.ourLiveTickets();
    const info = await other.rpc('getstakeinfo');
    say(`ours holds ${live.length} live tickets of a pool of ${info.poolsize}`);
    if (live.length === 0) throw new Error('bring-up finished without live tickets for "ours"');
    meta.snapshotHeight = SNAPSHOT_HEIGHT;
    writeFileSync(l.metaFile, JSON.stringify(meta, null, 2));
  }

  function saveSnapshot(): void {
    const tmp = `${snapDir}.tmp-${process.pid}-${Date.now()}`;
    mkdirSync(tmp, { recursive: true });
    for (const part of SNAPSHOT_PARTS) cpSync(join(baseDir, part), join(tmp, part), { recursive: true });
    if (existsSync(snapDir)) {
      rmSync(tmp, { recursive: true, force: true }); // another run won the race
      return;
    }
    renameSync(tmp, snapDir);
    say(`saved snapshot ${snapDir}`);
  }
}
