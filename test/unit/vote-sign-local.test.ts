/**
 * Local signing (signing: local) against real dcrwallet: every vote fixture in
 * test/fixtures/votes, made by dcrwallet 2.1.5 on simnet, is signed again here
 * with the ticket's voting key (recorded by capture.ts) and must come out
 * byte-identical to the wallet's signed vote. Plus dcrd's own vectors for the
 * RFC 6979 nonce (dcrec/secp256k1 nonce_test.go), ECDSA signatures
 * (ecdsa/signature_test.go signTests) and addresses (txscript/stdaddr
 * address_test.go), and the WIF/address checks.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/dcrd/hex.js';
import { buildUnsignedVote } from '../../src/vote/builder.js';
import { decodeWif, encodeWif, hash160, KeyFormatError, pubKeyHashAddress, ticketVotingKeyHash } from '../../src/vote/keys.js';
import { LocalSignError, nonceRfc6979, signatureHash, signDer, signVoteTicketInput, votingKeyFromWif } from '../../src/vote/sign-local.js';
import { subsidySplitFor } from '../../src/vote/subsidy.js';
import { cloneTx, serializeTx, type MsgTx } from '../../src/vote/tx.js';
import { decodedTx, deploymentsOf, voteFixtures as fixtures, withoutFraudProof, type VoteFixture } from '../support/vote-fixtures.js';

function ticketScript(fx: VoteFixture): Uint8Array {
  const out0 = decodedTx(fx.ticketHex).txOut[0];
  if (!out0) throw new Error('ticket has no output 0');
  return out0.pkScript;
}

function unbuilt(fx: VoteFixture): MsgTx {
  return buildUnsignedVote({
    network: 'simnet',
    ticket: fx.ticketHex,
    block: fx.votedBlock,
    voteBits: fx.voteBits,
    voteVersion: fx.voteVersion,
    subsidySplit: subsidySplitFor('simnet', fx.votedBlock.height, deploymentsOf(fx)),
    treasuryVotes: fx.treasuryVotes ?? [],
  }).tx;
}

describe('local signing: real dcrwallet votes', () => {
  it('has the 21 re-captured fixtures, each with its voting key', () => {
    expect(fixtures.length).toBe(21);
    for (const { fx } of fixtures) expect(fx.votingWif).toMatch(/^Ps/);
  });

  it.each(fixtures)('$file: the locally signed vote is byte-identical to the wallet’s', ({ fx }) => {
    const key = votingKeyFromWif(fx.votingWif, 'simnet');
    const signed = signVoteTicketInput(unbuilt(fx), ticketScript(fx), key);
    // dcrd fills the ticket input's fraud proof (block height/index) when it
    // takes the vote into its mempool: the published copy differs only there.
    expect(bytesToHex(serializeTx(signed))).toBe(bytesToHex(serializeTx(withoutFraudProof(decodedTx(fx.voteHex)))));
    expect(bytesToHex(signed.txIn[1]?.signatureScript ?? new Uint8Array())).toBe(bytesToHex(decodedTx(fx.voteHex).txIn[1]?.signatureScript ?? new Uint8Array()));
    // The wallet's own stored copy (gettransaction) is the vote as it signed it, byte for byte.
    if (fx.voteHexWallet) expect(bytesToHex(serializeTx(signed))).toBe(fx.voteHexWallet);
  });

  it.each(fixtures)('$file: the voting address is the ticket output 0 key hash', ({ fx }) => {
    const h = ticketVotingKeyHash(ticketScript(fx));
    expect(h).not.toBeNull();
    expect(pubKeyHashAddress(h ?? new Uint8Array(), 'simnet')).toBe(fx.votingAddress);
  });

  it('the wallet’s signature verifies against our signature hash', () => {
    for (const { fx } of fixtures) {
      const signedByWallet = decodedTx(fx.voteHex);
      const script = signedByWallet.txIn[1]?.signatureScript ?? new Uint8Array();
      const sigLen = script[0] ?? 0;
      const der = script.slice(1, sigLen); // without the hash type byte
      const pub = script.slice(sigLen + 2);
      const unsigned = cloneTx(signedByWallet);
      const ti = unsigned.txIn[1];
      if (ti) ti.signatureScript = new Uint8Array(0);
      const hash = signatureHash(unsigned, 1, ticketScript(fx));
      const compact = secp256k1.Signature.fromBytes(der, 'der').toBytes('compact');
      expect(secp256k1.verify(compact, hash, pub, { prehash: false })).toBe(true);
    }
  });
});

describe('local signing: refusals', () => {
  const first = fixtures[0]?.fx;
  if (!first) throw new Error('no fixtures');
  const other = fixtures.find(({ fx }) => fx.votingWif !== first.votingWif)?.fx;
  if (!other) throw new Error('every fixture has the same key');

  it('refuses a key that is not the ticket’s', () => {
    expect(() => signVoteTicketInput(unbuilt(first), ticketScript(first), votingKeyFromWif(other.votingWif, 'simnet'))).toThrow(
      /does not match the ticket's voting address/,
    );
  });

  it('refuses a P2SH (multisig, VSP script) ticket: the wallet signs those', () => {
    const p2sh = Uint8Array.of(0xba, 0xa9, 0x14, ...new Uint8Array(20), 0x87);
    expect(ticketVotingKeyHash(p2sh)).toBeNull();
    expect(() => signVoteTicketInput(unbuilt(first), p2sh, votingKeyFromWif(first.votingWif, 'simnet'))).toThrow(LocalSignError);
  });

  it('refuses an untagged P2PKH output', () => {
    const plain = ticketScript(first).slice(1);
    expect(ticketVotingKeyHash(plain)).toBeNull();
  });
});

describe('WIF and addresses', () => {
  it('decodes and re-encodes a wallet WIF', () => {
    const key = decodeWif(first().votingWif, 'simnet');
    expect(key).toHaveLength(32);
    expect(encodeWif(key, 'simnet')).toBe(first().votingWif);
  });

  it('rejects a WIF for another network, with a bad checksum, of another signature type, or malformed — without the key in the message', () => {
    const wif = first().votingWif;
    expect(() => decodeWif(wif, 'mainnet')).toThrow(/not for mainnet/);
    const flipped = wif.slice(0, -1) + (wif.endsWith('1') ? '2' : '1');
    expect(() => decodeWif(flipped, 'simnet')).toThrow(/checksum|malformed/);
    // simnet Pi key (dcrd chaincfg/v3 simnetparams.go): a Schnorr (type 2) key.
    expect(() => decodeWif('PsUUktzTqNKDRudiz3F4Chh5CKqqmp5W3ckRDhwECbwrSuWZ9m5fk', 'simnet')).toThrow(/signature type 2/);
    expect(() => decodeWif('0OIl', 'simnet')).toThrow(KeyFormatError);
    expect(() => decodeWif('P'.repeat(60), 'simnet')).toThrow(/too long/);
    for (const bad of [flipped, 'P'.repeat(60)]) {
      try {
        decodeWif(bad, 'simnet');
      } catch (err) {
        expect(String(err)).not.toContain(bad);
      }
    }
  });

  it('encodes addresses as dcrd does (stdaddr address_test.go)', () => {
    expect(pubKeyHashAddress(hexToBytes('2789d58cfa0957d206f025c2af056fc8a77cebb0') ?? new Uint8Array(), 'mainnet')).toBe('DsUZxxoHJSty8DCfwfartwTYbuhmVct7tJu');
    expect(pubKeyHashAddress(hexToBytes('229ebac30efd6a69eec9c1a48e048b7c975c25f2') ?? new Uint8Array(), 'mainnet')).toBe('DsU7xcg53nxaKLLcAUSKyRndjG78Z2VZnX9');
  });

  it('hash160 of the pubkey matches the ticket for every fixture key', () => {
    for (const { fx } of fixtures) {
      const key = votingKeyFromWif(fx.votingWif, 'simnet');
      expect(bytesToHex(hash160(key.publicKey))).toBe(bytesToHex(ticketVotingKeyHash(ticketScript(fx)) ?? new Uint8Array()));
    }
  });
});

describe('dcrd vectors', () => {
  const key = hexToBytes('0011111111111111111111111111111111111111111111111111111111111111') ?? new Uint8Array();
  const one = hexToBytes('0000000000000000000000000000000000000000000000000000000000000001') ?? new Uint8Array();

  it('NonceRFC6979 (nonce_test.go), extra iterations included', () => {
    expect(nonceRfc6979(key, one, 0).toString(16).padStart(64, '0')).toBe('154e92760f77ad9af6b547edd6f14ad0fae023eb2221bc8be2911675d8a686a3');
    expect(nonceRfc6979(key, one, 1).toString(16).padStart(64, '0')).toBe('66fca3fe494a6216e4a3f15cfbc1d969c60d9cdefda1a1c193edabd34aa8cd5e');
    expect(nonceRfc6979(key, one, 2).toString(16).padStart(64, '0')).toBe('70da248c92b5d28a52eafca1848b1a37d4cb36526c02553c9c48bb0b895fc77d');
  });

  it('ecdsa.Sign with the RFC 6979 nonce (signature_test.go signTests), DER trimmed as Serialize does', () => {
    const hash = hexToBytes('c301ba9de5d6053caad9f5eb46523f007702add2c62fa39de03146a36b8026b7') ?? new Uint8Array();
    const k1 = hexToBytes('0000000000000000000000000000000000000000000000000000000000000001') ?? new Uint8Array();
    const k2 = hexToBytes('0000000000000000000000000000000000000000000000000000000000000002') ?? new Uint8Array();
    // S = 00ba…: the zero byte stays (0xba has its high bit set); R gets one.
    expect(bytesToHex(signDer(k1, hash))).toBe(
      '3045' + '0221' + '00c6c4137b0e5fbfc88ae3f293d7e80c8566c43ae20340075d44f75b009c943d09' + '0220' + '00ba213513572e35943d5acdd17215561b03f11663192a7252196cc8b2a99560',
    );
    expect(bytesToHex(signDer(k2, hash))).toBe(
      '3045' + '0221' + '00e6f137b52377250760cc702e19b7aee3c63b0e7d95a91939b14ab3b5c4771e59' + '0220' + '44b9bc4620afa158b7efdfea5234ff2d5f2f78b42886f02cf581827ee55318ea',
    );
  });
});

function first(): VoteFixture {
  const f = fixtures[0];
  if (!f) throw new Error('no fixtures');
  return f.fx;
}
