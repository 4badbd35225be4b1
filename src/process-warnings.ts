// grpc-js passes the wallet's address as the TLS server name even when it is
// an IP address (the usual case: 127.0.0.1:9111), and Node warns once per
// process (DEP0123) that an IP is not a valid SNI name. The certificate is
// still verified against the IP in its subjectAltName, so the warning tells
// an operator nothing they can act on; drop that one and keep all others.

export function quietIpServerNameWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}
