// The one place every option of dcrvoted is declared and documented.
// `dcrvoted check-config --schema` prints these docs; config/*.yaml examples
// follow them. Secrets never appear here as values: only as paths to files.

import type { Schema } from 'convict';
import { accountFileMap, flag, listOf, millis, oneOf, text, textMap, wholeNumber } from './kinds.js';
import { SEVERITIES } from '../notify/message.js';
import { TARGET_KINDS } from '../notify/wire.js';

export const NETWORKS = ['mainnet', 'testnet', 'simnet'] as const;

/** Default ports per network, from dcrd/dcrwallet's own defaults. */
export const DEFAULT_PORTS = {
  mainnet: { dcrd: 9109, walletGrpc: 9111, walletJsonRpc: 9110 },
  testnet: { dcrd: 19109, walletGrpc: 19111, walletJsonRpc: 19110 },
  simnet: { dcrd: 19556, walletGrpc: 19558, walletJsonRpc: 19557 },
} as const;

export interface DaemonConfigShape {
  network: (typeof NETWORKS)[number];
  stateDir: string;
  log: { level: string; format: 'json' | 'pretty' | 'auto' };
  http: { listen: string };
  dcrd: {
    address: string;
    caCert: string;
    user: string;
    passwordFile: string;
    callTimeoutMs: number;
    reconnectMinMs: number;
    reconnectMaxMs: number;
    syncCheckIntervalMs: number;
    syncGraceMs: number;
    name: string;
    additionalNodes: unknown[];
  };
  wallets: unknown[];
  policy: {
    agendas: Record<string, string>;
    treasuryKeys: Record<string, string>;
    tspends: Record<string, string>;
  };
  voting: {
    voteSeenDeadlineMs: number;
    mempoolPollMs: number;
    decisionGraceMs: number;
  };
  supervisor: {
    probeIntervalMs: number;
    policyCheckIntervalMs: number;
    backoffMinMs: number;
    backoffMaxMs: number;
    wrongPassphraseRetryMs: number;
    canaryEveryBlocks: number;
  };
  notify: {
    targets: unknown[];
    notReadyAfterMs: number;
    startupMessage: boolean;
    queueSize: number;
    timeoutMs: number;
    retries: number;
    backoffMinMs: number;
    backoffMaxMs: number;
    heartbeatUrl: string;
    heartbeatUrlFile: string;
    heartbeatIntervalMs: number;
  };
  guards: {
    checkIntervalMs: number;
  };
}

