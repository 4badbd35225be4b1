// Pure helpers of the wallet client and status probe.
import { describe, expect, it } from 'vitest';
import { redact } from '../../src/wallet/rpc-errors.js';
import { NET_IDS, hashHexToWire, networkFromId, splitHostPort, wireHashToHex } from '../../src/wallet/wire.js';
import { parseWalletInfo } from '../../src/wallet/status-probe.js';

describe('wallet client helpers', () => {
  it('reverses hashes between display hex and wire bytes', () => {
    const display = '000000000000000000a1b2c3d4e5f60718293a4b5c6d7e8f9000112233445566';
    const wire = hashHexToWire(display);
    expect(wire.toString('hex')).toBe(Buffer.from(display, 'hex').reverse().toString('hex'));
    expect(wireHashToHex(wire)).toBe(display);
    expect(() => hashHexToWire('zz'.repeat(32))).toThrow(TypeError);
  });

  it('maps wire.CurrencyNet values to network names', () => {
    expect(NET_IDS).toEqual({ mainnet: 0xd9b400f9, testnet: 0xb194aa75, simnet: 0x12141c16 });
    expect(networkFromId(0xb194aa75)).toBe('testnet');
    expect(networkFromId(0xdab500fa)).toBe('unknown'); // regnet
  });

  it('splits host:port including IPv6', () => {
    expect(splitHostPort('127.0.0.1:9111')).toEqual({ host: '127.0.0.1', port: 9111 });
    expect(splitHostPort('[::1]:19558')).toEqual({ host: '::1', port: 19558 });
    expect(() => splitHostPort('localhost')).toThrow(TypeError);
  });

  it('redacts secrets from server text, and drops text when a secret is too short to redact', () => {
    expect(redact('bad passphrase "s3cret-pw"\n\tmore', [Buffer.from('s3cret-pw')])).toBe('bad passphrase "[redacted]" more');
    expect(redact('contains ab somewhere', [Buffer.from('ab')])).toBe('');
    expect(redact('plain', [])).toBe('plain');
  });

  it('validates walletinfo results', () => {
    const fail = (m: string) => new Error(m);
    expect(parseWalletInfo({ unlocked: true, voting: false, daemonconnected: true, voteversion: 11, spv: false }, fail)).toEqual({
      unlocked: true, voting: false, daemonConnected: true, voteVersion: 11, spv: false,
    });
    expect(() => parseWalletInfo({ unlocked: 'yes', voting: false, daemonconnected: true, voteversion: 11 }, fail)).toThrow(/unlocked/);
    expect(() => parseWalletInfo(null, fail)).toThrow();
  });
});
