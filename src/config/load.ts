// Turns a YAML file + DCRVOTED_* environment + command-line flags into one
// validated, fully resolved configuration. Every problem is collected and
// reported with the key that holds it, so an operator fixes all of them in
// one pass instead of one per restart.

import { dirname, resolve } from 'node:path';
import convict from 'convict';
import type { NetworkName, TreasuryChoice } from '../domain.js';
import { ConfigError, type ConfigIssue } from './issues.js';
import { BAD, checkMapping } from './kinds.js';
import { textOverrides } from './overrides.js';
import { quote, keySegment } from './quote.js';
import {
  DEFAULT_PORTS,
  daemonSchema,
  dcrdNodeSchema,
  walletSchema,
  type DcrdNodeShape,
  type DaemonConfigShape,
  type WalletConfigShape,
} from './schema.js';
import type { Secret } from './secret.js';
import { readConfigFile } from './yaml-file.js';
import { FileReader, type LoadedFile } from './file-reader.js';
import { convictIssues, NAME_RE } from './convict-issues.js';
import { resolveNotify, type NotifyConfig } from './notify.js';
import { errorMessage } from '../errors.js';

export { ConfigError, EXIT_CONFIG, type ConfigIssue } from './issues.js';

export interface HostPort {
  host: string;
  port: number;
  /** host:port as given to sockets (IPv6 hosts in brackets). */
  address: string;
}

export interface WalletConfig {
  name: string;
  grpc: HostPort;
  caCert: LoadedFile;
  clientCert: LoadedFile;
  clientKey: Secret;
  clientKeyPath: string;
  mode: 'attached' | 'managed';
  votingMode: 'wallet' | 'daemon' | 'both';
  signing: 'wallet' | 'local';
  unlock: boolean;
  passphrase: Secret | null;
  passphrasePath: string | null;
  /** Voting accounts with a passphrase of their own: account number → passphrase and its file. */
  accountPassphrases: { account: number; passphrase: Secret; path: string }[];
  callTimeoutMs: number;
  jsonrpc: {
    endpoint: HostPort;
    auth: 'basic' | 'clientcert';
    user: string;
    password: Secret | null;
  };
  managed: {
    publicPassphrase: Secret | null;
    dcrdAddress: string;
    dcrdUser: string;
    dcrdPassword: Secret;
    dcrdCaCert: LoadedFile;
  } | null;
}

export interface DcrdNodeConfig {
  name: string;
  endpoint: HostPort;
  caCert: LoadedFile;
  user: string;
  password: Secret;
}

export interface PolicyConfig {
  agendas: Record<string, string>;
  treasuryKeys: Record<string, TreasuryChoice>;
  tspends: Record<string, TreasuryChoice>;
}

export interface DaemonConfig {
  configFile: string | null;
  network: NetworkName;
  stateDir: string;
  log: DaemonConfigShape['log'];
  http: HostPort;
  dcrd: {
    /** Every node, the primary (dcrd.*) first. */
    nodes: [DcrdNodeConfig, ...DcrdNodeConfig[]];
    callTimeoutMs: number;
    reconnect: { minMs: number; maxMs: number };
    /** The sync guard's schedule and grace period (src/dcrd/sync-guard.ts). */
    sync: { intervalMs: number; graceMs: number };
  };
  wallets: WalletConfig[];
  policy: PolicyConfig;
  voting: DaemonConfigShape['voting'];
  supervisor: DaemonConfigShape['supervisor'];
  notify: NotifyConfig;
  guards: DaemonConfigShape['guards'];
}

export interface LoadOptions {
  configFile?: string;
  /** Convict-style flags, e.g. ["--network", "simnet"]. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

const TREASURY_CHOICES: readonly TreasuryChoice[] = ['yes', 'no', 'abstain'];
const HASH_RE = /^[0-9a-f]{64}$/;
const PIKEY_RE = /^[0-9a-f]{66}$/;

/** Loads and validates; throws ConfigError listing every problem found. */
export function loadConfig(opts: LoadOptions): DaemonConfig {
  const env = opts.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const configFile = opts.configFile ? resolve(opts.configFile) : null;
  // The file's values are checked against the schema before convict sees
  // them (convict would coerce a wrong type instead of rejecting it); only
  // declared keys with values of the right type are passed on.
  const fileValues = checkMapping(daemonSchema, configFile ? readConfigFile(configFile) : new Map(), '', 'dcrvoted options', issues);
  const textIssues: ConfigIssue[] = [];
  const overrides = textOverrides(daemonSchema, env, opts.args ?? [], textIssues);
  // A bad wallet or node entry is skipped and the rest still resolved (all
  // problems in one pass); anything else stops here, as later checks would
  // only repeat it.
  if (fileValues === BAD || textIssues.length > 0) throw new ConfigError([...issues, ...textIssues]);
  const conf = convict(daemonSchema, { env: {}, args: [] });
  conf.load(fileValues);
  for (const o of overrides) conf.set(o.path as never, o.value as never);
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    throw new ConfigError([...issues, ...convictIssues(errorMessage(err))]);
  }

