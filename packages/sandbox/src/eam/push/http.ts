import {
  type CachedToken,
  classifyFailure,
  isRetryableStatus,
  redactHeaders,
  redactOutboundUrl,
  retryAfterMs,
  usableUntil,
} from '@calmhub/platform';
import { type Dispatcher, request } from 'undici';
import type { ResolvedDestination } from '../destinations.js';
import type { EamRuntime } from '../runtime.js';

export interface OutboundRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export type SendResult =
  | {
      kind: 'response';
      status: number;
      headers: Record<string, string>;
      body: string;
      durationMs: number;
      /** What was actually sent, with credentials redacted (for the console). */
      sentHeaders: Record<string, string>;
      url: string;
    }
  | {
      kind: 'error';
      outcome: 'CONNECTIVITY_ERROR' | 'AUTH_ERROR';
      retryable: boolean;
      message: string;
      durationMs: number;
      retryAfterMs?: number | undefined;
      sentHeaders: Record<string, string>;
      url: string;
    };

/** Thrown while getting credentials (the token service refused or failed). */
export class AuthError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Properties with a given prefix (`URL.headers.`), keyed by the rest of the name. */
export function prefixed(properties: Record<string, string>, prefix: string): [string, string][] {
  return Object.entries(properties)
    .filter(([key]) => key.startsWith(prefix) && key.length > prefix.length)
    .map(([key, value]) => [key.slice(prefix.length), value]);
}

/** Appends `URL.queries.*` (reference §3.1: after destination URL + webhook path + operation path). */
export function withQueries(url: string, queries: [string, string][]): string {
  if (queries.length === 0) return url;
  const query = queries
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  return `${base}${base.includes('?') ? '&' : '?'}${query}${fragment}`;
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

function dispatcherFor(
  runtime: EamRuntime,
  destination: ResolvedDestination,
  forTokenService = false,
): Dispatcher {
  const tls = destination.tls;
  if (!tls) return runtime.agents.get(undefined, undefined);
  // The token service gets the trust settings but never the client certificate of the target.
  const material = forTokenService
    ? { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.trustAll ? { trustAll: true } : {}) }
    : tls;
  return runtime.agents.get(
    `${destination.name}\u0000${destination.updatedAt}\u0000${forTokenService ? 'token' : 'target'}`,
    material,
  );
}

function tokenKey(destination: ResolvedDestination): string {
  const p = destination.properties;
  return [destination.name, destination.updatedAt, p.clientId, p.tokenServiceURL, p.scope ?? ''].join(
    '\u0000',
  );
}

/** Client-credentials grant against `tokenServiceURL` (reference §2.2); form fields as XSUAA and ServiceNow accept them. */
async function fetchToken(runtime: EamRuntime, destination: ResolvedDestination): Promise<CachedToken> {
  const p = destination.properties;
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: p.clientId ?? '' });
  if (p.clientSecret) form.set('client_secret', p.clientSecret);
  if (p.scope) form.set('scope', p.scope);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  for (const [name, value] of prefixed(p, 'tokenServiceURL.headers.')) headers[name.toLowerCase()] = value;
  if (p.tokenServiceUser)
    headers.authorization = `Basic ${Buffer.from(`${p.tokenServiceUser}:${p.tokenServicePassword ?? ''}`).toString('base64')}`;
  const url = withQueries(p.tokenServiceURL ?? '', prefixed(p, 'tokenServiceURL.queries.'));
  const timeoutSeconds = Number(p['tokenServiceURL.ConnectionTimeoutInSeconds'] ?? 10);
  const timeoutMs = Math.min(60, Math.max(1, Number.isFinite(timeoutSeconds) ? timeoutSeconds : 10)) * 1000;
  const receivedAt = runtime.ctx.now();
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'POST',
      headers,
      body: form.toString(),
      dispatcher: dispatcherFor(runtime, destination, true),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const failure = classifyFailure(error);
    throw new AuthError(
      `token service ${redactOutboundUrl(url)} unreachable: ${failure.message}`,
      failure.retryable,
    );
  }
  const text = await response.body.text();
  const status = response.statusCode;
  if (status < 200 || status >= 300) {
    throw new AuthError(
      `token service ${redactOutboundUrl(url)} answered ${status}: ${text.slice(0, 300)}`,
      isRetryableStatus(status),
      retryAfterMs(response.headers['retry-after'], runtime.ctx.now()),
    );
  }
  let parsed: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new AuthError(`token service ${redactOutboundUrl(url)} did not answer JSON`, false);
  }
  if (typeof parsed.access_token !== 'string' || parsed.access_token === '')
    throw new AuthError(`token service ${redactOutboundUrl(url)} answered without access_token`, false);
  const expiresIn = Number(parsed.expires_in);
  return {
    accessToken: parsed.access_token,
    tokenType:
      typeof parsed.token_type === 'string' && /^bearer$/i.test(parsed.token_type) ? 'Bearer' : 'Bearer',
    // Without expires_in the token is used for five minutes.
    usableUntil: usableUntil(receivedAt, Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300),
  };
}

