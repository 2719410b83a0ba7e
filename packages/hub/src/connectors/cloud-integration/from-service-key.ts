import { TokenCache } from '@calmhub/platform';
import type { AuthContext } from '../auth-header.js';
import type { ResolvedCredential } from '../credential.js';
import { cloudIntegrationApiBase, HttpCloudIntegrationClient } from './http-client.js';

/** The parts of a Cloud Integration "api" plan service key the hub reads (reference §3b). */
export interface CloudIntegrationServiceKeyFields {
  oauth: { clientid: string; clientsecret: string; url: string; tokenurl: string };
}

export interface CloudIntegrationKeyOptions {
  /** Shared token cache and limits; a fresh context (10 s timeout) when omitted. */
  context?: AuthContext | undefined;
  /** Use this client secret instead of the key's (e.g. a wrong one, to test refusals). */
  clientSecret?: string | undefined;
  /** Authenticate with HTTP Basic as this user instead of OAuth (CSRF protocol included). */
  basic?: { username: string; password: string } | undefined;
}

/** The credential a Cloud Integration key stands for: apiUrl = `oauth.url` + /api/v1, token URL = `oauth.tokenurl`. */
export function cloudIntegrationCredentialFromServiceKey(
  key: CloudIntegrationServiceKeyFields,
  options: Pick<CloudIntegrationKeyOptions, 'clientSecret' | 'basic'> = {},
): ResolvedCredential {
  const apiUrl = cloudIntegrationApiBase(key.oauth.url);
  if (options.basic)
    return {
      id: `cpi-basic:${options.basic.username}`,
      version: 1,
      type: 'basic',
      system: 'cloud_integration',
      settings: { apiUrl, username: options.basic.username },
      secret: { password: options.basic.password },
    };
  const secret = options.clientSecret ?? key.oauth.clientsecret;
  return {
    id: `cpi-key:${key.oauth.clientid}`,
    version: secret === key.oauth.clientsecret ? 1 : 2,
    type: 'oauth2_client_credentials',
    system: 'cloud_integration',
    settings: { clientId: key.oauth.clientid, tokenUrl: key.oauth.tokenurl, apiUrl },
    secret: { clientSecret: secret },
  };
}

/** An HTTP Cloud Integration client straight from a service key (tests, scripts): a real tenant or the sandbox. */
export function cloudIntegrationClientFromServiceKey(
  key: CloudIntegrationServiceKeyFields,
  options: CloudIntegrationKeyOptions = {},
): HttpCloudIntegrationClient {
  const context = options.context ?? { tokens: new TokenCache(), timeoutMs: 10_000, now: () => Date.now() };
  return new HttpCloudIntegrationClient(context, cloudIntegrationCredentialFromServiceKey(key, options));
}
