// The error every configuration problem ends up in. Each issue names the key
// (or the env var, flag or file) that holds the problem, so the operator can
// fix all of them in one pass.

/** Exit code for configuration errors (sysexits.h EX_CONFIG). */
export const EXIT_CONFIG = 78;

/** A hostile file can hold thousands of bad entries; the message lists the first ones. */
const MAX_LISTED = 50;

export interface ConfigIssue {
  key: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    const listed = issues.slice(0, MAX_LISTED).map((i) => `  ${i.key}: ${i.message}`);
    if (issues.length > MAX_LISTED) listed.push(`  … and ${issues.length - MAX_LISTED} more`);
    super('invalid configuration:\n' + listed.join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
