import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import { checkStorable } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import type { TlsMaterial } from './push/agents.js';
import type { EamRuntime } from './runtime.js';
import type { EamDestinationTable, EamExecutor } from './tables.js';

/** BTP authentication types Cloud ALM accepts (reference §2.2, CONFIRMED). */
export const AUTHENTICATION_TYPES = [
  'BasicAuthentication',
  'OAuth2ClientCredentials',
  'ClientCertificateAuthentication',
  'NoAuthentication',
] as const;
export type AuthenticationType = (typeof AUTHENTICATION_TYPES)[number];
export const PROXY_TYPES = ['Internet', 'OnPremise', 'PrivateLink'] as const;

/** Keys whose values are sealed at rest and never returned (BTP hides them as well). */
export const SECRET_KEYS = new Set([
  'Password',
  'clientSecret',
  'tokenServicePassword',
  'KeyStorePassword',
  'TrustStorePassword',
  'tokenService.KeyStorePassword',
]);

/** Keys whose values are shown: everything else is sealed and left out of answers, like the named secrets. */
export const PUBLIC_KEYS = new Set([
  'Name',
  'Type',
  'URL',
  'ProxyType',
  'Authentication',
  'Description',
  'User',
  'Preemptive',
  'clientId',
  'tokenServiceURL',
  'tokenServiceURLType',
  'tokenServiceUser',
  'tokenServiceURL.ConnectionTimeoutInSeconds',
  'scope',
  'KeyStoreLocation',
  'TrustStoreLocation',
  'TrustAll',
]);

/**
 * Sealed at rest and never returned: the named secrets, and also static headers and query
 * parameters (`URL.headers.*`, `URL.queries.*`, the same under `tokenServiceURL.`) and custom
 * properties, which often carry API keys; the console masks them too.
 */
export function isSealedKey(key: string): boolean {
  return SECRET_KEYS.has(key) || !PUBLIC_KEYS.has(key);
}

const REQUIRED: Record<AuthenticationType, string[]> = {
  BasicAuthentication: ['User', 'Password'],
  OAuth2ClientCredentials: ['clientId', 'tokenServiceURL'],
  ClientCertificateAuthentication: ['KeyStoreLocation'],
  NoAuthentication: [],
};

/** A destination as the BTP Destination service describes it: flat string-valued JSON keys. */
export type DestinationJson = Record<string, string>;

export interface ResolvedDestination {
  name: string;
  url: string;
  authentication: AuthenticationType;
  updatedAt: number;
  /** Every property, secrets included (only inside the push engine). */
  properties: Record<string, string>;
  tls: TlsMaterial | undefined;
}

const MAX_VALUE = 64 * 1024;

