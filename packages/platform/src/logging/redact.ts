/**
 * The one redaction rule for URLs and headers that end up in logs or consoles, for incoming
 * requests and outbound calls alike.
 *
 * - Incoming request URLs (`redactRequestUrl`): the values of secret-named query parameters are
 *   masked. Names are compared the way the server's query parser will read them: percent-decoded
 *   (repeatedly, so double encoding does not hide a name), `+` as a space, case-insensitive and
 *   ignoring punctuation, so `client%5Fsecret`, `secret%4Bey`, `Client+Secret` and `SECRETKEY`
 *   are all caught.
 * - Outbound URLs (`redactOutboundUrl`): userinfo and EVERY query value are masked, because the
 *   query of a call to a remote system is configuration (`URL.queries.*` of a destination) whose
 *   names say nothing about whether the values are credentials.
 * - Headers (`redactHeaders`): credential-named headers keep only their scheme (`Bearer ***`).
 *
 * Secret-named body fields are redacted by pino (`REDACT_PATHS` in `logger.ts`).
 */

/** What replaces a secret in log lines (the pino censor too). */
export const LOG_MASK = '[REDACTED]';
/** What replaces a secret in outbound URLs and headers (URL-safe, shown in consoles). */
export const OUTBOUND_MASK = '***';

/** Applied to a parameter name reduced to lowercase letters and digits. */
const SECRET_NAME =
  /secret|token|passw|passphrase|^pass$|pwd|key$|apikey|signature|sig$|credential|assertion|^auth$|authorization|session|cookie/;

/** Names that contain a secret-sounding word but name no secret: ids and addresses of one. */
const NOT_SECRET_NAME = /^(credential|token|apitoken|session)ids?$|^token(service)?url$|^tokentype$/;

const SECRET_HEADER = /authorization|cookie|api[-_]?key|token|secret|passw|signature|credential|session/i;

/** Percent-decodes byte by byte (never throws on malformed input); enough to compare ASCII names. */
function percentDecode(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** True when a (raw, possibly encoded) query parameter name names a credential. */
export function isSecretName(rawName: string): boolean {
  let name = rawName.replace(/\+/g, ' ');
  for (let round = 0; round < 4; round++) {
    const decoded = percentDecode(name);
    if (decoded === name) break;
    name = decoded;
  }
  const compact = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_NAME.test(compact) && !NOT_SECRET_NAME.test(compact);
}

function redactQuery(query: string, mask: string, every: boolean): string {
  return query
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      // A bare part: outbound, it may be a key on its own; incoming, an encoded `=` may hide one.
      if (equals === -1) return part !== '' && (every || isSecretName(part)) ? mask : part;
      const name = part.slice(0, equals);
      return every || isSecretName(name) ? `${name}=${mask}` : part;
    })
    .join('&');
}

/** `scheme://user:pass@host` → `scheme://***:***@host` (text-based, so unparsable URLs work too). */
function redactUserinfo(url: string, mask: string): string {
  return url.replace(
    /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@/,
    (_, scheme: string, userinfo: string) => `${scheme}${userinfo.includes(':') ? `${mask}:${mask}` : mask}@`,
  );
}

function redact(url: string, mask: string, every: boolean): string {
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
  // A fragment is never sent, but implicit OAuth flows put tokens there.
  const fragment =
    hashAt === -1 ? '' : every ? `#${mask}` : `#${redactQuery(url.slice(hashAt + 1), mask, false)}`;
  const queryAt = beforeHash.indexOf('?');
  const base = redactUserinfo(queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt), mask);
  const query = queryAt === -1 ? '' : `?${redactQuery(beforeHash.slice(queryAt + 1), mask, every)}`;
  return `${base}${query}${fragment}`;
}

/**
 * A request URL as received (`/oauth/token?client_secret=abc`) for the log: secret-named query
 * parameters get `[REDACTED]`; everything else is left byte for byte.
 */
export function redactRequestUrl(url: string): string {
  return redact(url, LOG_MASK, false);
}

/**
 * An outbound URL for logs and consoles: userinfo and every query value become `***`
 * (`https://***:***@host/hook?a=***&b=***`); scheme, host, path and parameter names stay.
 */
export function redactOutboundUrl(url: string): string {
  return redact(url, OUTBOUND_MASK, true);
}

/**
 * Headers for logs and consoles: credential-named ones (authorization, cookies, API keys, tokens,
 * secrets, passwords, signatures) keep only their scheme (`Basic ***`). Repeated headers are joined.
 */
export function redactHeaders(
  headers: Record<string, string | readonly string[] | undefined>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const value = typeof raw === 'string' ? raw : raw.join(', ');
    if (!SECRET_HEADER.test(name)) result[name] = value;
    else {
      const scheme = /^(Basic|Bearer|Digest|Negotiate|Token)\s/i.exec(value)?.[1];
      result[name] = scheme ? `${scheme} ${OUTBOUND_MASK}` : OUTBOUND_MASK;
    }
  }
  return result;
}
