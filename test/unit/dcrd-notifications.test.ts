import { describe, expect, it } from 'vitest';
import { parseNotification } from '../../src/dcrd/notifications.js';
import { decodeBlockHeaderHex, encodeBlockHeader, blockHashOfBytes, type BlockHeader } from '../../src/dcrd/block-header.js';
import { classifyFrame } from '../../src/dcrd/jsonrpc.js';

// Test vector from dcrd wire/blockheader_test.go (TestBlockHeaderHashing).
// dcrd states the hash there in internal byte order ("reversed endianness
// compared to what chainhash spits out"), so display order is its reverse.
const DCRD_HEADER =
  '0000000049e0b48ade043f729d60095ed92642d96096fe6aba42f2eda' +
  '632d461591a152267dc840ff27602ce1968a81eb30a43423517207617a0150b56c4f72' +
  'b803e497f00000000000000000000000000000000000000000000000000000000000000' +
  '00010000000000000000000000b7000000ffff7f20204e0000000000005800000060010' +
  '0008b990956000000000000000000000000000000000000000000000000000000000000' +
  '0000000000000000abcd';
const DCRD_HASH_INTERNAL = '0d40d58703482d81d711be0ffc1b313788d3c3937e1617e4876661d33a8c4c41';
const DCRD_HASH = Buffer.from(DCRD_HASH_INTERNAL, 'hex').reverse().toString('hex');

const T = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

describe('block header', () => {
  it('hashes dcrd’s test vector to the known block hash', () => {
    const r = decodeBlockHeaderHex(DCRD_HEADER);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.hash).toBe(DCRD_HASH);
    expect(r.value.header).toMatchObject({
      version: 0,
      voteBits: 1,
      poolSize: 183,
      bits: 0x207fffff,
      sbits: 20000,
      height: 88,
      size: 352,
      timestamp: 1443469707,
    });
  });

  it('round-trips encode/decode', () => {
    const header: BlockHeader = {
      version: 10,
      prevBlock: T(1),
      merkleRoot: T(2),
      stakeRoot: T(3),
      voteBits: 0x0105,
      finalState: '0102030405ff',
      voters: 5,
      freshStake: 20,
      revocations: 1,
      poolSize: 41000,
      bits: 0x1b01ffff,
      sbits: 21_000_000_000,
      height: 900_000,
      size: 12345,
      timestamp: 1_700_000_123,
      nonce: 0xdeadbeef,
      extraData: 'ab'.repeat(32),
      stakeVersion: 11,
    };
    const bytes = encodeBlockHeader(header);
    expect(bytes.length).toBe(180);
    const r = decodeBlockHeaderHex(Buffer.from(bytes).toString('hex'));
    expect(r).toEqual({ ok: true, value: { header, hash: blockHashOfBytes(bytes) } });
  });
});

describe('winningtickets', () => {
  const good = [T(9), 300, { '0': T(1), '1': T(2), '2': T(3), '3': T(4), '4': T(5) }];

  it('parses dcrd’s shape into ordered tickets', () => {
    expect(parseNotification('winningtickets', good)).toEqual({
      kind: 'winningtickets',
      block: { hash: T(9), height: 300 },
      tickets: [T(1), T(2), T(3), T(4), T(5)],
    });
  });

  it('orders by numeric key, not by JSON order', () => {
    const r = parseNotification('winningtickets', [T(9), 300, { '1': T(2), '0': T(1) }]);
    expect(r).toMatchObject({ tickets: [T(1), T(2)] });
  });

  it.each<[string, unknown]>([
    ['not an array', { a: 1 }],
    ['too few params', [T(9), 300]],
    ['uppercase hash', [T(0xab).toUpperCase(), 300, { '0': T(1) }]],
    ['short hash', [T(9).slice(1), 300, { '0': T(1) }]],
    ['negative height', [T(9), -1, { '0': T(1) }]],
    ['fractional height', [T(9), 1.5, { '0': T(1) }]],
    ['string height', [T(9), '300', { '0': T(1) }]],
    ['array of tickets', [T(9), 300, [T(1)]]],
    ['empty tickets', [T(9), 300, {}]],
    ['gap in keys', [T(9), 300, { '0': T(1), '2': T(2) }]],
    ['six tickets', [T(9), 300, Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [String(i), T(i + 1)]))]],
    ['duplicate ticket', [T(9), 300, { '0': T(1), '1': T(1) }]],
    ['bad ticket', [T(9), 300, { '0': 42 }]],
  ])('reports %s as malformed', (_name, params) => {
    const r = parseNotification('winningtickets', params);
    expect(r.kind).toBe('malformed');
    expect(r).toMatchObject({ method: 'winningtickets' });
  });
});

describe('blockconnected / blockdisconnected', () => {
  it('decodes the header and computes the block hash (subscribedTxs null, as dcrd sends it)', () => {
    expect(parseNotification('blockconnected', [DCRD_HEADER, null])).toMatchObject({
      kind: 'blockconnected',
      block: { hash: DCRD_HASH, height: 88 },
      previousHash: '22151a5961d432a6edf242ba6afe9660d94226d95e09609d723f04de8ab4e049',
      subscribedTxs: [],
    });
  });

  it('keeps subscribed tx hex', () => {
    expect(parseNotification('blockconnected', [DCRD_HEADER, ['0100']])).toMatchObject({ subscribedTxs: ['0100'] });
  });

  it('decodes blockdisconnected', () => {
    expect(parseNotification('blockdisconnected', [DCRD_HEADER])).toMatchObject({
      kind: 'blockdisconnected',
      block: { hash: DCRD_HASH, height: 88 },
    });
  });

  it.each<[string, string, unknown]>([
    ['short header', 'blockconnected', [DCRD_HEADER.slice(2), null]],
    ['non-hex header', 'blockconnected', [`zz${DCRD_HEADER.slice(2)}`, null]],
    ['numeric header', 'blockconnected', [5, null]],
    ['missing subscribedTxs', 'blockconnected', [DCRD_HEADER]],
    ['bad subscribedTxs', 'blockconnected', [DCRD_HEADER, [1]]],
    ['extra params', 'blockdisconnected', [DCRD_HEADER, null]],
    ['no params', 'blockdisconnected', []],
  ])('reports %s as malformed', (_name, method, params) => {
    expect(parseNotification(method, params)).toMatchObject({ kind: 'malformed', method });
  });

  it('leaves other notifications to the caller', () => {
    expect(parseNotification('reorganization', [T(1), 1, T(2), 2])).toEqual({ kind: 'unhandled', method: 'reorganization' });
  });
});

describe('classifyFrame', () => {
  it('recognises replies, errors and notifications', () => {
    expect(classifyFrame('{"jsonrpc":"1.0","result":{"a":1},"error":null,"id":7}')).toEqual({
      type: 'response',
      id: 7,
      result: { a: 1 },
      error: null,
    });
    expect(classifyFrame('{"result":null,"error":{"code":-5,"message":"Block not found"},"id":8}')).toMatchObject({
      type: 'response',
      error: { code: -5, message: 'Block not found' },
    });
    expect(classifyFrame('{"jsonrpc":"1.0","method":"blockconnected","params":["00",null],"id":null}')).toEqual({
      type: 'notification',
      method: 'blockconnected',
      params: ['00', null],
    });
  });

  it.each(['', 'nope', '[]', '42', '{"id":null}', '{"method":"x","params":{}}', '{"id":"a","result":1}', '{"id":1,"error":"bad"}'])(
    'flags %j as malformed',
    (text) => {
      expect(classifyFrame(text).type).toBe('malformed');
    },
  );
});