function isHttpUrl(value: string, httpsOnly = false): boolean {
  try {
    const url = new URL(value);
    return httpsOnly ? url.protocol === 'https:' : url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Checks a destination JSON and splits it into columns, public properties and secrets. */
export function parseDestination(
  input: unknown,
  existingSecrets: Record<string, string> = {},
): {
  name: string;
  description: string | null;
  url: string;
  proxyType: string;
  authentication: AuthenticationType;
  properties: Record<string, string>;
  secrets: Record<string, string>;
  warnings: string[];
} {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw badRequest('The destination must be a JSON object of BTP destination properties');
  const body = input as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value !== 'string')
      throw badRequest(`Destination property '${key}' must be a string (BTP destination values are strings)`);
    if (key.length === 0 || key.length > 200)
      throw badRequest('Destination property names must be 1..200 characters');
    if (value.length > MAX_VALUE) throw badRequest(`Destination property '${key}' is too long`);
    checkStorable(value, `Destination property '${key}'`);
    checkStorable(key, 'A destination property name');
    values[key] = value;
  }
  const name = values.Name;
  if (!name) throw badRequest("Property 'Name' is required");
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(name))
    throw badRequest("Property 'Name' may contain only letters, digits, '-' and '_' (as on BTP)");
  const type = values.Type ?? 'HTTP';
  if (type !== 'HTTP') throw badRequest("Property 'Type' must be 'HTTP'");
  const url = values.URL;
  if (!url) throw badRequest("Property 'URL' is required");
  if (!isHttpUrl(url)) throw badRequest("Property 'URL' must be an absolute http:// or https:// URL");
  const proxyType = values.ProxyType ?? 'Internet';
  if (!(PROXY_TYPES as readonly string[]).includes(proxyType))
    throw badRequest(`Property 'ProxyType' must be one of ${PROXY_TYPES.join(', ')}`);
  const authentication = values.Authentication as AuthenticationType | undefined;
  if (!authentication || !(AUTHENTICATION_TYPES as readonly string[]).includes(authentication))
    throw badRequest(`Property 'Authentication' must be one of ${AUTHENTICATION_TYPES.join(', ')}`);

  const secrets: Record<string, string> = {};
  const properties: Record<string, string> = {};
  const removed = new Set<string>();
  for (const [key, value] of Object.entries(values)) {
    // An empty header, query parameter or custom property removes the stored one (it cannot be read back).
    if (isSealedKey(key) && !SECRET_KEYS.has(key) && value === '') removed.add(key);
    else if (isSealedKey(key)) secrets[key] = value;
    else properties[key] = value;
  }
  // A secret left out of an update keeps its stored value, so editing a URL does not need the password.
  for (const [key, value] of Object.entries(existingSecrets))
    if (!(key in secrets) && !removed.has(key)) secrets[key] = value;
  properties.Type = type;
  properties.ProxyType = proxyType;

  for (const key of REQUIRED[authentication]) {
    if (!(key in properties) && !(key in secrets))
      throw badRequest(`Property '${key}' is required for Authentication '${authentication}'`);
  }
  if (authentication === 'OAuth2ClientCredentials') {
    if (!isHttpUrl(properties.tokenServiceURL ?? ''))
      throw badRequest("Property 'tokenServiceURL' must be an absolute http:// or https:// URL");
    const type = properties.tokenServiceURLType;
    if (type !== undefined && type !== 'Dedicated' && type !== 'Common')
      throw badRequest("Property 'tokenServiceURLType' must be 'Dedicated' or 'Common'");
  }
  if (authentication === 'ClientCertificateAuthentication' && !isHttpUrl(url, true))
    throw badRequest("ClientCertificateAuthentication needs an https:// 'URL'");
  if (authentication === 'BasicAuthentication') {
    const preemptive = properties.Preemptive;
    if (preemptive !== undefined && preemptive !== 'true' && preemptive !== 'false')
      throw badRequest("Property 'Preemptive' must be 'true' or 'false'");
  }
  const warnings: string[] = [];
  if (authentication === 'NoAuthentication')
    warnings.push(
      'Cloud ALM does not support unauthenticated destinations for ticket systems; NoAuthentication is accepted for local tests only',
    );
  if (proxyType !== 'Internet')
    warnings.push(`ProxyType ${proxyType} is not emulated: the sandbox connects directly, as for Internet`);
  if (Object.keys(properties).some((key) => /^URL\.headers\.authorization$/i.test(key)))
    warnings.push('Cloud ALM does not support authentication through URL.headers.* properties');
  return {
    name,
    description: properties.Description ?? null,
    url,
    proxyType,
    authentication,
    properties,
    secrets,
    warnings,
  };
}

function publicJson(row: EamDestinationTable): DestinationJson {
  return readJson<Record<string, string>>(row.properties);
}

/** What the API answers: rows saved before headers and custom properties were sealed hold them in plain text. */
function shownJson(row: EamDestinationTable): DestinationJson {
  return Object.fromEntries(Object.entries(publicJson(row)).filter(([key]) => !isSealedKey(key)));
}

function openSecrets(runtime: EamRuntime, row: EamDestinationTable): Record<string, string> {
  const plain = runtime.ctx.secrets.open(row.secrets_sealed);
  if (plain === undefined)
    throw new CalmError(
      409,
      `The secrets of destination ${row.name} were sealed with another master key; save it again`,
    );
  return JSON.parse(plain) as Record<string, string>;
}

export async function listDestinations(db: EamExecutor): Promise<DestinationJson[]> {
  const rows = await db.selectFrom('eam_destinations').selectAll().orderBy('name').execute();
  return rows.map(shownJson);
}