export const daemonSchema: Schema<DaemonConfigShape> = {
  network: {
    doc: 'Decred network the wallets and dcrd run on: mainnet, testnet or simnet. Picks the default ports.',
    format: oneOf(NETWORKS),
    default: 'mainnet',
    env: 'DCRVOTED_NETWORK',
    arg: 'network',
  },
  stateDir: {
    doc: 'Directory for the vote ledger (a record of every winning ticket and its outcome). Under systemd: StateDirectory=dcrvoted gives /var/lib/dcrvoted.',
    format: text,
    default: '/var/lib/dcrvoted',
    env: 'DCRVOTED_STATE_DIR',
    arg: 'state-dir',
  },
  log: {
    level: {
      doc: 'Log level: fatal, error, warn, info, debug or trace.',
      format: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
      default: 'info',
      env: 'DCRVOTED_LOG_LEVEL',
      arg: 'log-level',
    },
    format: {
      doc: 'json (one object per line, for journald/Loki), pretty (for humans), or auto (pretty only when stdout is a terminal).',
      format: oneOf(['json', 'pretty', 'auto']),
      default: 'auto',
      env: 'DCRVOTED_LOG_FORMAT',
      arg: 'log-format',
    },
  },
  http: {
    listen: {
      doc: 'host:port for /metrics, /healthz, /readyz and /status. Loopback by default: /status shows wallet details, keep it private.',
      format: text,
      default: '127.0.0.1:9198',
      env: 'DCRVOTED_HTTP_LISTEN',
      arg: 'http-listen',
    },
  },
  dcrd: {
    address: {
      doc: "dcrd's JSON-RPC host:port (websocket at /ws). Empty: 127.0.0.1 with the network's default port (9109 / 19109 / 19556).",
      format: text,
      default: '',
      env: 'DCRVOTED_DCRD_ADDRESS',
      arg: 'dcrd-address',
    },
    caCert: {
      doc: "Path to dcrd's TLS certificate (rpc.cert in dcrd's appdata).",
      format: text,
      default: '',
      env: 'DCRVOTED_DCRD_CA_CERT',
    },
    user: {
      doc: "dcrd's rpcuser.",
      format: text,
      default: '',
      env: 'DCRVOTED_DCRD_USER',
    },
    passwordFile: {
      doc: "File holding dcrd's rpcpass (a bare name is looked up in $CREDENTIALS_DIRECTORY).",
      format: text,
      default: '',
      env: 'DCRVOTED_DCRD_PASSWORD_FILE',
    },
    callTimeoutMs: {
      doc: 'Deadline for each dcrd request, in milliseconds.',
      format: millis,
      default: 10_000,
    },
    reconnectMinMs: {
      doc: 'First delay before reconnecting to a lost dcrd node (then doubled, with jitter).',
      format: millis,
      default: 500,
    },
    reconnectMaxMs: {
      doc: 'Cap on the delay between reconnection attempts to a dcrd node.',
      format: millis,
      default: 30_000,
    },
    syncCheckIntervalMs: {
      doc: "How often the sync guard asks every dcrd node for its tip, its peers' heights and whether it is current (getblockchaininfo, getpeerinfo), to catch a node that lags, sits on a fork or is not current.",
      format: millis,
      default: 10_000,
    },
    syncGraceMs: {
      doc: 'How long a dcrd node may lag by 2 or more blocks, disagree with another node about the block at a height, or not be current, before dcrvoted reports it not ready (a node catching up, or a one-block tie between miners, is normal for a short while).',
      format: millis,
      default: 60_000,
    },
    name: {
      doc: 'Name of this dcrd node in logs and metrics labels.',
      format: text,
      default: 'dcrd',
    },
    additionalNodes: {
      doc: 'More dcrd nodes, each { name, address, caCert, user, passwordFile }: all are subscribed (the first to report a block wins), votes cast by dcrvoted are broadcast to all, and one node down is a warning, not an outage.',
      format: listOf(() => dcrdNodeSchema, 'dcrd node'),
      default: [],
    },
  },
  wallets: {
    doc: 'The voting wallets; each entry is described by the wallet schema (dcrvoted check-config --schema).',
    format: listOf(() => walletSchema, 'wallet'),
    default: [],
  },
  policy: {
    agendas: {
      doc: 'Consensus agenda choices: agenda id → choice id (for example yes, no, abstain). Checked against the wallet at startup.',
      format: textMap('agenda ids to choice ids'),
      default: {},
    },
    treasuryKeys: {
      doc: 'Treasury key policies: Politeia public key (hex) → yes, no or abstain.',
      format: textMap('treasury keys to yes, no or abstain'),
      default: {},
    },
    tspends: {
      doc: 'Treasury spend policies: tspend transaction hash → yes, no or abstain.',
      format: textMap('tspend hashes to yes, no or abstain'),
      default: {},
    },
  },
  voting: {
    voteSeenDeadlineMs: {
      doc: 'How long after a winning-ticket notification our vote must be in dcrd\'s mempool before it is reported at risk.',
      format: millis,
      default: 5_000,
    },
    mempoolPollMs: {
      doc: "How often dcrd's mempool is polled for our votes while one is awaited.",
      format: millis,
      default: 100,
    },
    decisionGraceMs: {
      doc: 'How long a miss is held, after the next block arrived without our vote, for the vote of a ready wallet not seen yet: one seen meanwhile is `late` (a lost race), not `vote_not_broadcast`. 0 decides at once. Never delays a vote.',
      format: wholeNumber(0, 30_000),
      default: 2_000,
    },
  },
  supervisor: {
    probeIntervalMs: {
      doc: 'How often each wallet is probed (reachable, unlocked, voting, synced).',
      format: millis,
      default: 5_000,
    },
    policyCheckIntervalMs: {
      doc: "How often each wallet's vote choices are compared with the policy (they are also checked after every reconnect).",
      format: millis,
      default: 60_000,
    },
    backoffMinMs: {
      doc: 'First retry delay after a wallet fault.',
      format: millis,
      default: 500,
    },
    backoffMaxMs: {
      doc: 'Cap on the retry delay after repeated faults.',
      format: millis,
      default: 30_000,
    },
    wrongPassphraseRetryMs: {
      doc: 'Least time between two unlock attempts after the wallet rejected the passphrase. A rejected passphrase is never sent again until its file changes; this also spaces out attempts with a file that keeps changing.',
      format: millis,
      default: 300_000,
    },
    canaryEveryBlocks: {
      doc: "How often, in blocks, the signing canary proves that each wallet can sign its votes: it builds a vote for one live ticket per voting account on the tip, has the wallet sign it without a passphrase, checks the signature and throws the vote away. It also runs after every wallet (re)connect, and at every block while it fails.",
      format: wholeNumber(1, 10_000),
      default: 12,
    },
  },
  notify: {
    targets: {
      doc: 'Where notifications go without Alertmanager: each entry is described by the notify target schema (name, kind webhook or ntfy, url or urlFile, tokenFile, caCert, minSeverity). Empty: no notifications.',
      format: listOf(() => notifyTargetSchema, 'notify target'),
      default: [],
    },
    notReadyAfterMs: {
      doc: 'A wallet or dcrd that stays not ready this long is notified (critical), and notified again as resolved when it recovers. Shorter blips page nobody.',
      format: millis,
      default: 120_000,
    },
    startupMessage: {
      doc: 'Send a test message to every target (whatever its minSeverity) when the daemon starts, so a broken receiver is found before it matters.',
      format: flag,
      default: true,
    },
    queueSize: {
      doc: 'Messages kept per target while its receiver is slow or down; past this the oldest are dropped (and counted). Sending never delays voting.',
      format: wholeNumber(1, 10_000),
      default: 100,
    },
    timeoutMs: {
      doc: 'Deadline for each delivery attempt and each heartbeat ping.',
      format: millis,
      default: 10_000,
    },
    retries: {
      doc: 'Attempts after the first for one message (a 4xx answer is not retried).',
      format: wholeNumber(0, 100),
      default: 5,
    },
    backoffMinMs: {
      doc: 'First delay before retrying a failed delivery (then doubled, with jitter).',
      format: millis,
      default: 1_000,
    },
    backoffMaxMs: {
      doc: 'Cap on the delay between delivery retries.',
      format: millis,
      default: 60_000,
    },
    heartbeatUrl: {
      doc: "Dead-man's switch: a URL (healthchecks.io, Uptime Kuma push, …) fetched with GET every heartbeatIntervalMs while dcrvoted is ready. A URL with credentials in it (user:password@) must go in heartbeatUrlFile instead.",
      format: text,
      default: '',
      env: 'DCRVOTED_NOTIFY_HEARTBEAT_URL',
    },
    heartbeatUrlFile: {
      doc: 'File holding the heartbeat URL, for a URL that carries a secret (a bare name is looked up in $CREDENTIALS_DIRECTORY).',
      format: text,
      default: '',
    },
    heartbeatIntervalMs: {
      doc: 'How often the heartbeat URL is pinged while ready; set the monitor\'s grace period to a few intervals.',
      format: millis,
      default: 60_000,
    },
  },
  guards: {
    checkIntervalMs: {
      doc: 'How often the upgrade and treasury guards ask dcrd and the wallets about agendas, rule changes, stake versions and treasury spends (they also check at every rule-change and treasury-vote interval boundary). Never on the vote path.',
      format: millis,
      default: 600_000,
    },
  },
};

