// The canary's signature check against votes the real dcrwallet signed
// (test/fixtures/votes, captured on simnet), and the ways a signature script
// can be wrong.
import { describe, expect, it } from 'vitest';
import { serializeTx } from '../../src/vote/tx.js';
import { checkVoteSignature } from '../../src/vote/vote-signature.js';
import { decodedTx, voteFixtures } from '../support/vote-fixtures.js';

const fixtures = voteFixtures.map(({ fx }) => ({ ticketHex: fx.ticketHex, signed: fx.voteHexWallet ?? fx.voteHex }));

function withSigScript(voteHex: string, edit: (script: Uint8Array) => Uint8Array): Uint8Array {
  const tx = decodedTx(voteHex);
  const input = tx.txIn[1];
  if (!input) throw new Error('no ticket input');
  input.signatureScript = edit(input.signatureScript);
  return serializeTx(tx);
}

const first = fixtures[0];
if (!first) throw new Error('no vote fixtures');
const vote = first.signed;
const ticket = Buffer.from(first.ticketHex, 'hex');

describe('checkVoteSignature', () => {
  it('accepts every vote the real wallet signed, naming its voting key', () => {
    expect(fixtures.length).toBeGreaterThan(5);
    for (const f of fixtures) {
      const r = checkVoteSignature(Buffer.from(f.signed, 'hex'), Buffer.from(f.ticketHex, 'hex'));
      expect(r).toMatchObject({ ok: true, pubKey: expect.stringMatching(/^0[23][0-9a-f]{64}$/) });
    }
  });

  it('rejects an unsigned ticket input', () => {
    expect(checkVoteSignature(withSigScript(vote, () => new Uint8Array(0)), ticket)).toEqual({ ok: false, why: 'the ticket input has no signature script' });
  });

  it("rejects a signature by another key (the ticket's voting key is not the wallet's)", () => {
    const other = fixtures.find((f) => f.ticketHex !== first.ticketHex && checkVoteSignature(Buffer.from(f.signed, 'hex'), Buffer.from(f.ticketHex, 'hex')).ok);
    const foreignScript = decodedTx(other!.signed).txIn[1]!.signatureScript;
    expect(checkVoteSignature(withSigScript(vote, () => foreignScript), ticket)).toEqual({ ok: false, why: "the public key is not the ticket's voting key (hash160 differs from output 0)" });
  });

  it('rejects a hash type other than SigHashAll', () => {
    const r = checkVoteSignature(
      withSigScript(vote, (s) => {
        const c = Uint8Array.from(s);
        c[(c[0] ?? 0)] = 0x03; // last byte of the signature push: SigHashSingle
        return c;
      }),
      ticket,
    );
    expect(r).toEqual({ ok: false, why: "the signature's hash type is 0x3, not SigHashAll" });
  });

  it('rejects a signature that is not strict DER', () => {
    const r = checkVoteSignature(
      withSigScript(vote, (s) => {
        const c = Uint8Array.from(s);
        c[1] = 0x31; // the sequence tag
        return c;
      }),
      ticket,
    );
    expect(r).toEqual({ ok: false, why: 'the signature is not strict DER: no sequence tag' });
  });

  it('rejects an uncompressed or truncated public key, and a script that is not two pushes', () => {
    const sigPush = (s: Uint8Array) => s.subarray(0, 1 + (s[0] ?? 0));
    expect(checkVoteSignature(withSigScript(vote, (s) => Uint8Array.from([...sigPush(s), 0x20, ...s.subarray(-32)])), ticket)).toEqual({ ok: false, why: 'the public key is not a 33-byte compressed key' });
    expect(checkVoteSignature(withSigScript(vote, (s) => sigPush(s)), ticket)).toMatchObject({ ok: false, why: expect.stringContaining('1 pushes') });
    expect(checkVoteSignature(withSigScript(vote, (s) => Uint8Array.from([0x76, ...s])), ticket)).toEqual({ ok: false, why: 'the ticket input has no signature script' });
  });
});
