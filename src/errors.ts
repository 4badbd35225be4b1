// Turning whatever was thrown into text for a log line or an error message.
// Thrown values are not always Errors (a peer's library may throw a string),
// and String() of a hostile value can itself throw or recurse, so this never
// does more than read a message.

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return String(err);
  } catch {
    return 'unprintable error';
  }
}

/** The fields a log line gets for an error: its message, and its name when it is an Error. */
export function errorFields(err: unknown): { message: string; name?: string } {
  return err instanceof Error ? { message: err.message, name: err.name } : { message: errorMessage(err) };
}
