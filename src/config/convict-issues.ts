// convict's error text turned back into keyed issues, and the rule for the
// names (wallets, nodes, notify targets) that label logs and metrics.

import type { ConfigIssue } from './issues.js';

export const NAME_RE = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * convict reports all problems in one string, one per line, in the form
 * "key: message: value was ...". Split it back into keyed issues.
 */
export function convictIssues(text: string): ConfigIssue[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const undeclared = /^configuration param '([^']+)' not declared in the schema$/.exec(line);
      if (undeclared) return { key: undeclared[1] as string, message: 'is not a known option (check the spelling)' };
      const idx = line.indexOf(': ');
      // convict appends the whole value; errors quote excerpts only.
      return idx > 0
        ? { key: line.slice(0, idx), message: line.slice(idx + 2).replace(/: value was .*$/, '') }
        : { key: '(config)', message: line };
    });
}