export interface NotifyTargetShape {
  name: string;
  kind: (typeof TARGET_KINDS)[number];
  url: string;
  urlFile: string;
  tokenFile: string;
  caCert: string;
  minSeverity: (typeof SEVERITIES)[number];
}

export const notifyTargetSchema: Schema<NotifyTargetShape> = {
  name: { doc: 'Name of the target in logs, /status and the metrics label (letters, digits, - and _).', format: text, default: '' },
  kind: {
    doc: 'webhook: POST of a JSON document ({version, key, state, severity, title, details, at, source}). ntfy: POST of the message text to the topic URL with Title, Priority and Tags headers.',
    format: oneOf(TARGET_KINDS),
    default: 'webhook',
  },
  url: { doc: 'http(s) URL to POST to (ntfy: the topic URL, e.g. https://ntfy.sh/my-secret-topic). A URL with credentials in it must go in urlFile instead.', format: text, default: '' },
  urlFile: { doc: 'File holding the URL, for a URL that carries a secret (a bare name is looked up in $CREDENTIALS_DIRECTORY).', format: text, default: '' },
  tokenFile: { doc: 'File holding a token sent as "Authorization: Bearer <token>" (ntfy access tokens tk_…); optional.', format: text, default: '' },
  caCert: { doc: "Path to a CA certificate to trust for this receiver (a self-hosted receiver with a private certificate); optional.", format: text, default: '' },
  minSeverity: { doc: 'Least severity sent to this target: info, warning or critical.', format: oneOf(SEVERITIES), default: 'info' },
};