  const raw = conf.getProperties();
  const baseDir = configFile ? dirname(configFile) : process.cwd();
  const files = new FileReader(baseDir, env.CREDENTIALS_DIRECTORY, issues);
  const network = raw.network;
  const ports = DEFAULT_PORTS[network];

  const dcrd = {
    endpoint: parseHostPort('dcrd.address', raw.dcrd.address, '127.0.0.1', ports.dcrd, issues),
    caCert: files.cert('dcrd.caCert', raw.dcrd.caCert),
    user: required('dcrd.user', raw.dcrd.user, issues),
    password: files.secret('dcrd.passwordFile', raw.dcrd.passwordFile),
  };
  const extra = resolveExtraNodes(raw.dcrd.additionalNodes, ports.dcrd, files, issues);
  const names = [raw.dcrd.name, ...extra.map((n) => n?.name)];
  names.forEach((n, i) => {
    if (n !== undefined && names.indexOf(n) !== i) issues.push({ key: `dcrd.additionalNodes[${i - 1}].name`, message: `duplicate dcrd node name ${quote(n)}` });
  });

  const wallets = resolveWallets(raw.wallets, network, dcrd, files, issues);
  const policy = resolvePolicy(raw.policy, issues);
  const http = parseHostPort('http.listen', raw.http.listen, '127.0.0.1', 9198, issues, true);
  const notify = resolveNotify(raw.notify, files, issues);
  if (!raw.stateDir) issues.push({ key: 'stateDir', message: 'must be set to a writable directory' });
  if (raw.supervisor.backoffMinMs > raw.supervisor.backoffMaxMs) {
    issues.push({ key: 'supervisor.backoffMinMs', message: 'must not exceed supervisor.backoffMaxMs' });
  }
  if (raw.dcrd.reconnectMinMs > raw.dcrd.reconnectMaxMs) {
    issues.push({ key: 'dcrd.reconnectMinMs', message: 'must not exceed dcrd.reconnectMaxMs' });
  }
  // Every value read below was checked above: a missing one is an issue, and issues stop here.
  if (issues.length > 0 || !http || !dcrd.endpoint || !dcrd.caCert || !dcrd.password) throw new ConfigError(issues);
  const primary: DcrdNodeConfig = { name: raw.dcrd.name, endpoint: dcrd.endpoint, caCert: dcrd.caCert, user: dcrd.user, password: dcrd.password };
  const others = extra.map((e) => e?.node ?? null).filter((n): n is DcrdNodeConfig => n !== null);

  return {
    configFile,
    network,
    stateDir: resolve(baseDir, raw.stateDir),
    log: raw.log,
    http,
    dcrd: {
      nodes: [primary, ...others],
      callTimeoutMs: raw.dcrd.callTimeoutMs,
      reconnect: { minMs: raw.dcrd.reconnectMinMs, maxMs: raw.dcrd.reconnectMaxMs },
      sync: { intervalMs: raw.dcrd.syncCheckIntervalMs, graceMs: raw.dcrd.syncGraceMs },
    },
    wallets,
    policy,
    voting: raw.voting,
    supervisor: raw.supervisor,
    notify,
    guards: raw.guards,
  };
}

