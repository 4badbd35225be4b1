/**
 * Decred transaction serialization and the unsigned vote builder.
 *
 * Real vectors: test/fixtures/votes/*.json, votes made by dcrwallet 2.1.5 on
 * the simnet harness (dcrd 2.1.6), captured by test/fixtures/votes/capture.ts.
 * Each holds the ticket purchase, the voted block, the vote bits/version and:
 *   voteHex        the vote as dcrd's mempool holds it (getrawtransaction)
 *   voteHexMined   the vote as mined (same bytes: dcrd fills the fraud proof
 *                  on mempool acceptance, internal/mempool/mempool.go)
 *   voteHexWallet  for votes of "ours": the wallet's own copy (gettransaction),
 *                  exactly as dcrwallet built and signed it
 * simnet-tspend-*.json (capture.ts --treasury) are votes cast while one
 * treasury spend, made with simnet's published Pi key, sat in dcrd's mempool
 * inside its voting window; they add:
 *   treasuryVotes  the ('T','V') votes the vote carries (tspend, yes/no)
 *   tspend         that tspend: hash, expiry, raw tx
 *   tspendPolicy   each wallet's settspendpolicy when it made the vote
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, displayHashToInternal, hexToBytes } from '../../src/dcrd/hex.js';
import {
  MAX_TREASURY_VOTES,
  VoteBuildError,
  buildUnsignedVote,
  calculateVoteRewards,
  readTicket,
  treasuryVoteScript,
  voteRewardScript,
} from '../../src/vote/builder.js';
import { voteSubsidy } from '../../src/vote/subsidy.js';
import {
  NULL_VALUE_IN,
  TX_VERSION,
  TX_VERSION_TREASURY,
  cloneTx,
  decodeTx,
  serializeTx,
  txHashFull,
  txid,
  type MsgTx,
} from '../../src/vote/tx.js';
import { decodedTx, voteFixtures as fixtures, withoutFraudProof } from '../support/vote-fixtures.js';

/** The signed vote with the ticket input's signature script removed. */
function unsign(tx: MsgTx): MsgTx {
  const c = cloneTx(tx);
  (c.txIn[1] as { signatureScript: Uint8Array }).signatureScript = new Uint8Array(0);
  return c;
}

const h = (s: string): string => s.replace(/\s+/g, '');

// ------------------------------------------------------------------------

describe('tx serialization', () => {
  it('has real fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
  });

  it('round-trips every fixture transaction (full, prefix, witness) and hashes to its txid', () => {
    for (const { file, fx } of fixtures) {
      for (const [hex, id] of [
        [fx.voteHex, fx.voteTxid],
        [fx.voteHexMined, fx.voteTxid],
        [fx.ticketHex, fx.ticketHash],
        ...(fx.voteHexWallet ? [[fx.voteHexWallet, fx.voteTxid] as const] : []),
      ] as const) {
        const d = decodeTx(hex);
        expect(d.ok, file).toBe(true);
        if (!d.ok) continue;
        expect(d.value.type).toBe('full');
        expect(bytesToHex(serializeTx(d.value.tx)), file).toBe(hex);
        expect(txid(d.value.tx), file).toBe(id);

        const prefix = serializeTx(d.value.tx, 'noWitness');
        const p = decodeTx(prefix);
        expect(p.ok && p.value.type).toBe('noWitness');
        if (p.ok) expect(txid(p.value.tx)).toBe(id);

        const witness = serializeTx(d.value.tx, 'onlyWitness');
        const w = decodeTx(witness);
        expect(w.ok && w.value.type).toBe('onlyWitness');
        if (w.ok) {
          expect(bytesToHex(serializeTx(w.value.tx, 'onlyWitness'))).toBe(bytesToHex(witness));
          expect(w.value.tx.txIn.map((i) => bytesToHex(i.signatureScript))).toEqual(
            d.value.tx.txIn.map((i) => bytesToHex(i.signatureScript)),
          );
        }
        expect(txHashFull(d.value.tx)).toHaveLength(32);
      }
    }
  });

  it('encodes the version word, varints and NullValueIn as dcrd does', () => {
    const tx: MsgTx = {
      version: 3,
      txIn: [
        {
          prevOut: { hash: new Uint8Array(32).fill(0xab), index: 7, tree: 1 },
          sequence: 0xfffffffe,
          valueIn: NULL_VALUE_IN,
          blockHeight: 0x01020304,
          blockIndex: 5,
          signatureScript: new Uint8Array(300).fill(0x51),
        },
      ],
      txOut: [{ value: 123456789n, version: 0, pkScript: Uint8Array.of(0x6a) }],
      lockTime: 9,
      expiry: 10,
    };
    const hex = bytesToHex(serializeTx(tx));
    expect(hex.startsWith('03000000' + '01' + 'ab'.repeat(32) + '07000000' + '01' + 'feffffff')).toBe(true);
    expect(hex).toContain('01' + '15cd5b0700000000' + '0000' + '01' + '6a' + '09000000' + '0a000000');
    // witness: value in -1 as u64, height, index, varint 300 = fd 2c 01
    expect(hex).toContain('01' + 'ffffffffffffffff' + '04030201' + '05000000' + 'fd2c01');
    expect(bytesToHex(serializeTx(tx, 'noWitness')).slice(0, 8)).toBe('03000100');
    expect(bytesToHex(serializeTx(tx, 'onlyWitness')).slice(0, 8)).toBe('03000200');
    const back = decodeTx(hex);
    expect(back.ok && back.value.tx.txIn[0]?.valueIn).toBe(-1n);
    expect(back.ok && bytesToHex(serializeTx(back.value.tx))).toBe(hex);
  });

  it('rejects malformed input without throwing', () => {
    const good = fixtures[0]?.fx.voteHex ?? '';
    expect(decodeTx('zz').ok).toBe(false);
    expect(decodeTx(good.slice(0, -2)).ok).toBe(false);
    expect(decodeTx(good + '00').ok).toBe(false);
    expect(decodeTx('01000300' + good.slice(8)).ok).toBe(false); // serialization type 3
    // non-canonical varint: input count 2 written as fd 02 00
    const nonCanonical = decodeTx(good.slice(0, 8) + 'fd0200' + good.slice(10));
    expect(nonCanonical.ok).toBe(false);
    if (!nonCanonical.ok) expect(nonCanonical.reason).toMatch(/non-canonical/);
    // huge counts do not allocate
    expect(decodeTx('01000000ffffffffffffffffff').ok).toBe(false);
  });
});

