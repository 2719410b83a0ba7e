import { classifyFailure, type Logger, redactOutboundUrl, TokenCache } from '@calmhub/platform';
import { type Dispatcher, request } from 'undici';
import { type AuthContext, authorizationFor } from './auth-header.js';
import type { CloudAlmClient } from './cloud-alm/client.js';
import { HttpCloudAlmClient } from './cloud-alm/http-client.js';
import type { CloudIntegrationClient } from './cloud-integration/client.js';
import { cloudIntegrationApiBase, HttpCloudIntegrationClient } from './cloud-integration/http-client.js';
import type { CredentialTestResult, ResolvedCredential } from './credential.js';
import type { CtmsClient } from './ctms/client.js';
import { ctmsApiBase, HttpCtmsClient } from './ctms/http-client.js';
import { HostLimiter, type HostLimits } from './host-limiter.js';
import { RemoteCallError, remoteErrorText } from './remote-call-error.js';

/** How the hub reaches remote systems. build-hub wires the HTTP ones; unit tests may pass fakes. */
export interface Connectors {
  cloudAlm(credential: ResolvedCredential, apiUrl: string): CloudAlmClient;
  /** SAP Cloud Transport Management at the credential's `apiUrl` (the service key's `uri`). */
  ctms(credential: ResolvedCredential): CtmsClient;
  /** SAP Cloud Integration at the credential's `apiUrl` (ending in `/api/v1`), OAuth or Basic. */
  cloudIntegration(credential: ResolvedCredential): CloudIntegrationClient;
  /**
   * Proves a credential: fetches a token and reads what the system shows it (Cloud ALM projects,
   * CTMS nodes, Cloud Integration packages), or calls its URL with Basic authentication.
   */
  testCredential(credential: ResolvedCredential): Promise<CredentialTestResult>;
  /** Drops cached tokens of a credential (after rotation or deletion). */
  forget(credentialId: string): void;
}

export interface HttpConnectorsOptions {
  timeoutMs: number;
  /** Per-host concurrency and rate for remote calls (Cloud ALM, CTMS, Cloud Integration). */
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
    ctms: (credential) => new HttpCtmsClient(context, credential),
    cloudIntegration: (credential) => new HttpCloudIntegrationClient(context, credential),
    async testCredential(credential) {
      const { apiUrl } = credential.settings;
      if (credential.system === 'cloud_integration' && apiUrl !== undefined)
        return testCloudIntegration(context, credential, apiUrl);
      if (credential.type === 'basic') return testBasic(context, credential);
      if (credential.system === 'ctms' && apiUrl !== undefined)
        return testWithToken(context, credential, `GET ${ctmsNodesPath(apiUrl)}`, async () => {
          const nodes = await new HttpCtmsClient(context, credential, apiUrl).listNodes();
          return `Token received; ${nodes.length} transport node(s) visible to this client.`;
        });
      if (credential.type === 'cloud_alm' && apiUrl !== undefined)
        return testWithToken(context, credential, 'GET /calm-projects/v1/projects', async () => {
          const projects = await cloudAlm(credential, apiUrl).listProjects();
          return `Token received; ${projects.length} Cloud ALM project(s) visible to this client.`;
        });
      return testWithToken(context, credential, undefined, async () => 'Token received.');
    },
    forget(credentialId) {
      tokens.invalidatePrefix(`${credentialId}:`);
    },
  };
}

/** Runs a check: its message on success, the remote's words on a RemoteCallError. */
async function attempt(check: string, run: () => Promise<string>): Promise<CredentialTestResult> {
  try {
    return { ok: true, check, message: await run() };
  } catch (error) {
    if (error instanceof RemoteCallError)
      return { ok: false, check, message: error.message, remoteStatus: error.remoteStatus };
    throw error;
  }
}

/** Fetches a fresh token, then reads what `read` reads (the `call` named in the check). */
function testWithToken(
  context: AuthContext,
  credential: ResolvedCredential,
  call: string | undefined,
  read: () => Promise<string>,
): Promise<CredentialTestResult> {
  const check = `token from ${redactOutboundUrl(credential.settings.tokenUrl ?? '')}${call ? `, then ${call}` : ''}`;
  return attempt(check, async () => {
    await authorizationFor(context, credential, true);
    return read();
  });
}

/** `/v2/nodes`, or `/nodes` through Cloud ALM's pass-through: the check's wording. */
function ctmsNodesPath(apiUrl: string): string {
  return ctmsApiBase(apiUrl).endsWith('/v2') ? '/v2/nodes' : '/nodes';
}

/** Cloud Integration: `GET /IntegrationPackages?$top=1` with a token, or with Basic authentication. */
async function testCloudIntegration(
  context: AuthContext,
  credential: ResolvedCredential,
  apiUrl: string,
): Promise<CredentialTestResult> {
  const client = new HttpCloudIntegrationClient(context, credential, apiUrl);
  const read = async () => {
    await client.listPackages(1);
    return credential.type === 'basic'
      ? 'Cloud Integration answered: these credentials may read integration packages.'
      : 'Token received; Cloud Integration answered: this client may read integration packages.';
  };
  if (credential.type !== 'basic')
    return testWithToken(context, credential, 'GET /IntegrationPackages?$top=1', read);
  const shown = redactOutboundUrl(`${cloudIntegrationApiBase(apiUrl)}/IntegrationPackages`);
  return attempt(`GET ${shown}?$top=1 with Basic authentication`, read);
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