function resolveWallets(
  entries: unknown[],
  network: NetworkName,
  dcrd: { endpoint: HostPort | null; caCert: LoadedFile | null; user: string; password: Secret | null },
  files: FileReader,
  issues: ConfigIssue[],
): WalletConfig[] {
  if (entries.length === 0) {
    issues.push({ key: 'wallets', message: 'list at least one wallet to vote with' });
    return [];
  }
  const ports = DEFAULT_PORTS[network];
  const seen = new Set<string>();
  const out: WalletConfig[] = [];
  entries.forEach((entry, i) => {
    const key = (k: string) => `wallets[${i}].${k}`;
    if (entry === null) return; // a bad entry, already reported by the schema check
    const wconf = convict(walletSchema, { env: {}, args: [] });
    let w: WalletConfigShape;
    try {
      wconf.load(entry);
      wconf.validate({ allowed: 'strict' });
      w = wconf.getProperties();
    } catch (err) {
      for (const issue of convictIssues(errorMessage(err))) {
        issues.push({ key: `wallets[${i}].${issue.key}`, message: issue.message });
      }
      return;
    }
    if (!NAME_RE.test(w.name)) {
      issues.push({ key: key('name'), message: 'must be 1-32 letters, digits, - or _' });
    } else if (seen.has(w.name)) {
      issues.push({ key: key('name'), message: `duplicate wallet name "${w.name}"` });
    }
    seen.add(w.name);
    const grpc = parseHostPort(key('grpcAddress'), w.grpcAddress, '127.0.0.1', ports.walletGrpc, issues);
    const jsonEndpoint = parseHostPort(
      key('jsonrpc.address'),
      w.jsonrpc.address,
      grpc?.host ?? '127.0.0.1',
      ports.walletJsonRpc,
      issues,
    );
    if (w.signing === 'local' && w.votingMode === 'wallet') {
      issues.push({
        key: key('signing'),
        message: 'local signing needs votingMode daemon or both: with votingMode wallet dcrvoted casts no vote to sign',
      });
    }
    let passphrase: Secret | null = null;
    if (w.votingMode !== 'wallet' && !w.passphraseFile) {
      issues.push({
        key: key('passphraseFile'),
        message: `required when votingMode is ${w.votingMode}: the wallet needs its passphrase to sign the votes dcrvoted builds`,
      });
    } else if (!w.unlock && w.passphraseFile) {
      passphrase = files.secret(key('passphraseFile'), w.passphraseFile);
    }
    if (w.unlock) {
      if (!w.passphraseFile) {
        issues.push({
          key: key('passphraseFile'),
          message: 'required when unlock is true (set unlock: false if something else unlocks this wallet)',
        });
      } else {
        passphrase = files.secret(key('passphraseFile'), w.passphraseFile);
      }
    }
    let jsonPassword: Secret | null = null;
    if (w.jsonrpc.auth === 'basic') {
      required(key('jsonrpc.user'), w.jsonrpc.user, issues);
      jsonPassword = files.secret(key('jsonrpc.passwordFile'), w.jsonrpc.passwordFile);
    }
    let managed: WalletConfig['managed'] = null;
    // A value missing below has been reported as an issue, and issues stop the
    // load, so the entry is simply not built.
    let complete = true;
    if (w.mode === 'managed') {
      const dcrdPassword = w.managed.dcrdPasswordFile ? files.secret(key('managed.dcrdPasswordFile'), w.managed.dcrdPasswordFile) : dcrd.password;
      const dcrdCaCert = w.managed.dcrdCaCert ? files.cert(key('managed.dcrdCaCert'), w.managed.dcrdCaCert) : dcrd.caCert;
      if (dcrdPassword && dcrdCaCert) {
        managed = {
          publicPassphrase: w.managed.publicPassphraseFile ? files.secret(key('managed.publicPassphraseFile'), w.managed.publicPassphraseFile) : null,
          dcrdAddress: w.managed.dcrdAddress || dcrd.endpoint?.address || '',
          dcrdUser: w.managed.dcrdUser || dcrd.user,
          dcrdPassword,
          dcrdCaCert,
        };
      } else complete = false;
    }
    const accountPassphrases: WalletConfig['accountPassphrases'] = [];
    for (const [account, file] of Object.entries(w.accountPassphraseFiles)) {
      const secret = files.secret(key(`accountPassphraseFiles.${account}`), file);
      if (secret) accountPassphrases.push({ account: Number(account), passphrase: secret, path: files.pathOf(file) });
      else complete = false;
    }
    const clientKey = files.secret(key('clientKey'), w.clientKey, 'PRIVATE KEY');
    const caCert = files.cert(key('caCert'), w.caCert);
    const clientCert = files.cert(key('clientCert'), w.clientCert);
    if (!complete || !grpc || !caCert || !clientCert || !clientKey || !jsonEndpoint) return;
    out.push({
      name: w.name,
      grpc,
      caCert,
      clientCert,
      clientKey,
      clientKeyPath: files.pathOf(w.clientKey),
      mode: w.mode,
      votingMode: w.votingMode,
      signing: w.signing,
      unlock: w.unlock,
      passphrase,
      passphrasePath: w.passphraseFile ? files.pathOf(w.passphraseFile) : null,
      accountPassphrases,
      callTimeoutMs: w.callTimeoutMs,
      jsonrpc: {
        endpoint: jsonEndpoint,
        auth: w.jsonrpc.auth,
        user: w.jsonrpc.user,
        password: jsonPassword,
      },
      managed,
    });
  });
  return out;
}