// ------------------------------------------------------------------------

describe('vote building blocks (documented layouts)', () => {
  it('reward scripts: OP_SSGEN + P2PKH / P2SH', () => {
    const hash = new Uint8Array(20).fill(0x11);
    expect(bytesToHex(voteRewardScript(hash, false))).toBe('bb76a914' + '11'.repeat(20) + '88ac');
    expect(bytesToHex(voteRewardScript(hash, true))).toBe('bba914' + '11'.repeat(20) + '87');
  });

  it('rewards: dcrd stake TestCalculateRewards vectors', () => {
    expect(calculateVoteRewards([2500000000n, 2500000000n, 5000000000n, 10000000000n], 20000000000n, 100000000n)).toEqual([
      2512500000n,
      2512500000n,
      5025000000n,
      10050000000n,
    ]);
    expect(calculateVoteRewards([100000000n, 100000000n, 100000000n], 300000000n, 300002n)).toEqual([
      100100000n,
      100100000n,
      100100000n,
    ]);
  });

  it('treasury vote script: OP_RETURN + canonical push of T V (hash vote)*', () => {
    const a = 'aa'.repeat(31) + '01';
    const b = 'bb'.repeat(31) + '02';
    const one = treasuryVoteScript([{ tspend: a, vote: 'yes' }]);
    // 2 + 33 = 35 bytes -> OP_DATA_35 (0x23)
    expect(bytesToHex(one)).toBe('6a23' + '5456' + bytesToHex(displayHashToInternal(a)) + '01');
    const three = treasuryVoteScript([
      { tspend: a, vote: 'yes' },
      { tspend: b, vote: 'no' },
      { tspend: 'cc'.repeat(32), vote: 'yes' },
    ]);
    // 2 + 99 = 101 bytes -> OP_PUSHDATA1 0x65
    expect(bytesToHex(three.subarray(0, 5))).toBe('6a4c655456');
    expect(three).toHaveLength(3 + 101);
    expect(bytesToHex(three.subarray(5 + 33, 5 + 66))).toBe(bytesToHex(displayHashToInternal(b)) + '02');
    const seven = treasuryVoteScript(Array.from({ length: MAX_TREASURY_VOTES }, (_, i) => ({ tspend: i.toString(16).padStart(64, '0'), vote: 'no' as const })));
    expect(bytesToHex(seven.subarray(0, 3))).toBe('6a4ce9'); // 2 + 231 = 233
    expect(() => treasuryVoteScript(Array.from({ length: 8 }, (_, i) => ({ tspend: i.toString(16).padStart(64, '0'), vote: 'no' as const })))).toThrow(
      VoteBuildError,
    );
    expect(() => treasuryVoteScript([{ tspend: a, vote: 'yes' }, { tspend: a, vote: 'no' }])).toThrow(/duplicate/);
    expect(() => treasuryVoteScript([])).toThrow(VoteBuildError);
  });
});

