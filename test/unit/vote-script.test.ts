import { describe, expect, it } from 'vitest';
import {
  decodeVoteBitsScript,
  decodeVoteReferenceScript,
  encodeVoteBitsScript,
  encodeVoteReferenceScript,
} from '../../src/dcrd/vote-script.js';
import { classifyVerboseTx } from '../../src/dcrd/stake-tx.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

// Internal byte order 01 02 … 20; display order is the reverse.
const INTERNAL = Array.from({ length: 32 }, (_, i) => (i + 1).toString(16).padStart(2, '0')).join('');
const DISPLAY = Array.from({ length: 32 }, (_, i) => (32 - i).toString(16).padStart(2, '0')).join('');
// OP_RETURN OP_DATA_36 <hash, internal order> <height 0x00012345 LE>
const REF_SCRIPT = `6a24${INTERNAL}45230100`;

const TICKET = 'aa'.repeat(32);
const TXID = 'bb'.repeat(32);
const SSGEN_PAYOUT = `bb76a914${'11'.repeat(20)}88ac`;
const SSRTX_PAYOUT = `bc76a914${'11'.repeat(20)}88ac`;

function voteJson(overrides: { vin?: unknown[]; vout?: unknown[] } = {}) {
  return {
    txid: TXID,
    vin: overrides.vin ?? [
      { stakebase: '0000', sequence: 4294967295, amountin: 2, blockheight: 0, blockindex: 4294967295 },
      { txid: TICKET, vout: 0, tree: 1, sequence: 4294967295, amountin: 100, blockheight: 150, blockindex: 3, scriptSig: { asm: '', hex: '00' } },
    ],
    vout: overrides.vout ?? [
      { value: 0, n: 0, version: 0, scriptPubKey: { asm: '', hex: REF_SCRIPT, type: 'nulldata', version: 0 } },
      { value: 0, n: 1, version: 0, scriptPubKey: { asm: '', hex: '6a0605000a000000', type: 'nulldata', version: 0 } },
      { value: 102, n: 2, version: 0, scriptPubKey: { asm: '', hex: SSGEN_PAYOUT, type: 'stakegen', version: 0 } },
    ],
  };
}

describe('vote block reference script (vout[0])', () => {
  it('decodes hash from internal order to display order and LE height', () => {
    const r = decodeVoteReferenceScript(hex(REF_SCRIPT));
    expect(r).toEqual({ ok: true, value: { hash: DISPLAY, height: 0x12345 } });
  });

  it('encodes the documented layout byte for byte', () => {
    expect(Buffer.from(encodeVoteReferenceScript({ hash: DISPLAY, height: 0x12345 })).toString('hex')).toBe(REF_SCRIPT);
  });

  it.each([
    ['too short', REF_SCRIPT.slice(0, -2)],
    ['too long', `${REF_SCRIPT}00`],
    ['not OP_RETURN', `6b${REF_SCRIPT.slice(2)}`],
    ['wrong push opcode', `6a28${REF_SCRIPT.slice(4)}`],
  ])('rejects %s', (_name, script) => {
    expect(decodeVoteReferenceScript(hex(script)).ok).toBe(false);
  });
});

describe('vote bits script (vout[1])', () => {
  it('decodes bits and vote version', () => {
    expect(decodeVoteBitsScript(hex('6a0605000a000000'))).toEqual({ ok: true, value: { voteBits: 5, voteVersion: 10 } });
  });

  it('treats a 2-byte push as bits without version', () => {
    expect(decodeVoteBitsScript(hex('6a020100'))).toEqual({ ok: true, value: { voteBits: 1, voteVersion: null } });
  });

  it('accepts extended vote bits after the version', () => {
    expect(decodeVoteBitsScript(hex('6a0803000900000001ff'))).toEqual({ ok: true, value: { voteBits: 3, voteVersion: 9 } });
  });

  it('round-trips through the encoder', () => {
    expect(Buffer.from(encodeVoteBitsScript(0x8001, 11)).toString('hex')).toBe('6a0601800b000000');
    expect(Buffer.from(encodeVoteBitsScript(1)).toString('hex')).toBe('6a020100');
  });

  it.each([
    ['too short', '6a0101'],
    ['push length mismatch', '6a0705000a000000'],
    ['not OP_RETURN', '6b020100'],
    ['longer than 77 bytes', `6a4c${'00'.repeat(76)}`],
  ])('rejects %s', (_name, script) => {
    expect(decodeVoteBitsScript(hex(script)).ok).toBe(false);
  });
});

describe('classifyVerboseTx', () => {
  it('decodes a vote from dcrd verbose JSON', () => {
    expect(classifyVerboseTx(voteJson())).toEqual({
      kind: 'vote',
      vote: { txid: TXID, ticketHash: TICKET, votedBlock: { hash: DISPLAY, height: 0x12345 }, voteBits: 5, voteVersion: 10 },
    });
  });

  it('decodes a revocation', () => {
    const tx = {
      txid: TXID,
      vin: [{ txid: TICKET, vout: 0, tree: 1, sequence: 4294967295, amountin: 100, blockheight: 150, blockindex: 3 }],
      vout: [{ value: 100, n: 0, version: 0, scriptPubKey: { asm: '', hex: SSRTX_PAYOUT, type: 'stakerevoke', version: 0 } }],
    };
    expect(classifyVerboseTx(tx)).toEqual({ kind: 'revocation', revocation: { txid: TXID, ticketHash: TICKET } });
  });

  it('calls a regular transaction other', () => {
    const tx = {
      txid: TXID,
      vin: [{ txid: TICKET, vout: 1, tree: 0, sequence: 1 }],
      vout: [{ value: 1, n: 0, version: 0, scriptPubKey: { asm: '', hex: `76a914${'22'.repeat(20)}88ac`, type: 'pubkeyhash', version: 0 } }],
    };
    expect(classifyVerboseTx(tx)).toEqual({ kind: 'other', txid: TXID });
  });

  it('reports a stakebase tx whose ticket input is not in the stake tree as malformed', () => {
    const v = voteJson();
    const vin = [v.vin[0], { txid: TICKET, vout: 0, tree: 0, sequence: 1 }];
    const r = classifyVerboseTx(voteJson({ vin }));
    expect(r.kind).toBe('malformed');
  });

  it('reports a vote with a broken reference output as malformed', () => {
    const v = voteJson();
    const vout = [{ ...(v.vout[0] as object), scriptPubKey: { hex: '6a24' } }, v.vout[1], v.vout[2]];
    const r = classifyVerboseTx(voteJson({ vout }));
    expect(r).toMatchObject({ kind: 'malformed' });
    expect(r.kind === 'malformed' && r.reason).toMatch(/vout\[0\]/);
  });

  it.each([null, 'x', { txid: 'nothex', vin: [], vout: [] }, { txid: TXID, vin: {}, vout: [] }])(
    'never throws on %j',
    (tx) => {
      expect(classifyVerboseTx(tx).kind).toBe('malformed');
    },
  );
});
