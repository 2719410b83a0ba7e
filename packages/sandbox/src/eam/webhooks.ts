import { randomUUID } from 'node:crypto';
import { asBody, type Body, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import type { EamRuntime } from './runtime.js';
import type { EamExecutor, EamWebhookTable } from './tables.js';

/** A Cloud ALM webhook (reference §3): where change messages go, through which destination. */
export interface Webhook {
  id: string;
  name: string;
  description: string | null;
  destinationName: string;
  path: string;
  destinationType: string;
  externalResourceType: string;
  createdAt: string;
  updatedAt: string;
}

function toWebhook(row: EamWebhookTable): Webhook {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    destinationName: row.destination_name,
    path: row.path,
    destinationType: row.destination_type,
    externalResourceType: row.external_resource_type,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

const FIELDS = ['name', 'description', 'destinationName', 'path', 'destinationType', 'externalResourceType'];

function readInput(raw: unknown, partial: boolean): Partial<Omit<Webhook, 'id' | 'createdAt' | 'updatedAt'>> {
  const body: Body = asBody(raw);
  rejectUnknown(body, FIELDS);
  const name = partial ? (str(body, 'name', { max: 200 }) ?? undefined) : requiredStr(body, 'name', 200);
  const destinationName = partial
    ? (str(body, 'destinationName', { max: 200 }) ?? undefined)
    : requiredStr(body, 'destinationName', 200);
  // SAP's guides write paths with or without a leading slash (`ratesaptms/webhook/...?secretKey=...`);
  // both are accepted, and `webhookUrl` joins them to the destination URL with one slash.
  const path = str(body, 'path', { max: 2000 });
  if (path && /\s/.test(path)) throw badRequest("Property 'path' must not contain whitespace");
  if (path && /^[a-z][a-z0-9+.-]*:\/\//i.test(path))
    throw badRequest("Property 'path' is appended to the destination URL; put the host in the destination");
  const description = str(body, 'description', { max: 2000 });
  const destinationType = str(body, 'destinationType', { max: 100 });
  const externalResourceType = str(body, 'externalResourceType', { max: 100 });
  return {
    ...(name !== undefined ? { name } : {}),
    ...(destinationName !== undefined ? { destinationName } : {}),
    ...(path !== undefined ? { path: path ?? '' } : partial ? {} : { path: '' }),
    ...(description !== undefined ? { description } : {}),
    ...(destinationType !== undefined
      ? { destinationType: destinationType ?? 'Other' }
      : partial
        ? {}
        : { destinationType: 'Other' }),
    ...(externalResourceType !== undefined
      ? { externalResourceType: externalResourceType ?? '' }
      : partial
        ? {}
        : { externalResourceType: '' }),
  };
}

/**
 * The URL a delivery goes to: destination URL, then the webhook path, then the operation path of
 * the mapping (reference: plain concatenation). Two departures from bare concatenation, both for
 * paths as SAP's partner guides write them:
 * - a webhook path without a leading slash (`ratesaptms/webhook/.../sync?secretKey=abc`) is joined
 *   to the destination URL with exactly one slash, whether or not the URL ends with one;
 * - when the webhook path carries a query string, the operation path goes before it, and the
 *   operation path's own query (if any) is appended with `&`, so the webhook's query survives.
 */
export function webhookUrl(
  destinationUrl: string,
  webhookPath: string | null | undefined,
  operationPath = '',
): string {
  const path = webhookPath ?? '';
  const query = path.indexOf('?');
  const pathPart = query < 0 ? path : path.slice(0, query);
  const queryPart = query < 0 ? '' : path.slice(query);
  const joined =
    path === '' || path.startsWith('/') || path.startsWith('?')
      ? destinationUrl + pathPart
      : `${destinationUrl.replace(/\/+$/, '')}/${pathPart}`;
  if (!queryPart) return joined + operationPath;
  const opQuery = operationPath.indexOf('?');
  const opPath = opQuery < 0 ? operationPath : operationPath.slice(0, opQuery);
  const extra = opQuery < 0 ? '' : operationPath.slice(opQuery + 1);
  const separator = queryPart === '?' || queryPart.endsWith('&') ? '' : '&';
  return `${joined}${opPath}${queryPart}${extra ? `${separator}${extra}` : ''}`;
}

async function requireDestination(db: EamExecutor, name: string): Promise<void> {
  const row = await db
    .selectFrom('eam_destinations')
    .select('name')
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row)
    throw badRequest(`No destination named '${name}'; create it first (POST /admin/eam/destinations)`);
}

async function requireUniqueName(db: EamExecutor, name: string, id?: string): Promise<void> {
  const row = await db.selectFrom('eam_webhooks').select('id').where('name', '=', name).executeTakeFirst();
  if (row && row.id !== id) throw new CalmError(409, `A webhook named ${name} already exists`);
}

export async function listWebhooks(db: EamExecutor): Promise<Webhook[]> {
  return (await db.selectFrom('eam_webhooks').selectAll().orderBy('name').execute()).map(toWebhook);
}

export async function webhookRow(db: EamExecutor, id: string): Promise<EamWebhookTable | undefined> {
  return db.selectFrom('eam_webhooks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getWebhook(db: EamExecutor, id: string): Promise<Webhook> {
  const row = await webhookRow(db, id);
  if (!row) throw notFound(`No webhook ${id}`);
  return toWebhook(row);
}

export async function createWebhook(runtime: EamRuntime, raw: unknown): Promise<Webhook> {
  const input = readInput(raw, false);
  await requireDestination(runtime.db, input.destinationName as string);
  await requireUniqueName(runtime.db, input.name as string);
  const now = runtime.ctx.now();
  const row: EamWebhookTable = {
    id: randomUUID(),
    name: input.name as string,
    description: input.description ?? null,
    destination_name: input.destinationName as string,
    path: input.path ?? '',
    destination_type: input.destinationType ?? 'Other',
    external_resource_type: input.externalResourceType ?? '',
    created_at: now,
    updated_at: now,
  };
  await runtime.db.insertInto('eam_webhooks').values(row).execute();
  return toWebhook(row);
}

export async function updateWebhook(runtime: EamRuntime, id: string, raw: unknown): Promise<Webhook> {
  const existing = await webhookRow(runtime.db, id);
  if (!existing) throw notFound(`No webhook ${id}`);
  const input = readInput(raw, true);
  if (input.destinationName) await requireDestination(runtime.db, input.destinationName);
  if (input.name) await requireUniqueName(runtime.db, input.name, id);
  const row: EamWebhookTable = {
    ...existing,
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.destinationName !== undefined ? { destination_name: input.destinationName } : {}),
    ...(input.path !== undefined ? { path: input.path } : {}),
    ...(input.destinationType !== undefined ? { destination_type: input.destinationType } : {}),
    ...(input.externalResourceType !== undefined
      ? { external_resource_type: input.externalResourceType }
      : {}),
    updated_at: runtime.ctx.now(),
  };
  await runtime.db.updateTable('eam_webhooks').set(row).where('id', '=', id).execute();
  return toWebhook(row);
}

export async function deleteWebhook(runtime: EamRuntime, id: string): Promise<void> {
  const used = await runtime.db
    .selectFrom('eam_subscriptions')
    .select('name')
    .where('webhook_id', '=', id)
    .executeTakeFirst();
  if (used) throw new CalmError(409, `Webhook ${id} is used by subscription ${used.name}`);
  const result = await runtime.db.deleteFrom('eam_webhooks').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(`No webhook ${id}`);
}
