import { AppError } from '@calmhub/platform';
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

/**
 * A BTP service key as pasted from the cockpit: `uaa.clientid/clientsecret/url` and
 * `endpoints.Api`. A flat key (the `uaa` block alone) is read the same way.
 */
export function readServiceKey(value: unknown): {
  clientId: string;
  clientSecret: string;
  url: string;
  apiUrl?: string;
} {
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
  const record = key as Record<string, unknown>;
  const uaa = (typeof record.uaa === 'object' && record.uaa !== null ? record.uaa : record) as Record<
    string,
    unknown
  >;
  const field = (name: string) => {
    const v = uaa[name];
    if (typeof v !== 'string' || v.trim() === '') throw invalidField(`serviceKey.uaa.${name}`, 'is missing');
    return v.trim();
  };
  const endpoints = record.endpoints as Record<string, unknown> | undefined;
  const api =
    typeof endpoints?.Api === 'string'
      ? endpoints.Api
      : typeof endpoints?.api === 'string'
        ? endpoints.api
        : undefined;
  return {
    clientId: field('clientid'),
    clientSecret: field('clientsecret'),
    url: checkUrl('serviceKey.uaa.url', field('url')) as string,
    ...(api ? { apiUrl: checkUrl('serviceKey.endpoints.Api', api) as string } : {}),
  };
}

const required = (field: string, value: string | undefined, type: string): string => {
  if (value === undefined || value.trim() === '') throw invalidField(field, `is required for type ${type}`);
  return value;
};

const refuse = (fields: CredentialFields, names: Array<keyof CredentialFields>, type: string) => {
  for (const name of names)
    if (fields[name] !== undefined) throw invalidField(name, `does not apply to type ${type}`);
};

type ServiceKeyFields = ReturnType<typeof readServiceKey>;

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

/** Turns submitted fields into stored settings and secret, by type; every error names its field. */
export function normaliseCredential(
  type: CredentialType,
  fields: CredentialFields,
): { settings: CredentialSettings; secret: CredentialSecret } {
  const fromKey = fields.serviceKey === undefined ? undefined : readServiceKey(fields.serviceKey);
  if (fromKey) refuse(fields, ['clientId', 'clientSecret', 'url'], `${type} with a serviceKey`);
  switch (type) {
    case 'cloud_alm': {
      refuse(fields, ['username', 'password'], type);
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
      const tokenUrl =
        fields.tokenUrl ?? (fromKey ? tokenUrlFor(fromKey.url) : required('tokenUrl', undefined, type));
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
