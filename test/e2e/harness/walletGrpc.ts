/**
 * A tiny gRPC client for dcrwallet, used by the harness and its smoke test.
 * It carries its own proto subset (package walletrpc, names and field
 * numbers as in dcrwallet's rpc/api.proto) so it does not depend on the
 * project's proto/ directory.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROTO = `syntax = "proto3";
package walletrpc;

service VersionService { rpc Version (VersionRequest) returns (VersionResponse); }
message VersionRequest {}
message VersionResponse {
  string version_string = 1; uint32 major = 2; uint32 minor = 3; uint32 patch = 4;
  string prerelease = 5; string build_metadata = 6;
}

service WalletService {
  rpc Ping (PingRequest) returns (PingResponse);
  rpc UnlockWallet (UnlockWalletRequest) returns (UnlockWalletResponse);
  rpc ImportVotingAccountFromSeed (ImportVotingAccountFromSeedRequest) returns (ImportVotingAccountFromSeedResponse);
  rpc LockAccount (LockAccountRequest) returns (LockAccountResponse);
  rpc PurchaseTickets (PurchaseTicketsRequest) returns (PurchaseTicketsResponse);
}
message PingRequest {}
message PingResponse {}
message UnlockWalletRequest { bytes passphrase = 1; }
message UnlockWalletResponse {}
message ImportVotingAccountFromSeedRequest {
  bytes seed = 1; string name = 2; bytes passphrase = 3; bool rescan = 4; int32 scan_from = 5;
  bool discover_usage = 6; int32 discover_from = 7; int32 discover_gap_limit = 8;
}
message ImportVotingAccountFromSeedResponse { uint32 account = 1; }
message LockAccountRequest { uint32 account_number = 1; }
message LockAccountResponse {}
message PurchaseTicketsRequest {
  bytes passphrase = 1; uint32 account = 2; uint32 required_confirmations = 3; uint32 num_tickets = 4;
  uint32 expiry = 5; int64 tx_fee = 6; int64 ticket_fee = 7; bool dont_sign_tx = 8;
  bool use_voting_account = 16; uint32 voting_account = 17;
}
message PurchaseTicketsResponse { repeated bytes ticket_hashes = 1; repeated bytes tickets = 2; bytes split_tx = 3; }

service WalletLoaderService {
  rpc WalletExists (WalletExistsRequest) returns (WalletExistsResponse);
  rpc OpenWallet (OpenWalletRequest) returns (OpenWalletResponse);
  rpc RpcSync (RpcSyncRequest) returns (stream RpcSyncResponse);
}
message WalletExistsRequest {}
message WalletExistsResponse { bool exists = 1; }
message OpenWalletRequest { bytes public_passphrase = 1; }
message OpenWalletResponse { bool watching_only = 1; }
message RpcSyncRequest {
  string network_address = 1; string username = 2; bytes password = 3; bytes certificate = 4;
  bool discover_accounts = 5; bytes private_passphrase = 6;
}
message RpcSyncResponse { bool synced = 1; uint32 notification_type = 2; }
`;

let protoPath: string | undefined;
function loadPackage(): any {
  if (!protoPath) {
    const dir = join(tmpdir(), `dcrvoted-harness-proto-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    protoPath = join(dir, 'walletrpc_harness.proto');
    writeFileSync(protoPath, PROTO);
  }
  const def = protoLoader.loadSync(protoPath, { keepCase: false, longs: String, defaults: true });
  return (grpc.loadPackageDefinition(def) as any).walletrpc;
}

export interface WalletGrpcOptions {
  /** host:port of the wallet's gRPC listener. */
  address: string;
  /** The wallet's rpc.cert (server certificate). */
  caCertPath: string;
  clientCertPath: string;
  clientKeyPath: string;
}

function unary<T>(client: any, method: string, req: object, deadlineMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    );
  });
}

export class WalletGrpc {
  private readonly version: any;
  private readonly wallet: any;
  private readonly loader: any;
  private syncCall: grpc.ClientReadableStream<any> | undefined;

