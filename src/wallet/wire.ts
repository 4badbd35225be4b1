// Conversions between dcrvoted's values and what crosses the wire to
// dcrwallet: network ids, hash byte order, integers that proto-loader hands
// over as strings, optional fields, addresses and the wallet's error text.
//
// - Hashes cross this boundary as hex in display (RPC) order; on the wire they
//   are bytes in the wallet's internal order, i.e. reversed.
import type { NetworkName, TreasuryChoice } from '../domain.js';

// ---------------------------------------------------------------------------
// Network ids: wire.CurrencyNet values from dcrd wire/protocol.go; the wallet
// returns uint32(chainParams.Net) from WalletService.Network
// (dcrwallet internal/rpc/rpcserver/server.go, walletServer.Network).

export const NET_IDS: Readonly<Record<NetworkName, number>> = {
  mainnet: 0xd9b400f9,
  testnet: 0xb194aa75,
  simnet: 0x12141c16,
};

/** Map a wire.CurrencyNet value to our network name ('unknown' for regnet and others). */
export function networkFromId(id: number): NetworkName | 'unknown' {
  for (const [name, value] of Object.entries(NET_IDS) as [NetworkName, number][]) {
    if (value === id) return name;
  }
  return 'unknown';
}

// ---------------------------------------------------------------------------
// Hash byte order.

const HASH_HEX = /^[0-9a-fA-F]{64}$/;

/** Display-order hex (as dcrd JSON-RPC prints it) → wire bytes (internal order). */
export function hashHexToWire(hex: string, what = 'hash'): Buffer {
  if (!HASH_HEX.test(hex)) {
    throw new TypeError(`${what} must be 64 hex characters, got ${JSON.stringify(hex.slice(0, 80))}`);
  }
  return Buffer.from(hex, 'hex').reverse();
}

/** Wire bytes (internal order) → display-order hex; '' for an empty field. */
export function wireHashToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).reverse().toString('hex');
}

// ---------------------------------------------------------------------------
// Small conversions.

export function toSafeNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer out of range: ${String(v)}`);
  return n;
}

/**
 * Agenda times are Unix seconds, but "never expires" is math.MaxInt64
 * (dcrd chaincfg), far past any safe JS integer: clamp instead of failing.
 */
export function toUnixSeconds(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new RangeError(`not a time: ${String(v)}`);
  return Math.min(n, Number.MAX_SAFE_INTEGER);
}

export function policyFromWire(p: string): TreasuryChoice {
  // The wallet reports an abstaining (or unset) policy as '' in list replies
  // and as 'abstain' for a single tspend (server.go TSpendPolicies).
  if (p === 'yes' || p === 'no') return p;
  return 'abstain';
}

/**
 * An optional ticket_hash request field. Left out entirely when absent:
 * protobufjs would encode an empty Buffer as a present zero-length field, and
 * dcrwallet's SetTSpendPolicy handler tests `req.TicketHash != nil` before
 * checking the length, so "present but empty" is an InvalidArgument there
 * (internal/rpc/rpcserver/server.go).
 */
export function ticketField(ticketHash: string | undefined): { ticket_hash?: Buffer } {
  return ticketHash ? { ticket_hash: hashHexToWire(ticketHash, 'ticket hash') } : {};
}

export function optionalHash(b: Buffer | undefined): string | null {
  return b && b.length > 0 ? wireHashToHex(b) : null;
}

/** Collapse dcrwallet's multi-line error text (":\n\t" separators) to one line. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Split host:port / [v6]:port. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m || m[1] === undefined || m[2] === undefined) {
    throw new TypeError(`address must be host:port (or [ipv6]:port), got ${JSON.stringify(address)}`);
  }
  return { host: m[1], port: Number(m[2]) };
}
