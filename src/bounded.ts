// Recent-only memories (dedup windows, caches of immutable data) keep their
// insertion order; past the bound the oldest entries go.

export function trimOldest<K>(c: { readonly size: number; keys(): IterableIterator<K>; delete(key: K): boolean }, max: number): void {
  for (const k of c.keys()) {
    if (c.size <= max) return;
    c.delete(k);
  }
}
