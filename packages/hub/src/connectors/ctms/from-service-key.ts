import { TokenCache } from '@calmhub/platform';
import type { AuthContext } from '../auth-header.js';
import type { ResolvedCredential } from '../credential.js';
import { HttpCtmsClient } from './http-client.js';

/** The parts of a CTMS service key the hub reads (reference §3a). */
export interface CtmsServiceKeyFields {
  uaa: { clientid: string; clientsecret: string; url: string };
  uri: string;
}

export interface ServiceKeyClientOptions {
  /** Shared token cache and limits; a fresh context (10 s timeout) when omitted. */
  context?: AuthContext | undefined;
  /** Use this client secret instead of the key's (e.g. a wrong one, to test refusals). */
  clientSecret?: string | undefined;
}

/** The credential a CTMS service key stands for: apiUrl = `uri`, token URL = `uaa.url` + /oauth/token. */
export function ctmsCredentialFromServiceKey(
  key: CtmsServiceKeyFields,
  options: Pick<ServiceKeyClientOptions, 'clientSecret'> = {},
): ResolvedCredential {
  const secret = options.clientSecret ?? key.uaa.clientsecret;
  return {
    id: `ctms-key:${key.uaa.clientid}`,
    version: secret === key.uaa.clientsecret ? 1 : 2,
    type: 'oauth2_client_credentials',
    system: 'ctms',
    settings: {
      clientId: key.uaa.clientid,
      tokenUrl: `${key.uaa.url.replace(/\/+$/, '')}/oauth/token`,
      apiUrl: key.uri.replace(/\/+$/, ''),
    },
    secret: { clientSecret: secret },
  };
}

/** An HTTP CTMS client straight from a service key (tests, scripts): a real tenant or the sandbox. */
export function ctmsClientFromServiceKey(
  key: CtmsServiceKeyFields,
  options: ServiceKeyClientOptions = {},
): HttpCtmsClient {
  const context = options.context ?? { tokens: new TokenCache(), timeoutMs: 10_000, now: () => Date.now() };
  return new HttpCtmsClient(context, ctmsCredentialFromServiceKey(key, options));
}