/**
 * Sends one request to a destination with its authentication (reference §2.2) and the module's
 * timeout. Never throws: every failure becomes a classified result for the console.
 */
export async function send(
  runtime: EamRuntime,
  destination: ResolvedDestination,
  outbound: OutboundRequest,
  signal: AbortSignal,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const p = destination.properties;
  const headers: Record<string, string> = { ...outbound.headers };
  for (const [name, value] of prefixed(p, 'URL.headers.')) headers[name.toLowerCase()] = value;
  const url = withQueries(outbound.url, prefixed(p, 'URL.queries.'));
  const shownUrl = redactOutboundUrl(url);

  let tokenCacheKey: string | undefined;
  const authorize = async (fresh: boolean): Promise<void> => {
    switch (destination.authentication) {
      case 'BasicAuthentication':
        headers.authorization = `Basic ${Buffer.from(`${p.User ?? ''}:${p.Password ?? ''}`).toString('base64')}`;
        return;
      case 'OAuth2ClientCredentials': {
        tokenCacheKey = tokenKey(destination);
        if (fresh) runtime.tokens.invalidate(tokenCacheKey);
        const token = await runtime.tokens.get(tokenCacheKey, runtime.ctx.now, () =>
          fetchToken(runtime, destination),
        );
        headers.authorization = `${token.tokenType} ${token.accessToken}`;
        return;
      }
      default:
        return;
    }
  };

  const attempt = async (): Promise<Dispatcher.ResponseData & { text: string }> => {
    const timeout = AbortSignal.timeout(runtime.settings.requestTimeoutMs);
    const response = await request(url, {
      method: outbound.method as Dispatcher.HttpMethod,
      headers,
      ...(outbound.body === undefined ? {} : { body: outbound.body }),
      dispatcher: dispatcherFor(runtime, destination),
      signal: AbortSignal.any([timeout, signal]),
    });
    const text = await response.body.text();
    return Object.assign(response, { text });
  };

  try {
    // BTP `Preemptive=false`: ask without credentials first and answer the 401 challenge.
    const preemptive = !(destination.authentication === 'BasicAuthentication' && p.Preemptive === 'false');
    if (preemptive) await authorize(false);
    let response = await attempt();
    if (response.statusCode === 401 && !preemptive) {
      await authorize(false);
      response = await attempt();
    } else if (response.statusCode === 401 && destination.authentication === 'OAuth2ClientCredentials') {
      // A revoked or expired-early token: fetch a new one once before giving up.
      await authorize(true);
      response = await attempt();
    }
    return {
      kind: 'response',
      status: response.statusCode,
      headers: flatHeaders(response.headers),
      body: response.text,
      durationMs: elapsed(),
      sentHeaders: redactHeaders(headers),
      url: shownUrl,
    };
  } catch (error) {
    if (error instanceof AuthError) {
      return {
        kind: 'error',
        outcome: 'AUTH_ERROR',
        retryable: error.retryable,
        message: error.message,
        durationMs: elapsed(),
        retryAfterMs: error.retryAfterMs,
        sentHeaders: redactHeaders(headers),
        url: shownUrl,
      };
    }
    const failure = classifyFailure(error, signal);
    return {
      kind: 'error',
      outcome: 'CONNECTIVITY_ERROR',
      retryable: failure.retryable,
      message:
        failure.kind === 'timeout'
          ? `no answer within ${runtime.settings.requestTimeoutMs} ms (${failure.message})`
          : failure.message,
      durationMs: elapsed(),
      sentHeaders: redactHeaders(headers),
      url: shownUrl,
    };
  }
}
