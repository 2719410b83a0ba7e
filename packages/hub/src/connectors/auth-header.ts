import {
  AppError,
  classifyFailure,
  type Logger,
  redactOutboundUrl,
  retryAfterMs,
  type TokenCache,
} from '@calmhub/platform';
import { type Dispatcher, type FormData, request } from 'undici';
import type { ResolvedCredential } from './credential.js';
import type { HostLimiter } from './host-limiter.js';
import { fetchClientCredentialsToken } from './oauth/client-credentials.js';
import { RemoteCallError, type RemoteSystem } from './remote-call-error.js';

export interface AuthContext {
  tokens: TokenCache;
  /** Per-host concurrency and rate; none in tests that do not need it. */
  limiter?: HostLimiter | undefined;
  timeoutMs: number;
  now: () => number;
  logger?: Logger | undefined;
  dispatcher?: Dispatcher | undefined;
}

export function tokenUrlOf(credential: ResolvedCredential): string | undefined {
  return credential.settings.tokenUrl;
}

/**
 * The Authorization header for a call with this credential. OAuth tokens come from the shared
 * cache (one request in flight per credential version); `fresh` drops the cached one first,
 * after the remote answered 401.
 */
export async function authorizationFor(
  context: AuthContext,
  credential: ResolvedCredential,
  fresh = false,
): Promise<string> {
  if (credential.type === 'basic') {
    const { username = '' } = credential.settings;
    const { password = '' } = credential.secret;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  const tokenUrl = tokenUrlOf(credential);
  const { clientId } = credential.settings;
  const { clientSecret } = credential.secret;
  if (!tokenUrl || !clientId || !clientSecret)
    throw new AppError(
      'unprocessable',
      `Credential ${credential.id} lacks a token URL, client id or client secret`,
    );
  const key = `${credential.id}:${credential.version}`;
  if (fresh) context.tokens.invalidate(key);
  const token = await context.tokens.get(key, context.now, () =>
    fetchClientCredentialsToken(
      {
        tokenUrl,
        clientId,
        clientSecret,
        scope: credential.settings.scope,
        clientAuthentication: credential.settings.clientAuthentication,
      },
      context,
    ),
  );
  return `${token.tokenType} ${token.accessToken}`;
}

/** One outbound call as a connector makes it (the body a string, bytes or multipart form). */
export interface OutboundRequest {
  method: Dispatcher.HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer | FormData | undefined;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Epoch ms the remote asked us to wait until (`Retry-After`). */
  retryAt: number | undefined;
}

/**
 * Sends one request under the context's host limiter and timeout. Any answer is returned (the
 * caller judges the status); a remote that cannot be reached is a RemoteCallError of `system`,
 * named by its redacted URL. Logged at trace level without query values.
 */
export async function sendOutbound(
  context: AuthContext,
  system: RemoteSystem,
  label: string,
  outbound: OutboundRequest,
): Promise<OutboundResponse> {
  const shown = redactOutboundUrl(outbound.url);
  const release = await context.limiter?.acquire(new URL(outbound.url).host);
  const started = performance.now();
  try {
    const response = await request(outbound.url, {
      method: outbound.method,
      headers: outbound.headers,
      ...(outbound.body === undefined ? {} : { body: outbound.body }),
      signal: AbortSignal.timeout(context.timeoutMs),
      ...(context.dispatcher ? { dispatcher: context.dispatcher } : {}),
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    context.logger?.trace(
      {
        method: outbound.method,
        url: shown,
        status: response.statusCode,
        ms: Math.round(performance.now() - started),
      },
      `${label} call`,
    );
    const wait = retryAfterMs(response.headers['retry-after'], context.now());
    return {
      status: response.statusCode,
      headers: response.headers,
      body,
      retryAt: wait === undefined ? undefined : context.now() + wait,
    };
  } catch (error) {
    const failure = classifyFailure(error);
    throw new RemoteCallError(system, `${label} at ${shown} unreachable: ${failure.message}`, {
      retryable: failure.retryable,
      timedOut: failure.kind === 'timeout',
    });
  } finally {
    release?.();
  }
}