export interface DcrdNodeShape {
  name: string;
  address: string;
  caCert: string;
  user: string;
  passwordFile: string;
}

export const dcrdNodeSchema: Schema<DcrdNodeShape> = {
  name: { doc: 'Name of the node in logs and metrics labels.', format: text, default: '' },
  address: { doc: "The node's JSON-RPC host:port.", format: text, default: '' },
  caCert: { doc: "Path to the node's rpc.cert.", format: text, default: '' },
  user: { doc: "The node's rpcuser.", format: text, default: '' },
  passwordFile: { doc: "File holding the node's rpcpass (a bare name is looked up in $CREDENTIALS_DIRECTORY).", format: text, default: '' },
};

export interface WalletConfigShape {
  name: string;
  grpcAddress: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
  mode: 'attached' | 'managed';
  votingMode: 'wallet' | 'daemon' | 'both';
  signing: 'wallet' | 'local';
  unlock: boolean;
  passphraseFile: string;
  accountPassphraseFiles: Record<string, string>;
  callTimeoutMs: number;
  jsonrpc: {
    address: string;
    auth: 'basic' | 'clientcert';
    user: string;
    passwordFile: string;
  };
  managed: {
    publicPassphraseFile: string;
    dcrdAddress: string;
    dcrdUser: string;
    dcrdPasswordFile: string;
    dcrdCaCert: string;
  };
}

