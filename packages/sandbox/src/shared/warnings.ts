import type { FastifyReply, FastifyRequest } from 'fastify';
import { searchParams } from './family.js';

/**
 * A `Warning` header value (RFC 7234 §5.5, warn-code 199 "Miscellaneous warning", no agent):
 * `199 - "text"`, one warning-value per text. Texts become printable ASCII quoted-strings, so a
 * query parameter name a client made up can never produce an invalid header.
 */
export function warningHeader(texts: readonly string[]): string {
  return texts
    .map((text) => {
      const printable = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
      return `199 - "${printable.replace(/["\\]/g, (char) => `\\${char}`)}"`;
    })
    .join(', ');
}

/** Adds warnings to the reply's `Warning` header (appending to one already set) and to the log. */
export function addWarnings(request: FastifyRequest, reply: FastifyReply, texts: readonly string[]): void {
  if (texts.length === 0) return;
  const existing = reply.getHeader('warning');
  const value = warningHeader(texts);
  reply.header('warning', typeof existing === 'string' && existing !== '' ? `${existing}, ${value}` : value);
  request.log.warn({ warnings: texts, url: request.url.split('?')[0] }, texts.join('; '));
}

/**
 * A tenant ignores query parameters it does not know; the sandbox does too, but names them in a
 * `Warning` header and in the log so a misspelt filter (`assignee=`, `lastChanged=`) is noticed.
 * `$` options are left to the caller (the Tasks service refuses them with 400). Returns the
 * unknown names.
 */
export function warnUnknownParams(
  request: FastifyRequest,
  reply: FastifyReply,
  known: readonly string[],
): string[] {
  const unknown = [
    ...new Set(
      [...searchParams(request).keys()].filter((key) => !key.startsWith('$') && !known.includes(key)),
    ),
  ];
  addWarnings(
    request,
    reply,
    unknown.map((name) => `unknown query parameter ignored: ${name}`),
  );
  return unknown;
}

/**
 * `warnUnknownParams` for the GET routes of one service, by route path below its prefix (the
 * pattern, e.g. `/tasks/:id`). Routes not in `known` are left alone.
 */
export function warnUnknownRouteParams(
  request: FastifyRequest,
  reply: FastifyReply,
  prefix: string,
  known: Readonly<Record<string, readonly string[]>>,
): void {
  if (request.method !== 'GET') return;
  const route = request.routeOptions.url;
  if (route === undefined || !route.startsWith(prefix)) return;
  const params = known[route.slice(prefix.length)];
  if (params) warnUnknownParams(request, reply, params);
}
