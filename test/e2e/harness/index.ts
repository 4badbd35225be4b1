/**
 * Public entry point of the real-node simnet harness. See README.md.
 */
export { startSimnet, SIMNET } from './simnet.js';
export type {
  DcrdNode,
  MineOptions,
  Simnet,
  StartSimnetOptions,
  VoteInBlock,
  WalletNode,
  WalletStartOptions,
} from './simnet.js';
export type { BackendKind } from './backends.js';
export type { WinningTickets } from './observer.js';
export { ChainObserver } from './observer.js';
export { WalletGrpc } from './walletGrpc.js';
export { makeClientCert, trustClientCert } from './certs.js';
export { ensureBinaries } from './binaries.js';