/** A ticket with two commitments (P2PKH and P2SH), built from the SStx layout. */
function handTicket(): { hex: string; tx: MsgTx } {
  const commit = (hash: number, amount: bigint, p2sh: boolean): Uint8Array => {
    const s = new Uint8Array(32);
    s[0] = 0x6a;
    s[1] = 0x1e;
    s.fill(hash, 2, 22);
    const v = new DataView(s.buffer);
    v.setBigUint64(22, amount | (p2sh ? 1n << 63n : 0n), true);
    v.setUint16(30, 0x5800, true);
    return s;
  };
  const change = Uint8Array.of(0xbd, 0x76, 0xa9, 0x14, ...new Uint8Array(20), 0x88, 0xac);
  const tx: MsgTx = {
    version: 1,
    txIn: [0x01, 0x02].map((b, i) => ({
      prevOut: { hash: new Uint8Array(32).fill(b), index: i, tree: 0 },
      sequence: 0xffffffff,
      valueIn: i === 0 ? 10_000_000_000n : 5_000_000_000n,
      blockHeight: 100,
      blockIndex: 1,
      signatureScript: Uint8Array.of(0x00),
    })),
    txOut: [
      { value: 14_999_990_000n, version: 0, pkScript: Uint8Array.of(0xba, 0x76, 0xa9, 0x14, ...new Uint8Array(20).fill(0x99), 0x88, 0xac) },
      { value: 0n, version: 0, pkScript: commit(0x22, 10_000_000_000n, false) },
      { value: 0n, version: 0, pkScript: change },
      { value: 0n, version: 0, pkScript: commit(0x33, 5_000_000_000n, true) },
      { value: 0n, version: 0, pkScript: change },
    ],
    lockTime: 0,
    expiry: 0,
  };
  return { tx, hex: bytesToHex(serializeTx(tx)) };
}

