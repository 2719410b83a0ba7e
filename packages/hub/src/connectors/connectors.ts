import { classifyFailure, type Logger, redactOutboundUrl, TokenCache } from '@calmhub/platform';
import { type Dispatcher, request } from 'undici';
import { type AuthContext, authorizationFor } from './auth-header.js';
import type { CloudAlmClient } from './cloud-alm/client.js';
import { HttpCloudAlmClient } from './cloud-alm/http-client.js';
import type { CredentialTestResult, ResolvedCredential } from './credential.js';
import { HostLimiter, type HostLimits } from './host-limiter.js';
import { RemoteCallError, remoteErrorText } from './remote-call-error.js';

/** How the hub reaches remote systems. build-hub wires the HTTP ones; unit tests may pass fakes. */
export interface Connectors {
  cloudAlm(credential: ResolvedCredential, apiUrl: string): CloudAlmClient;
  /** Proves a credential: fetches a token (and, for Cloud ALM, reads the project list), or calls its URL. */
  testCredential(credential: ResolvedCredential): Promise<CredentialTestResult>;
  /** Drops cached tokens of a credential (after rotation or deletion). */
  forget(credentialId: string): void;
}

export interface HttpConnectorsOptions {
  timeoutMs: number;
  /** Per-host concurrency and rate for Cloud ALM calls. */
  limits?: HostLimits | undefined;
  now: () => number;
  logger?: Logger | undefined;
  dispatcher?: Dispatcher | undefined;
}

export function createHttpConnectors(options: HttpConnectorsOptions): Connectors {
  const tokens = new TokenCache();
  const limiter = options.limits ? new HostLimiter(options.limits) : undefined;
  const context: AuthContext = { ...options, tokens, limiter };
  const cloudAlm = (credential: ResolvedCredential, apiUrl: string) =>
    new HttpCloudAlmClient(context, credential, apiUrl);
  return {
    cloudAlm,
    async testCredential(credential) {
      if (credential.type === 'basic') return testBasic(context, credential);
      const { apiUrl } = credential.settings;
      const readsProjects = credential.type === 'cloud_alm' && apiUrl !== undefined;
      const check = `token from ${redactOutboundUrl(credential.settings.tokenUrl ?? '')}${readsProjects ? ', then GET /calm-projects/v1/projects' : ''}`;
      try {
        await authorizationFor(context, credential, true);
        if (!readsProjects) return { ok: true, check, message: 'Token received.' };
        const projects = await cloudAlm(credential, apiUrl).listProjects();
        return {
          ok: true,
          check,
          message: `Token received; ${projects.length} Cloud ALM project(s) visible to this client.`,
        };
      } catch (error) {
        if (error instanceof RemoteCallError)
          return { ok: false, check, message: error.message, remoteStatus: error.remoteStatus };
        throw error;
      }
    },
    forget(credentialId) {
      tokens.invalidatePrefix(`${credentialId}:`);
    },
  };
}

async function testBasic(
  context: AuthContext,
  credential: ResolvedCredential,
): Promise<CredentialTestResult> {
  const url = credential.settings.url;
  if (!url) return { ok: false, check: 'none', message: 'This credential has no URL to test against.' };
  const shown = redactOutboundUrl(url);
  try {
    const response = await request(url, {
      method: 'GET',
      headers: { authorization: await authorizationFor(context, credential), accept: 'application/json' },
      signal: AbortSignal.timeout(context.timeoutMs),
      ...(context.dispatcher ? { dispatcher: context.dispatcher } : {}),
    });
    const body = await response.body.text();
    const ok = response.statusCode < 400;
    return {
      ok,
      check: `GET ${shown} with Basic authentication`,
      message: ok
        ? `Answered ${response.statusCode}.`
        : `Answered ${response.statusCode}: ${remoteErrorText(body)}`,
      remoteStatus: response.statusCode,
    };
  } catch (error) {
    return { ok: false, check: `GET ${shown}`, message: `Unreachable: ${classifyFailure(error).message}` };
  }
}
