import { AppError, type Logger, type TokenCache } from '@calmhub/platform';
import type { Dispatcher } from 'undici';
import type { ResolvedCredential } from './credential.js';
import type { HostLimiter } from './host-limiter.js';
import { fetchClientCredentialsToken } from './oauth/client-credentials.js';

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
