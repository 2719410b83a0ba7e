import { AppError } from '@calmhub/platform';
import { cloudIntegrationApiBase } from '../connectors/cloud-integration/http-client.js';
import type {
  CredentialSecret,
  CredentialSettings,
  CredentialSystem,
  CredentialType,
} from '../connectors/credential.js';

/** The fields a client may send to create or rotate a credential (secrets included). */
export interface CredentialFields {
  serviceKey?: unknown;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  url?: string | undefined;
  tokenUrl?: string | undefined;
  apiUrl?: string | undefined;
  scope?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  clientAuthentication?: 'basic' | 'body' | undefined;
}

export function invalidField(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}`, {
    details: [{ location: `body/${field}`, message }],
  });
}

const HTTP_URL = /^https?:\/\/[^\s/?#]+[^\s]*$/;

function checkUrl(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!HTTP_URL.test(trimmed)) throw invalidField(field, 'must be an http(s) URL');
  try {
    new URL(trimmed);
  } catch {
    throw invalidField(field, 'must be an http(s) URL');
  }
  return trimmed.replace(/\/+$/, '');
}

/** The seed's rule: the service key's URL plus `/oauth/token` (unless it already ends so). */
export function tokenUrlFor(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/oauth/token') ? base : `${base}/oauth/token`;
}

/** What a pasted service key gives: the OAuth client, where its tokens come from, the API it is for. */
export interface ServiceKeyFields {
  clientId: string;
  clientSecret: string;
  /** The XSUAA URL (`uaa.url`), when the key has one. */
  url?: string;
  /** The token endpoint, when the key names it (Cloud Integration's `oauth.tokenurl`). */
  tokenUrl?: string;
  apiUrl?: string;
  /** The system the key's layout says it is for; undefined for a Cloud ALM or a bare XSUAA key. */
  system?: 'ctms' | 'cloud_integration';
}

const SYSTEM_LABEL: Record<string, string> = {
  ctms: 'Cloud Transport Management',
  cloud_integration: 'Cloud Integration',
};

function parseKey(value: unknown): Record<string, unknown> {
  let key = value;
  if (typeof key === 'string') {
    try {
      key = JSON.parse(key);
    } catch {
      // The parser's message quotes the input, which holds the secret: say less.
      throw invalidField('serviceKey', 'is not valid JSON');
    }
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key))
    throw invalidField('serviceKey', 'must be a JSON object');
  return key as Record<string, unknown>;
}

/** A string field of a key block, named by its path in every error. */
function keyField(block: Record<string, unknown>, path: string, name: string): string {
  const v = block[name];
  if (typeof v !== 'string' || v.trim() === '') throw invalidField(`${path}.${name}`, 'is missing');
  return v.trim();
}

/**
 * A BTP service key as pasted from the cockpit, by its layout:
 * - Cloud ALM: `uaa.clientid/clientsecret/url` and `endpoints.Api` (a flat key, the `uaa` block
 *   alone, is read the same way);
 * - Cloud Transport Management: `uaa.*` and `uri` (the API base; calls go to `uri` + /v2);
 * - Cloud Integration ("api" plan): `oauth.clientid/clientsecret/url/tokenurl` (API at `url` + /api/v1).
 */
export function readServiceKey(value: unknown): ServiceKeyFields {
  const record = parseKey(value);
  if (typeof record.oauth === 'object' && record.oauth !== null) {
    const oauth = record.oauth as Record<string, unknown>;
    const field = (name: string) => keyField(oauth, 'serviceKey.oauth', name);
    return {
      clientId: field('clientid'),
      clientSecret: field('clientsecret'),
      tokenUrl: checkUrl('serviceKey.oauth.tokenurl', field('tokenurl')) as string,
      apiUrl: cloudIntegrationApiBase(checkUrl('serviceKey.oauth.url', field('url')) as string),
      system: 'cloud_integration',
    };
  }
  const uaa = (typeof record.uaa === 'object' && record.uaa !== null ? record.uaa : record) as Record<
    string,
    unknown
  >;
  const field = (name: string) => keyField(uaa, 'serviceKey.uaa', name);
  const client = {
    clientId: field('clientid'),
    clientSecret: field('clientsecret'),
    url: checkUrl('serviceKey.uaa.url', field('url')) as string,
  };
  if (record.uri !== undefined) {
    if (typeof record.uri !== 'string') throw invalidField('serviceKey.uri', 'must be an http(s) URL');
    return { ...client, apiUrl: checkUrl('serviceKey.uri', record.uri) as string, system: 'ctms' };
  }
  const endpoints = record.endpoints as Record<string, unknown> | undefined;
  const api =
    typeof endpoints?.Api === 'string'
      ? endpoints.Api
      : typeof endpoints?.api === 'string'
        ? endpoints.api
        : undefined;
  return { ...client, ...(api ? { apiUrl: checkUrl('serviceKey.endpoints.Api', api) as string } : {}) };
}

/** The type a credential gets when none is given: a CTMS or Cloud Integration key is an OAuth client. */
export function defaultType(serviceKey: unknown): CredentialType {
  return serviceKey !== undefined && readServiceKey(serviceKey).system
    ? 'oauth2_client_credentials'
    : 'cloud_alm';
}

/** The system a credential gets when none is given: the key's, else by type. */
export function impliedSystem(type: CredentialType, serviceKey: unknown): CredentialSystem {
  return (serviceKey === undefined ? undefined : readServiceKey(serviceKey).system) ?? defaultSystem(type);
}

const required = (field: string, value: string | undefined, type: string): string => {
  if (value === undefined || value.trim() === '') throw invalidField(field, `is required for type ${type}`);
  return value;
};

const refuse = (fields: CredentialFields, names: Array<keyof CredentialFields>, type: string) => {
  for (const name of names)
    if (fields[name] !== undefined) throw invalidField(name, `does not apply to type ${type}`);
};

/** The OAuth client part shared by Cloud ALM and generic client-credentials credentials. */
function oauthClient(type: CredentialType, fields: CredentialFields, fromKey: ServiceKeyFields | undefined) {
  return {
    settings: {
      apiUrl: checkUrl('apiUrl', fields.apiUrl) ?? fromKey?.apiUrl,
      clientId: fromKey?.clientId ?? required('clientId', fields.clientId, type).trim(),
      scope: fields.scope,
      clientAuthentication: fields.clientAuthentication,
    },
    secret: { clientSecret: fromKey?.clientSecret ?? required('clientSecret', fields.clientSecret, type) },
  };
}

/**
 * Turns submitted fields into stored settings and secret, by type and system; every error names
 * its field. CTMS and Cloud Integration credentials need an API URL (a Cloud Integration one
 * ends in /api/v1, added when missing).
 */
export function normaliseCredential(
  type: CredentialType,
  fields: CredentialFields,
  system: CredentialSystem = defaultSystem(type),
): { settings: CredentialSettings; secret: CredentialSecret } {
  const fromKey = fields.serviceKey === undefined ? undefined : readServiceKey(fields.serviceKey);
  if (fromKey) refuse(fields, ['clientId', 'clientSecret', 'url'], `${type} with a serviceKey`);
  const { settings, secret } = bySystemType(type, fields, fromKey);
  if (fromKey?.system && fromKey.system !== system)
    throw invalidField(
      'serviceKey',
      `is a ${SYSTEM_LABEL[fromKey.system]} service key; it does not fit a credential of system ${system}`,
    );
  if (system === 'ctms' || system === 'cloud_integration') {
    const apiUrl = required('apiUrl', settings.apiUrl, `${type} with system ${system}`);
    settings.apiUrl = system === 'cloud_integration' ? cloudIntegrationApiBase(apiUrl) : apiUrl;
  }
  return { settings, secret };
}

function bySystemType(
  type: CredentialType,
  fields: CredentialFields,
  fromKey: ServiceKeyFields | undefined,
): { settings: CredentialSettings; secret: CredentialSecret } {
  switch (type) {
    case 'cloud_alm': {
      refuse(fields, ['username', 'password'], type);
      if (fromKey?.system)
        throw invalidField(
          'type',
          `must be oauth2_client_credentials for a ${SYSTEM_LABEL[fromKey.system]} service key`,
        );
      const url = checkUrl('url', fromKey?.url ?? required('url', fields.url, type)) as string;
      const client = oauthClient(type, fields, fromKey);
      return {
        settings: {
          url,
          tokenUrl: checkUrl('tokenUrl', fields.tokenUrl) ?? tokenUrlFor(url),
          ...client.settings,
        },
        secret: client.secret,
      };
    }
    case 'oauth2_client_credentials': {
      refuse(fields, ['username', 'password'], type);
      const fromKeyTokenUrl = fromKey?.tokenUrl ?? (fromKey?.url ? tokenUrlFor(fromKey.url) : undefined);
      const tokenUrl = fields.tokenUrl ?? fromKeyTokenUrl ?? required('tokenUrl', undefined, type);
      const client = oauthClient(type, fields, fromKey);
      return {
        settings: { tokenUrl: checkUrl('tokenUrl', tokenUrl), ...client.settings },
        secret: client.secret,
      };
    }
    case 'basic': {
      refuse(
        fields,
        ['serviceKey', 'clientId', 'clientSecret', 'tokenUrl', 'scope', 'clientAuthentication'],
        type,
      );
      return {
        settings: {
          url: checkUrl('url', fields.url),
          apiUrl: checkUrl('apiUrl', fields.apiUrl),
          username: required('username', fields.username, type).trim(),
        },
        secret: { password: required('password', fields.password, type) },
      };
    }
  }
}

export function defaultSystem(type: CredentialType): CredentialSystem {
  return type === 'cloud_alm' ? 'cloud_alm' : 'generic';
}
