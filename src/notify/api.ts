// The Notifier API every part of dcrvoted (and every guard) calls to tell a
// person something. It never blocks and never throws: sending happens on
// each target's own queue, far from the vote path.

import type { Severity } from './message.js';

export type Details = Record<string, string | number>;

export interface Alerts {
  /**
   * A condition is true now (a wallet not ready, a vote at risk). Repeated
   * raises of a firing key send nothing new; a changed severity or title is
   * sent again as firing.
   */
  raise(key: string, severity: Severity, title: string, details?: Details): void;
  /** The condition is over: sends "resolved" to every target that was told it fired; nothing if it never fired. */
  clear(key: string, details?: Details): void;
  /** Something happened once (a missed vote): sent once per key, never resolved. */
  event(key: string, severity: Severity, title: string, details?: Details): void;
}

/** For parts built without notifications (tests, commands). */
export const NO_ALERTS: Alerts = {
  raise: () => undefined,
  clear: () => undefined,
  event: () => undefined,
};