describe('buildUnsignedVote on a hand-built ticket', () => {
  const ticket = handTicket();
  const block = { hash: '00000000000000001111111111111111222222222222222233333333333333ff', height: 900_000 };

  it('reads commitments (hash, P2SH flag, amount)', () => {
    const info = readTicket(ticket.tx);
    expect(info.hash).toBe(txid(ticket.tx));
    expect(info.price).toBe(14_999_990_000n);
    expect(info.commitments.map((c) => [bytesToHex(c.hash160).slice(0, 4), c.isP2SH, c.amount, c.feeLimits])).toEqual([
      ['2222', false, 10_000_000_000n, 0x5800],
      ['3333', true, 5_000_000_000n, 0x5800],
    ]);
  });

  it('lays out the vote exactly as documented', () => {
    const v = buildUnsignedVote({
      network: 'mainnet',
      ticket: ticket.hex,
      block,
      voteBits: 0x0005,
      voteVersion: 11,
      subsidySplit: 'dcp0012',
    });
    const subsidy = voteSubsidy('mainnet', block.height, 'dcp0012');
    expect(v.subsidy).toBe(subsidy);
    const total = 14_999_990_000n + subsidy;
    const r0 = ((10_000_000_000n * total) << 32n) / 15_000_000_000n >> 32n;
    const r1 = ((5_000_000_000n * total) << 32n) / 15_000_000_000n >> 32n;
    expect(v.rewards).toEqual([r0, r1]);
    const u64 = (n: bigint): string => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, n, true);
      return bytesToHex(b);
    };
    const expected = h(`
      01000000
      02
        ${'00'.repeat(32)} ffffffff 00 ffffffff
        ${bytesToHex(displayHashToInternal(v.ticketHash))} 00000000 01 ffffffff
      04
        0000000000000000 0000 26 6a24 ${bytesToHex(displayHashToInternal(block.hash))} a0bb0d00
        0000000000000000 0000 08 6a06 0500 0b000000
        ${u64(r0)} 0000 1a bb76a914 ${'22'.repeat(20)} 88ac
        ${u64(r1)} 0000 18 bba914 ${'33'.repeat(20)} 87
      00000000
      00000000
      02
        ${u64(subsidy)} 00000000 ffffffff 02 0000
        ${u64(14_999_990_000n)} 00000000 ffffffff 00
    `);
    expect(v.hex).toBe(expected);
    expect(v.txid).toBe(txid(v.tx));
    expect(v.prefixHex).toBe(bytesToHex(serializeTx(v.tx, 'noWitness')));
    expect(v.tx.version).toBe(TX_VERSION);
  });

  it('appends the treasury vote output and switches to tx version 3', () => {
    const tspend = '4444444444444444444444444444444444444444444444444444444444444401';
    const base = { network: 'mainnet' as const, ticket: ticket.tx, block, voteBits: 1, voteVersion: 11, subsidySplit: 'dcp0012' as const };
    const plain = buildUnsignedVote(base);
    const tv = buildUnsignedVote({ ...base, treasuryVotes: [{ tspend, vote: 'no' }] });
    expect(tv.tx.version).toBe(TX_VERSION_TREASURY);
    expect(tv.tx.txOut).toHaveLength(plain.tx.txOut.length + 1);
    const last = tv.tx.txOut[tv.tx.txOut.length - 1];
    expect(last?.value).toBe(0n);
    expect(last && bytesToHex(last.pkScript)).toBe('6a235456' + bytesToHex(displayHashToInternal(tspend)) + '02');
    expect(tv.hex.slice(0, 8)).toBe('03000000');
    expect(tv.txid).not.toBe(plain.txid);
    // Same everything else.
    expect(tv.tx.txOut.slice(0, -1).map((o) => bytesToHex(o.pkScript))).toEqual(plain.tx.txOut.map((o) => bytesToHex(o.pkScript)));
    expect(buildUnsignedVote({ ...base, treasuryVotes: [] }).hex).toBe(plain.hex);
  });

  it('rejects bad input', () => {
    const base = { network: 'mainnet' as const, ticket: ticket.tx, block, voteBits: 1, voteVersion: 11, subsidySplit: 'original' as const };
    expect(() => buildUnsignedVote({ ...base, voteBits: 0x10000 })).toThrow(VoteBuildError);
    expect(() => buildUnsignedVote({ ...base, block: { hash: 'x', height: 1 } })).toThrow(VoteBuildError);
    expect(() => buildUnsignedVote({ ...base, ticket: 'nothex' })).toThrow(VoteBuildError);
    const notTicket = cloneTx(ticket.tx);
    (notTicket.txOut[0] as { pkScript: Uint8Array }).pkScript = Uint8Array.of(0x76);
    expect(() => buildUnsignedVote({ ...base, ticket: notTicket })).toThrow(/OP_SSTX/);
  });
});

// ------------------------------------------------------------------------

describe('buildUnsignedVote reproduces real dcrwallet votes (simnet)', () => {
  it('fixtures include votes by both wallets and several vote bits', () => {
    expect(fixtures.filter(({ fx }) => fx.wallet === 'ours' && fx.voteHexWallet).length).toBeGreaterThanOrEqual(2);
    expect(new Set(fixtures.map(({ fx }) => fx.voteBits)).size).toBeGreaterThanOrEqual(2);
  });

  for (const { file, fx } of fixtures) {
    const tv = fx.treasuryVotes?.length ? `, tspend vote ${fx.treasuryVotes.map((t) => t.vote).join('/')}` : '';
    it(`${file} (${fx.wallet}, bits 0x${fx.voteBits.toString(16)}${tv})`, () => {
      // dcrwallet: DCP0012 when changesubsidysplitr2 is active (it is on this simnet).
      expect(fx.deployments['changesubsidysplitr2']?.status).toBe('active');
      const v = buildUnsignedVote({
        network: 'simnet',
        ticket: fx.ticketHex,
        block: fx.votedBlock,
        voteBits: fx.voteBits,
        voteVersion: fx.voteVersion,
        subsidySplit: 'dcp0012',
        treasuryVotes: fx.treasuryVotes,
      });

      // Prefix and therefore txid: byte for byte.
      const signed = decodedTx(fx.voteHex);
      expect(v.prefixHex).toBe(bytesToHex(serializeTx(signed, 'noWitness')));
      expect(v.txid).toBe(fx.voteTxid);
      expect(v.ticketHash).toBe(fx.ticketHash);
      expect(v.tx.version).toBe(fx.txVersion);

      // Stakebase value in = our subsidy = dcrd's getblocksubsidy pos / voters.
      expect(signed.txIn[0]?.valueIn).toBe(v.subsidy);
      expect(v.subsidy * BigInt(fx.getblocksubsidy.voters)).toBe(BigInt(fx.getblocksubsidy.pos));

      // Full serialization except the ticket input's signature script.
      if (fx.voteHexWallet) {
        // The wallet's own copy: no other difference at all.
        expect(v.hex).toBe(bytesToHex(serializeTx(unsign(decodedTx(fx.voteHexWallet)))));
      }
      // dcrd's copies differ from the wallet's only by the fraud proof dcrd fills in.
      expect(v.hex).toBe(bytesToHex(serializeTx(withoutFraudProof(unsign(signed)))));
      expect(v.hex).toBe(bytesToHex(serializeTx(withoutFraudProof(unsign(decodedTx(fx.voteHexMined))))));

      // Signing only adds the ticket input's script: the signed vote's txid is ours.
      expect(txid(signed)).toBe(v.txid);
      expect(hexToBytes(v.hex)).not.toBeNull();
    });
  }
});

