import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import type { ClientTable, SandboxExecutor } from '../store/tables.js';
import { ALL_SCOPES, fullScope } from './scopes.js';

export interface TechnicalClient {
  clientId: string;
  name: string;
  /** Short scope names (`tasks.read`); tokens carry them prefixed with the xsappname. */
  scopes: string[];
  /** Projects the client may see; null means every project. */
  projectIds: string[] | null;
  isDefault: boolean;
  createdAt: string;
}

/** The BTP service key layout (reference §1.1) plus a `sandbox` block naming the grants. */
export interface ServiceKey {
  uaa: {
    clientid: string;
    clientsecret: string;
    url: string;
    uaadomain: string;
    identityzone: string;
    tenantid: string;
    xsappname: string;
    'credential-type': 'binding-secret';
  };
  endpoints: { Api: string };
  sandbox: { scopes: string[]; projectIds: string[] | null; tokenUrl: string };
}

export interface NewClient {
  name: string;
  scopes?: string[] | undefined;
  projectIds?: string[] | null | undefined;
  isDefault?: boolean;
}

function toClient(row: ClientTable): TechnicalClient {
  return {
    clientId: row.client_id,
    name: row.name,
    scopes: readJson<string[]>(row.scopes),
    projectIds: readJson<string[] | null>(row.project_ids) ?? null,
    isDefault: row.is_default === 1,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** XSUAA-looking credentials: ids with `!b` and `|`, secrets with `$` and `=`, so clients must encode them. */
function newClientId(xsappname: string): string {
  const build = 10000 + (randomBytes(2).readUInt16BE(0) % 89999);
  return `sb-${randomUUID()}!b${build}|${xsappname}`;
}

function newSecret(): string {
  return `${randomUUID()}$${randomBytes(24).toString('base64url')}=`;
}

export async function createClient(
  ctx: SandboxContext,
  input: NewClient,
): Promise<{ client: TechnicalClient; secret: string }> {
  const secret = newSecret();
  const row: ClientTable = {
    client_id: newClientId(ctx.xsappname),
    name: input.name,
    secret_sealed: ctx.secrets.seal(secret),
    scopes: writeJson(input.scopes ?? [...ALL_SCOPES]),
    project_ids: writeJson(input.projectIds ?? null),
    is_default: input.isDefault ? 1 : 0,
    created_at: ctx.now(),
  };
  await ctx.db.insertInto('sandbox_clients').values(row).execute();
  return { client: toClient(row), secret };
}

export async function listClients(db: SandboxExecutor): Promise<TechnicalClient[]> {
  const rows = await db
    .selectFrom('sandbox_clients')
    .selectAll()
    .orderBy('created_at')
    .orderBy('client_id')
    .execute();
  return rows.map(toClient);
}

export async function getClient(db: SandboxExecutor, clientId: string): Promise<TechnicalClient | undefined> {
  const row = await db
    .selectFrom('sandbox_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return row ? toClient(row) : undefined;
}

export async function defaultClient(db: SandboxExecutor): Promise<TechnicalClient | undefined> {
  const row = await db
    .selectFrom('sandbox_clients')
    .selectAll()
    .where('is_default', '=', 1)
    .executeTakeFirst();
  return row ? toClient(row) : undefined;
}

export async function updateClient(
  ctx: SandboxContext,
  clientId: string,
  patch: {
    name?: string | undefined;
    scopes?: string[] | undefined;
    projectIds?: string[] | null | undefined;
  },
): Promise<TechnicalClient | undefined> {
  const values: Partial<ClientTable> = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.scopes !== undefined) values.scopes = writeJson(patch.scopes);
  if (patch.projectIds !== undefined) values.project_ids = writeJson(patch.projectIds);
  if (Object.keys(values).length > 0) {
    await ctx.db.updateTable('sandbox_clients').set(values).where('client_id', '=', clientId).execute();
  }
  return getClient(ctx.db, clientId);
}

export async function deleteClient(ctx: SandboxContext, clientId: string): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('sandbox_clients')
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function rotateClientSecret(ctx: SandboxContext, clientId: string): Promise<string | undefined> {
  const secret = newSecret();
  const result = await ctx.db
    .updateTable('sandbox_clients')
    .set({ secret_sealed: ctx.secrets.seal(secret) })
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0 ? secret : undefined;
}

/** The stored secret in clear, for the service key; undefined if it was sealed with another master key. */
export async function clientSecret(ctx: SandboxContext, clientId: string): Promise<string | undefined> {
  const row = await ctx.db
    .selectFrom('sandbox_clients')
    .select('secret_sealed')
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return row ? ctx.secrets.open(row.secret_sealed) : undefined;
}

export function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export async function verifyClientCredentials(
  ctx: SandboxContext,
  clientId: string,
  secret: string,
): Promise<TechnicalClient | undefined> {
  const row = await ctx.db
    .selectFrom('sandbox_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  if (!row) return undefined;
  const stored = ctx.secrets.open(row.secret_sealed);
  return stored !== undefined && secretsEqual(stored, secret) ? toClient(row) : undefined;
}

export function buildServiceKey(
  ctx: SandboxContext,
  client: TechnicalClient,
  secret: string,
  tenantId: string,
): ServiceKey {
  const base = ctx.publicUrl();
  const host = new URL(base).hostname;
  const [, suffix] = client.clientId.split('|');
  return {
    uaa: {
      clientid: client.clientId,
      clientsecret: secret,
      url: base,
      uaadomain: host,
      identityzone: 'calm-sandbox',
      tenantid: tenantId,
      xsappname: `${client.clientId.replace(/^sb-/, '').split('|')[0]}|${suffix ?? ctx.xsappname}`,
      'credential-type': 'binding-secret',
    },
    endpoints: { Api: `${base}/api` },
    sandbox: {
      scopes: client.scopes.map((scope) => fullScope(ctx.xsappname, scope)),
      projectIds: client.projectIds,
      tokenUrl: `${base}/oauth/token`,
    },
  };
}