  constructor(opts: WalletGrpcOptions) {
    const pkg = loadPackage();
    const creds = grpc.credentials.createSsl(
      readFileSync(opts.caCertPath),
      readFileSync(opts.clientKeyPath),
      readFileSync(opts.clientCertPath),
    );
    // dcrwallet's self-signed rpc.cert names "localhost" as well as the
    // loopback IPs; verifying against the name avoids Node's deprecated
    // IP-as-SNI path.
    const channelOpts = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };
    this.version = new pkg.VersionService(opts.address, creds, channelOpts);
    this.wallet = new pkg.WalletService(opts.address, creds, channelOpts);
    this.loader = new pkg.WalletLoaderService(opts.address, creds, channelOpts);
  }

  getVersion(deadlineMs = 10_000): Promise<{ versionString: string; major: number; minor: number; patch: number }> {
    return unary(this.version, 'Version', {}, deadlineMs);
  }

  ping(deadlineMs = 10_000): Promise<object> {
    return unary(this.wallet, 'Ping', {}, deadlineMs);
  }

  walletExists(deadlineMs = 10_000): Promise<{ exists: boolean }> {
    return unary(this.loader, 'WalletExists', {}, deadlineMs);
  }

  openWallet(publicPassphrase = '', deadlineMs = 30_000): Promise<{ watchingOnly: boolean }> {
    return unary(this.loader, 'OpenWallet', { publicPassphrase: Buffer.from(publicPassphrase) }, deadlineMs);
  }

  unlockWallet(passphrase: string, deadlineMs = 30_000): Promise<object> {
    return unary(this.wallet, 'UnlockWallet', { passphrase: Buffer.from(passphrase) }, deadlineMs);
  }

  /**
   * Imports a voting-only account from a seed, encrypted with a passphrase of
   * its own (so it stays locked while the wallet is unlocked). Returns its number.
   */
  async importVotingAccountFromSeed(seed: Buffer, name: string, passphrase: string, deadlineMs = 60_000): Promise<number> {
    const r = await unary<{ account: number }>(this.wallet, 'ImportVotingAccountFromSeed', { seed, name, passphrase: Buffer.from(passphrase), rescan: false }, deadlineMs);
    return r.account;
  }

  /** Buys tickets from account 0 whose voting rights (output 0) go to `votingAccount`; returns their hashes (display order). */
  async purchaseTicketsVotingIn(votingAccount: number, count: number, deadlineMs = 60_000): Promise<string[]> {
    const r = await unary<{ ticketHashes: Buffer[] }>(this.wallet, 'PurchaseTickets', { account: 0, requiredConfirmations: 1, numTickets: count, useVotingAccount: true, votingAccount }, deadlineMs);
    return r.ticketHashes.map((h) => Buffer.from(h).reverse().toString('hex'));
  }

  lockAccount(account: number, deadlineMs = 10_000): Promise<object> {
    return unary(this.wallet, 'LockAccount', { accountNumber: account }, deadlineMs);
  }

  /**
   * Starts RpcSync (the stream must stay open for the wallet to stay synced)
   * and resolves once the wallet reports `synced`.
   */
  rpcSync(req: { networkAddress: string; username: string; password: string; certificate: Buffer }, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = this.loader.RpcSync({
        networkAddress: req.networkAddress,
        username: req.username,
        password: Buffer.from(req.password),
        certificate: req.certificate,
        discoverAccounts: false,
      }) as grpc.ClientReadableStream<{ synced: boolean }>;
      this.syncCall = call;
      const timer = setTimeout(() => reject(new Error(`RpcSync did not report synced within ${timeoutMs} ms`)), timeoutMs);
      call.on('data', (msg) => {
        if (msg.synced) {
          clearTimeout(timer);
          resolve();
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        clearTimeout(timer);
        if (err.code !== grpc.status.CANCELLED) reject(err);
      });
    });
  }

  close(): void {
    this.syncCall?.cancel();
    this.syncCall = undefined;
    for (const c of [this.version, this.wallet, this.loader]) c.close();
  }
}
