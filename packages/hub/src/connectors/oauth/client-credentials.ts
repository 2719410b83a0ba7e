import {
  type CachedToken,
  classifyFailure,
  type Logger,
  redactOutboundUrl,
  retryAfterMs,
  usableUntil,
} from '@calmhub/platform';
import { type Dispatcher, request } from 'undici';
import { RemoteCallError, remoteErrorText } from '../remote-call-error.js';

export interface ClientCredentialsGrant {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
  /** `basic` (XSUAA, most servers) sends the client in an Authorization header; `body` in the form. */
  clientAuthentication?: 'basic' | 'body' | undefined;
}

export interface TokenRequestOptions {
  timeoutMs: number;
  now: () => number;
  logger?: Logger | undefined;
  dispatcher?: Dispatcher | undefined;
}

/** OAuth 2.0 client-credentials grant (RFC 6749 §4.4). Failures are RemoteCallErrors with the server's words. */
export async function fetchClientCredentialsToken(
  grant: ClientCredentialsGrant,
  options: TokenRequestOptions,
): Promise<CachedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (grant.clientAuthentication === 'body') {
    form.set('client_id', grant.clientId);
    form.set('client_secret', grant.clientSecret);
  } else {
    // Sent as they are: XSUAA client ids (`sb-…!b1|app!b2`) are not form-encoded by SAP's own clients.
    headers.authorization = `Basic ${Buffer.from(`${grant.clientId}:${grant.clientSecret}`).toString('base64')}`;
  }
  if (grant.scope) form.set('scope', grant.scope);
  const shownUrl = redactOutboundUrl(grant.tokenUrl);
  const receivedAt = options.now();
  let response: Dispatcher.ResponseData;
  try {
    response = await request(grant.tokenUrl, {
      method: 'POST',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(options.timeoutMs),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
  } catch (error) {
    const failure = classifyFailure(error);
    throw new RemoteCallError('token_service', `Token service ${shownUrl} unreachable: ${failure.message}`, {
      retryable: failure.retryable,
      timedOut: failure.kind === 'timeout',
    });
  }
  const text = await response.body.text();
  options.logger?.trace({ url: shownUrl, status: response.statusCode }, 'token request');
  if (response.statusCode < 200 || response.statusCode >= 300) {
    const wait = retryAfterMs(response.headers['retry-after'], options.now());
    throw RemoteCallError.fromStatus(
      'token_service',
      response.statusCode,
      `Token service answered ${response.statusCode}: ${remoteErrorText(text)}`,
      wait === undefined ? undefined : options.now() + wait,
    );
  }
  let parsed: { access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new RemoteCallError('token_service', `Token service ${shownUrl} did not answer JSON`, {
      remoteStatus: response.statusCode,
      retryable: false,
    });
  }
  if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
    throw new RemoteCallError('token_service', `Token service ${shownUrl} answered without an access_token`, {
      remoteStatus: response.statusCode,
      retryable: false,
    });
  }
  const expiresIn = Number(parsed.expires_in);
  return {
    accessToken: parsed.access_token,
    tokenType: 'Bearer',
    usableUntil: usableUntil(receivedAt, Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300),
  };
}
