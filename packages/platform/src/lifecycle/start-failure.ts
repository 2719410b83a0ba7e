/**
 * Why a server could not start, as one line for an operator (no stack): a port in use or
 * forbidden, a database that does not answer, a host that does not resolve. The CLI prints it
 * after `calmhub <command>: ` and exits 1.
 */

interface SystemErrorLike {
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  message?: unknown;
  errors?: unknown;
  severity?: unknown;
  name?: unknown;
  cause?: unknown;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EADDRNOTAVAIL: 'address not available on this host',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

function endpoint(error: SystemErrorLike): string | undefined {
  if (typeof error.address !== 'string') return undefined;
  const host = error.address.includes(':') ? `[${error.address}]` : error.address;
  return typeof error.port === 'number' ? `${host}:${error.port}` : host;
}

/** One line, credentials in URLs masked (`postgres://user:pw@host` → `postgres://***@host`). */
function oneLine(text: string): string {
  return text
    .replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/\s@]*@/g, '$1***@')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

function asObject(error: unknown): SystemErrorLike | undefined {
  return typeof error === 'object' && error !== null ? (error as SystemErrorLike) : undefined;
}

export function describeStartFailure(error: unknown): string {
  const e = asObject(error);
  if (!e) return oneLine(String(error)) || 'unknown error';
  const code = typeof e.code === 'string' ? e.code : undefined;
  const reason = code ? (REASONS[code] ?? code) : undefined;
  const inner = Array.isArray(e.errors) ? e.errors.map(asObject).filter((x) => x !== undefined) : [];

  if (e.syscall === 'listen' && reason) {
    const where = endpoint(e);
    return where ? `cannot listen on ${where}: ${reason}` : `cannot listen: ${reason}`;
  }
  // A refused dual-stack connect (localhost: ::1 and 127.0.0.1) is an AggregateError of both.
  const connects = [e, ...inner].filter((x) => x.syscall === 'connect');
  if (connects.length > 0 && reason) {
    const where = [...new Set(connects.map(endpoint).filter((x) => x !== undefined))].join(', ');
    return `cannot connect to ${where || 'the server'}: ${reason}`;
  }
  if (e.syscall === 'getaddrinfo' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = typeof e.hostname === 'string' ? e.hostname : undefined;
    return `cannot resolve host${host ? ` ${host}` : ''}${code === 'EAI_AGAIN' ? ' (temporary DNS failure)' : ''}`;
  }
  const message = typeof e.message === 'string' ? oneLine(e.message) : '';
  // The PostgreSQL server answered with an error (authentication, missing database, ...).
  if (typeof e.severity === 'string' && message) return `PostgreSQL: ${message}`;
  if (e.name === 'SqliteError' && message) return `SQLite: ${message}`;
  if (message) return message;
  if (inner.length > 0) return describeStartFailure(inner[0]);
  if (e.cause !== undefined && e.cause !== error) return describeStartFailure(e.cause);
  return code ?? (oneLine(String(error)) || 'unknown error');
}