// ------------------------------------------------------------------------

describe('real dcrwallet votes with treasury votes (simnet)', () => {
  const withTV = fixtures.filter(({ fx }) => (fx.treasuryVotes?.length ?? 0) > 0);

  it('fixtures include treasury votes yes and no, by both wallets, in the wallet\'s own copy too', () => {
    expect(withTV.length).toBeGreaterThanOrEqual(4);
    const kinds = new Set(withTV.map(({ fx }) => `${fx.wallet}:${fx.treasuryVotes?.[0]?.vote}`));
    expect(kinds).toEqual(new Set(['ours:yes', 'ours:no', 'other:yes', 'other:no']));
    expect(withTV.filter(({ fx }) => fx.wallet === 'ours' && fx.voteHexWallet).length).toBeGreaterThanOrEqual(2);
  });

  for (const { file, fx } of withTV) {
    it(`${file}: one tspend inside its window, the wallet's policy, tx version 3, last output 'T','V'`, () => {
      const tspend = fx.tspend;
      expect(tspend).toBeDefined();
      if (!tspend) return;
      // The tspend: version 3, its txid, expiry two more than a TVI (48), the voted block inside
      // [expiry - 48*3 - 2, expiry - 2] (dcrd standalone CalcTSpendWindow).
      const t = decodedTx(tspend.hex);
      expect(t.version).toBe(TX_VERSION_TREASURY);
      expect(txid(t)).toBe(tspend.hash);
      expect(t.expiry).toBe(tspend.expiry);
      expect((tspend.expiry - 2) % 48).toBe(0);
      expect(fx.votedBlock.height).toBeGreaterThanOrEqual(tspend.expiry - 48 * 3 - 2);
      expect(fx.votedBlock.height).toBeLessThanOrEqual(tspend.expiry - 2);
      // What the wallet voted is its policy for that tspend.
      expect(fx.treasuryVotes).toEqual([{ tspend: tspend.hash, vote: fx.tspendPolicy?.[fx.wallet] }]);

      const signed = decodedTx(fx.voteHex);
      expect(signed.version).toBe(TX_VERSION_TREASURY);
      expect(fx.txVersion).toBe(TX_VERSION_TREASURY);
      const last = signed.txOut[signed.txOut.length - 1];
      const want = treasuryVoteScript(fx.treasuryVotes ?? []);
      expect(last && bytesToHex(last.pkScript)).toBe(bytesToHex(want));
      expect(last?.value).toBe(0n);

      // Without the treasury votes the builder makes a different (version 1) vote.
      const base = {
        network: 'simnet' as const,
        ticket: fx.ticketHex,
        block: fx.votedBlock,
        voteBits: fx.voteBits,
        voteVersion: fx.voteVersion,
        subsidySplit: 'dcp0012' as const,
      };
      const plain = buildUnsignedVote(base);
      expect(plain.tx.version).toBe(TX_VERSION);
      expect(plain.txid).not.toBe(fx.voteTxid);
      // With the opposite choice, too.
      const flipped = buildUnsignedVote({
        ...base,
        treasuryVotes: (fx.treasuryVotes ?? []).map((v) => ({ ...v, vote: v.vote === 'yes' ? ('no' as const) : ('yes' as const) })),
      });
      expect(flipped.txid).not.toBe(fx.voteTxid);
      const v = buildUnsignedVote({ ...base, treasuryVotes: fx.treasuryVotes });
      expect(v.txid).toBe(fx.voteTxid);
      expect(v.prefixHex).toBe(bytesToHex(serializeTx(signed, 'noWitness')));
      expect(v.tx.version).toBe(TX_VERSION_TREASURY);
    });
  }
});
