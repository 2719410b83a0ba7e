/** What a connector needs of a stored credential, secrets opened. Never logged, never serialised to a client. */

export const CREDENTIAL_TYPES = ['cloud_alm', 'oauth2_client_credentials', 'basic'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export const CREDENTIAL_SYSTEMS = [
  'cloud_alm',
  'ctms',
  'cloud_integration',
  'servicenow',
  'generic',
] as const;
export type CredentialSystem = (typeof CREDENTIAL_SYSTEMS)[number];

export interface CredentialSettings {
  /** Cloud ALM: the service key's `uaa.url`; basic: the URL a test calls. */
  url?: string | undefined;
  tokenUrl?: string | undefined;
  /**
   * The API base: a Cloud ALM key's `endpoints.Api` (ending in /api); a CTMS key's `uri` (calls go
   * to it + /v2); a Cloud Integration tenant's URL ending in /api/v1.
   */
  apiUrl?: string | undefined;
  clientId?: string | undefined;
  username?: string | undefined;
  scope?: string | undefined;
  clientAuthentication?: 'basic' | 'body' | undefined;
}

export interface CredentialSecret {
  clientSecret?: string | undefined;
  password?: string | undefined;
}

export interface ResolvedCredential {
  id: string;
  /** Bumped on rotation: tokens cached for an older version are not reused. */
  version: number;
  type: CredentialType;
  system: CredentialSystem;
  settings: CredentialSettings;
  secret: CredentialSecret;
}

export interface CredentialTestResult {
  ok: boolean;
  /** What was checked, e.g. "token from https://…/oauth/token". */
  check: string;
  /** Success: a short confirmation. Failure: the remote's answer, verbatim. */
  message: string;
  remoteStatus?: number | undefined;
}