export const walletSchema: Schema<WalletConfigShape> = {
  name: {
    doc: 'Short name used in logs, metrics labels and /status (letters, digits, - and _).',
    format: text,
    default: '',
  },
  grpcAddress: {
    doc: "The wallet's gRPC host:port. Empty: 127.0.0.1 with the network's default port (9111 / 19111 / 19558).",
    format: text,
    default: '',
  },
  caCert: {
    doc: "Path to the wallet's TLS certificate (rpc.cert in the wallet's appdata).",
    format: text,
    default: '',
  },
  clientCert: {
    doc: "Path to dcrvoted's client certificate; append it to the wallet's clients.pem (or --clientcafile).",
    format: text,
    default: '',
  },
  clientKey: {
    doc: "Path to dcrvoted's client private key (a bare name is looked up in $CREDENTIALS_DIRECTORY).",
    format: text,
    default: '',
  },
  mode: {
    doc: 'attached: the wallet opens and syncs itself. managed: the wallet runs with --noinitialload; dcrvoted opens it and keeps its RpcSync to dcrd alive.',
    format: oneOf(['attached', 'managed']),
    default: 'attached',
  },
  votingMode: {
    doc: "wallet: the wallet votes (--enablevoting) and dcrvoted verifies. daemon: dcrvoted builds each vote, has the wallet sign it (SignTransaction, with the passphrase file) and broadcasts it to every dcrd and through the wallet; the wallet may run without --enablevoting. both: the wallet votes and dcrvoted casts the same, byte-identical vote as a safety net.",
    format: oneOf(['wallet', 'daemon', 'both']),
    default: 'wallet',
  },
  signing: {
    doc: "Who signs the votes dcrvoted casts (votingMode daemon or both). wallet: the wallet (SignTransaction) after each win. local: dcrvoted fetches each owned ticket's voting key from the wallet ahead of time (DumpPrivateKey, only while the wallet is unlocked), holds it in memory only and signs itself, byte-identical to the wallet; a ticket without a key yet (or a P2SH ticket) is still signed by the wallet. A voting key can only vote or revoke its ticket: see docs/operations.md for what it exposes.",
    format: oneOf(['wallet', 'local']),
    default: 'wallet',
  },
  unlock: {
    doc: 'Keep the wallet unlocked with the passphrase file (a locked wallet cannot vote). Set false only if something else unlocks it.',
    format: flag,
    default: true,
  },
  passphraseFile: {
    doc: "File holding the wallet's private passphrase (a bare name is looked up in $CREDENTIALS_DIRECTORY). Required when unlock is true.",
    format: text,
    default: '',
  },
  accountPassphraseFiles: {
    doc: "Accounts with a passphrase of their own (ImportVotingAccountFromSeed, SetAccountPassphrase) stay locked when the wallet is unlocked. Account number → file holding that account's passphrase (a bare name is looked up in $CREDENTIALS_DIRECTORY); dcrvoted unlocks such an account when it holds the voting key of a live ticket and is seen locked.",
    format: accountFileMap('account numbers to passphrase files'),
    default: {},
  },
  callTimeoutMs: {
    doc: 'Deadline for each gRPC call to this wallet, in milliseconds.',
    format: millis,
    default: 5_000,
  },
  jsonrpc: {
    address: {
      doc: "The wallet's JSON-RPC host:port, used only for walletinfo (locked? voting? connected to dcrd?), which gRPC cannot tell. Empty: the gRPC host with the network's default JSON-RPC port (9110 / 19110 / 19557).",
      format: text,
      default: '',
    },
    auth: {
      doc: "basic: the wallet's username/password. clientcert: the wallet runs with --jsonrpcauthtype=clientcert and accepts dcrvoted's client certificate.",
      format: oneOf(['basic', 'clientcert']),
      default: 'basic',
    },
    user: {
      doc: "The wallet's JSON-RPC username (basic auth).",
      format: text,
      default: '',
    },
    passwordFile: {
      doc: "File holding the wallet's JSON-RPC password (basic auth; a bare name is looked up in $CREDENTIALS_DIRECTORY).",
      format: text,
      default: '',
    },
  },
  managed: {
    publicPassphraseFile: {
      doc: 'Managed mode: file holding the wallet\'s public passphrase, if it has one.',
      format: text,
      default: '',
    },
    dcrdAddress: {
      doc: 'Managed mode: the dcrd host:port the wallet itself should sync from. Empty: dcrd.address.',
      format: text,
      default: '',
    },
    dcrdUser: {
      doc: 'Managed mode: rpcuser the wallet uses for dcrd. Empty: dcrd.user.',
      format: text,
      default: '',
    },
    dcrdPasswordFile: {
      doc: 'Managed mode: file with the rpcpass the wallet uses for dcrd. Empty: dcrd.passwordFile.',
      format: text,
      default: '',
    },
    dcrdCaCert: {
      doc: "Managed mode: dcrd's TLS certificate as the wallet should trust it. Empty: dcrd.caCert.",
      format: text,
      default: '',
    },
  },
};
