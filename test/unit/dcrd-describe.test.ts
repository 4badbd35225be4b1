import { describe as suite, expect, it } from 'vitest';
import { describe } from '../../src/dcrd/hex.js';
import { classifyFrame } from '../../src/dcrd/jsonrpc.js';
import { parseNotification } from '../../src/dcrd/notifications.js';

const deep = (n: number): unknown => JSON.parse('['.repeat(n) + ']'.repeat(n));
const deepObj = (n: number): unknown => JSON.parse('{"a":'.repeat(n) + '1' + '}'.repeat(n));

suite('describe() of hostile values', () => {
  it('renders shallow values as JSON would', () => {
    expect(describe(7)).toBe('7');
    expect(describe('nothex')).toBe('"nothex"');
    expect(describe(null)).toBe('null');
    expect(describe(undefined)).toBe('undefined');
    expect(describe([1, 'a'])).toBe('[1,"a"]');
    expect(describe({ a: 1 })).toBe('{"a":1}');
  });

  it('never walks a 100,000-deep value and stays short', () => {
    for (const v of [deep(100_000), deepObj(100_000), { x: deep(100_000) }]) {
      const text = describe(v);
      expect(text.length).toBeLessThanOrEqual(80);
    }
    expect(describe('x'.repeat(10_000_000)).length).toBeLessThanOrEqual(80);
  });

  it('classifyFrame and parseNotification turn deep values into malformed, not exceptions', () => {
    const d = '['.repeat(50_000) + ']'.repeat(50_000);
    expect(classifyFrame(d).type).toBe('malformed');
    expect(classifyFrame(`{"id":${d}}`).type).toBe('malformed');
    expect(classifyFrame(`{"id":1,"error":${d}}`).type).toBe('malformed');
    expect(parseNotification('winningtickets', [deep(50_000), 1, {}]).kind).toBe('malformed');
    expect(parseNotification('blockconnected', [deep(50_000), null]).kind).toBe('malformed');
  });

  it('a megabyte error message from dcrd is cut short', () => {
    const f = classifyFrame(JSON.stringify({ id: 1, result: null, error: { code: -1, message: 'm'.repeat(1 << 20) } }));
    expect(f.type === 'response' && f.error!.message.length).toBeLessThan(300);
  });
});