async function destinationRow(db: EamExecutor, name: string): Promise<EamDestinationTable | undefined> {
  return db.selectFrom('eam_destinations').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function getDestination(db: EamExecutor, name: string): Promise<DestinationJson> {
  const row = await destinationRow(db, name);
  if (!row) throw notFound(`No destination ${name}`);
  return shownJson(row);
}

export async function saveDestination(
  runtime: EamRuntime,
  input: unknown,
  mode: { create: true } | { create: false; name: string },
): Promise<{ destination: DestinationJson; warnings: string[] }> {
  const existing = mode.create ? undefined : await destinationRow(runtime.db, mode.name);
  if (!mode.create && !existing) throw notFound(`No destination ${mode.name}`);
  // Rows saved before headers and custom properties were sealed: a save seals what it keeps of them.
  const kept = existing
    ? {
        ...Object.fromEntries(Object.entries(publicJson(existing)).filter(([key]) => isSealedKey(key))),
        ...openSecrets(runtime, existing),
      }
    : {};
  const parsed = parseDestination(input, kept);
  if (!mode.create && parsed.name !== mode.name)
    throw badRequest(`The destination Name cannot change (path says ${mode.name}, body says ${parsed.name})`);
  if (parsed.authentication === 'ClientCertificateAuthentication') {
    await requireCertificate(runtime.db, parsed.properties.KeyStoreLocation ?? '', 'KEYSTORE');
  }
  if (parsed.properties.TrustStoreLocation)
    await requireCertificate(runtime.db, parsed.properties.TrustStoreLocation, undefined);
  const now = runtime.ctx.now();
  const values = {
    name: parsed.name,
    description: parsed.description,
    type: 'HTTP',
    url: parsed.url,
    proxy_type: parsed.proxyType,
    authentication: parsed.authentication,
    properties: writeJson(parsed.properties),
    secrets_sealed: runtime.ctx.secrets.seal(JSON.stringify(parsed.secrets)),
    updated_at: now,
  };
  if (mode.create) {
    if (await destinationRow(runtime.db, parsed.name))
      throw new CalmError(409, `A destination named ${parsed.name} already exists`);
    await runtime.db
      .insertInto('eam_destinations')
      .values({ ...values, created_at: now })
      .execute();
  } else {
    await runtime.db.updateTable('eam_destinations').set(values).where('name', '=', parsed.name).execute();
  }
  runtime.tokens.invalidatePrefix(`${parsed.name}\u0000`);
  runtime.agents.drop(`${parsed.name}\u0000`);
  return { destination: parsed.properties, warnings: parsed.warnings };
}

export async function deleteDestination(runtime: EamRuntime, name: string): Promise<void> {
  const used = await runtime.db
    .selectFrom('eam_webhooks')
    .select('name')
    .where('destination_name', '=', name)
    .executeTakeFirst();
  if (used) throw new CalmError(409, `Destination ${name} is used by webhook ${used.name}`);
  const result = await runtime.db.deleteFrom('eam_destinations').where('name', '=', name).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(`No destination ${name}`);
  runtime.tokens.invalidatePrefix(`${name}\u0000`);
  runtime.agents.drop(`${name}\u0000`);
}

/** The destination with its secrets and TLS material, for one outbound call. */
export async function resolveDestination(
  runtime: EamRuntime,
  name: string,
): Promise<ResolvedDestination | undefined> {
  const row = await destinationRow(runtime.db, name);
  if (!row) return undefined;
  const properties = { ...publicJson(row), ...openSecrets(runtime, row) };
  let tls: TlsMaterial | undefined;
  if (row.authentication === 'ClientCertificateAuthentication') {
    const keyStore = await certificateContent(runtime, properties.KeyStoreLocation ?? '');
    tls = {
      cert: keyStore,
      key: keyStore,
      ...(properties.KeyStorePassword ? { passphrase: properties.KeyStorePassword } : {}),
    };
  }
  if (properties.TrustStoreLocation) {
    tls = { ...tls, ca: await certificateContent(runtime, properties.TrustStoreLocation) };
  }
  if (properties.TrustAll === 'true') tls = { ...tls, trustAll: true };
  return {
    name: row.name,
    url: row.url,
    authentication: row.authentication as AuthenticationType,
    updatedAt: Number(row.updated_at),
    properties,
    tls,
  };
}

// Certificates (BTP cockpit: Destinations > Certificates), referenced by KeyStoreLocation / TrustStoreLocation.

export interface CertificateInfo {
  name: string;
  /** KEYSTORE: a certificate chain with its private key; TRUSTSTORE: certificates only. */
  kind: 'KEYSTORE' | 'TRUSTSTORE';
  subject: string | null;
  notAfter: string | null;
  createdAt: string;
}

function toCertificateInfo(row: {
  name: string;
  kind: string;
  subject: string | null;
  not_after: string | null;
  created_at: number;
}): CertificateInfo {
  return {
    name: row.name,
    kind: row.kind as CertificateInfo['kind'],
    subject: row.subject,
    notAfter: row.not_after,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

export async function listCertificates(db: EamExecutor): Promise<CertificateInfo[]> {
  const rows = await db
    .selectFrom('eam_certificates')
    .select(['name', 'kind', 'subject', 'not_after', 'created_at'])
    .orderBy('name')
    .execute();
  return rows.map(toCertificateInfo);
}

export async function saveCertificate(
  runtime: EamRuntime,
  input: { name: string; content: string; password?: string | undefined },
): Promise<CertificateInfo> {
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(input.name))
    throw badRequest("Certificate 'name' may contain only letters, digits, '.', '-' and '_'");
  checkStorable(input.content, "Certificate 'content'");
  const certBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(input.content);
  if (!certBlock)
    throw badRequest("Certificate 'content' must contain a PEM certificate (-----BEGIN CERTIFICATE-----)");
  let subject: string | null = null;
  let notAfter: string | null = null;
  try {
    const x509 = new X509Certificate(certBlock[0]);
    subject = x509.subject.replaceAll('\n', ', ');
    notAfter = new Date(x509.validTo).toISOString();
  } catch (error) {
    throw badRequest(`Certificate 'content' is not a valid PEM certificate: ${(error as Error).message}`);
  }
  const keyBlock = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/.exec(
    input.content,
  );
  if (keyBlock) {
    try {
      createPrivateKey({ key: keyBlock[0], ...(input.password ? { passphrase: input.password } : {}) });
    } catch (error) {
      throw badRequest(`The private key in 'content' cannot be read: ${(error as Error).message}`);
    }
  }
  const row = {
    name: input.name,
    content_sealed: runtime.ctx.secrets.seal(input.content),
    kind: keyBlock ? 'KEYSTORE' : 'TRUSTSTORE',
    subject,
    not_after: notAfter,
    created_at: runtime.ctx.now(),
  };
  await runtime.db
    .insertInto('eam_certificates')
    .values(row)
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({
        content_sealed: row.content_sealed,
        kind: row.kind,
        subject: row.subject,
        not_after: row.not_after,
      }),
    )
    .execute();
  runtime.agents.drop('');
  return toCertificateInfo(row);
}

export async function deleteCertificate(runtime: EamRuntime, name: string): Promise<void> {
  const result = await runtime.db.deleteFrom('eam_certificates').where('name', '=', name).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(`No certificate ${name}`);
}

async function requireCertificate(
  db: EamExecutor,
  name: string,
  kind: 'KEYSTORE' | undefined,
): Promise<void> {
  const row = await db
    .selectFrom('eam_certificates')
    .select('kind')
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row)
    throw badRequest(`No certificate named '${name}'; upload it with POST /admin/eam/certificates first`);
  if (kind && row.kind !== kind)
    throw badRequest(`Certificate '${name}' has no private key, so it cannot serve as KeyStoreLocation`);
}

async function certificateContent(runtime: EamRuntime, name: string): Promise<string> {
  const row = await runtime.db
    .selectFrom('eam_certificates')
    .select('content_sealed')
    .where('name', '=', name)
    .executeTakeFirst();
  const content = row ? runtime.ctx.secrets.open(row.content_sealed) : undefined;
  if (content === undefined) throw new Error(`certificate ${name} is missing or unreadable`);
  return content;
}
