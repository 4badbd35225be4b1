// A guard finding in the shape a notifier takes (src/notify on its branch:
// raise(key, severity, title, details) / clear(key)): a key that names the
// condition and its subject, a stable title, and details of text and
// numbers only. Kept here so the daemon can wire guards to notifications
// with one line per event, whatever carries them.

import type { Finding } from './findings.js';

export interface GuardAlert {
  /** upgrade_needed:<wallet>:<finding key> or tspend_undecided:<wallet>:<hash>. */
  key: string;
  severity: Finding['severity'];
  title: string;
  details: Record<string, string | number>;
}

export function alertOf(f: Finding): GuardAlert {
  const condition = f.guard === 'treasury' ? 'tspend_undecided' : 'upgrade_needed';
  const subject = f.guard === 'treasury' ? f.key.replace(/^tspend:/, '') : f.key;
  const details: Record<string, string | number> = { wallet: f.wallet, kind: f.kind, message: f.message };
  for (const [k, v] of Object.entries(f.details)) {
    if (typeof v === 'string' || typeof v === 'number') details[k] = v;
    else if (typeof v === 'boolean') details[k] = v ? 'yes' : 'no';
  }
  return { key: `${condition}:${f.wallet}:${subject}`, severity: f.severity, title: f.title, details };
}