/** Each entry's name (for the duplicate check) and the node, null where a part of it was reported as an issue. */
function resolveExtraNodes(entries: unknown[], defaultPort: number, files: FileReader, issues: ConfigIssue[]): ({ name: string; node: DcrdNodeConfig | null } | null)[] {
  return entries.map((entry, i) => {
    const key = (k: string) => `dcrd.additionalNodes[${i}].${k}`;
    if (entry === null) return null; // a bad entry, already reported by the schema check
    const nconf = convict(dcrdNodeSchema, { env: {}, args: [] });
    let n: DcrdNodeShape;
    try {
      nconf.load(entry as object);
      nconf.validate({ allowed: 'strict' });
      n = nconf.getProperties();
    } catch (err) {
      for (const issue of convictIssues(errorMessage(err))) issues.push({ key: key(issue.key), message: issue.message });
      return null;
    }
    if (!NAME_RE.test(n.name)) issues.push({ key: key('name'), message: 'must be 1-32 letters, digits, - or _' });
    if (!n.address) issues.push({ key: key('address'), message: 'is required' });
    const endpoint = parseHostPort(key('address'), n.address, '127.0.0.1', defaultPort, issues);
    const caCert = files.cert(key('caCert'), n.caCert);
    const user = required(key('user'), n.user, issues);
    const password = files.secret(key('passwordFile'), n.passwordFile);
    // Each missing part has been reported as an issue.
    return { name: n.name, node: endpoint && caCert && password ? { name: n.name, endpoint, caCert, user, password } : null };
  });
}

function resolvePolicy(raw: DaemonConfigShape['policy'], issues: ConfigIssue[]): PolicyConfig {
  const agendas: Record<string, string> = {};
  for (const [id, choice] of Object.entries(raw.agendas ?? {})) {
    if (typeof choice !== 'string' || choice === '') {
      issues.push({ key: `policy.agendas.${keySegment(id)}`, message: 'must be a choice id such as yes, no or abstain' });
    } else {
      agendas[id] = choice;
    }
  }
  const treasuryKeys = treasuryMap('policy.treasuryKeys', raw.treasuryKeys, PIKEY_RE, 'a 33-byte public key in hex (66 characters)', issues);
  const tspends = treasuryMap('policy.tspends', raw.tspends, HASH_RE, 'a transaction hash (64 hex characters)', issues);
  return { agendas, treasuryKeys, tspends };
}

function treasuryMap(
  base: string,
  raw: Record<string, string> | undefined,
  keyRe: RegExp,
  keyDesc: string,
  issues: ConfigIssue[],
): Record<string, TreasuryChoice> {
  const out: Record<string, TreasuryChoice> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    const norm = k.toLowerCase();
    if (!keyRe.test(norm)) {
      issues.push({ key: `${base}.${keySegment(k)}`, message: `key must be ${keyDesc}` });
      continue;
    }
    if (!TREASURY_CHOICES.includes(v as TreasuryChoice)) {
      issues.push({ key: `${base}.${keySegment(k)}`, message: `must be one of yes, no or abstain, got ${quote(v)}` });
      continue;
    }
    out[norm] = v as TreasuryChoice;
  }
  return out;
}

function required(key: string, value: string, issues: ConfigIssue[]): string {
  if (!value) issues.push({ key, message: 'is required' });
  return value;
}

function parseHostPort(
  key: string,
  value: string,
  defaultHost: string,
  defaultPort: number,
  issues: ConfigIssue[],
  /** Port 0 (any free port) makes sense only for our own listener. */
  allowAnyPort = false,
): HostPort | null {
  if (!value) return hostPort(defaultHost, defaultPort);
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < (allowAnyPort ? 0 : 1) || port > 65535) {
    issues.push({ key, message: `must be host:port (for example 127.0.0.1:${defaultPort}), got ${quote(value)}` });
    return null;
  }
  return hostPort((m[1] ?? m[2]) as string, port);
}

export function hostPort(host: string, port: number): HostPort {
  return { host, port, address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` };
}
