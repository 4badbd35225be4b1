// Fails when src/ has an import cycle: data flows one way (dcrd → chain
// tracker → vote tracker → ledger/metrics/log), and a cycle is the first sign
// of a lower layer reaching back up. Relative imports only; type-only
// imports count too, since they couple the modules all the same.
//   npx tsx scripts/check-imports.ts

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const graph = new Map<string, string[]>();
for (const f of files(root)) {
  const text = readFileSync(f, 'utf8');
  const deps: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
    deps.push(resolve(dirname(f), m[1]!.replace(/\.js$/, '.ts')));
  }
  graph.set(f, deps);
}

const state = new Map<string, 'visiting' | 'done'>();
const cycles: string[][] = [];
function visit(f: string, path: string[]): void {
  if (state.get(f) === 'done') return;
  if (state.get(f) === 'visiting') {
    cycles.push([...path.slice(path.indexOf(f)), f]);
    return;
  }
  state.set(f, 'visiting');
  for (const d of graph.get(f) ?? []) if (graph.has(d)) visit(d, [...path, f]);
  state.set(f, 'done');
}
for (const f of graph.keys()) visit(f, []);

if (cycles.length > 0) {
  for (const c of cycles) console.error(`import cycle: ${c.map((f) => relative(root, f)).join(' → ')}`);
  process.exit(1);
}
console.log(`${graph.size} modules in src/, no import cycle`);
