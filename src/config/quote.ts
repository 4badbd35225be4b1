// How a config error shows a value or key the operator wrote. A bad value can
// be anything a file holds (a 10 MB string, binary data, a mapping), so errors
// quote at most a short excerpt, JSON-escaped so control characters cannot
// garble a terminal or a journal line.

const MAX_QUOTED = 64;
const PLAIN_KEY = /^[A-Za-z0-9_-]{1,80}$/;

/** A string as an error shows it: quoted, escaped, cut after 64 characters. */
export function quote(s: string): string {
  const chars = Array.from(s.length > MAX_QUOTED * 2 ? s.slice(0, MAX_QUOTED * 2) : s);
  if (chars.length <= MAX_QUOTED) return JSON.stringify(s);
  return `${JSON.stringify(chars.slice(0, MAX_QUOTED).join(''))}… (${s.length} characters)`;
}

/** What a value is, for "must be X, got Y"; never more than a short excerpt. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'no value (an empty entry)';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map || isPlainObject(v)) return 'a mapping';
  if (v instanceof Uint8Array) return 'binary data (a !!binary value)';
  if (v instanceof Set) return 'a set (a !!set value)';
  return `a value of type ${typeof v}`;
}

/** One segment of an option path: plain names as they are, anything else quoted. */
export function keySegment(k: string): string {
  return PLAIN_KEY.test(k) ? k : quote(k);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
