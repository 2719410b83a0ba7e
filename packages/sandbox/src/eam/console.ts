import { readJson } from '@calmhub/platform';
import { badRequest, notFound } from '../shared/errors.js';
import type { EamAttemptTable, EamDeliveryTable, EamExecutor } from './tables.js';

export interface ConsoleAttempt {
  id: number;
  time: string;
  deliveryId: string;
  subscriptionId: string;
  eventId: string | null;
  resourceType: string;
  eventType: string;
  resourceId: string;
  attempt: number;
  method: string | null;
  url: string | null;
  requestHeaders: Record<string, string>;
  requestBody: string | null;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string | null;
  durationMs: number;
  outcome: string;
  error: string | null;
  externalId: string | null;
  mapped: unknown;
}

export interface ConsoleDelivery {
  id: string;
  subscriptionId: string;
  eventId: string | null;
  eventSeq: number | null;
  resourceType: string;
  eventType: string;
  resourceId: string;
  state: string;
  attempts: number;
  lastOutcome: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  message: unknown;
}

function toAttempt(row: Omit<EamAttemptTable, 'id'> & { id: number | string }): ConsoleAttempt {
  return {
    id: Number(row.id),
    time: new Date(Number(row.started_at)).toISOString(),
    deliveryId: row.delivery_id,
    subscriptionId: row.subscription_id,
    eventId: row.event_id,
    resourceType: row.resource_type,
    eventType: row.event_type,
    resourceId: row.resource_id,
    attempt: row.attempt,
    method: row.method,
    url: row.url,
    requestHeaders: readJson<Record<string, string>>(row.request_headers),
    requestBody: row.request_body,
    responseStatus: row.response_status,
    responseHeaders: readJson<Record<string, string>>(row.response_headers),
    responseBody: row.response_body,
    durationMs: row.duration_ms,
    outcome: row.outcome,
    error: row.error,
    externalId: row.external_id,
    mapped: row.mapped === null ? null : readJson(row.mapped),
  };
}

export function toDelivery(row: EamDeliveryTable): ConsoleDelivery {
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    eventId: row.event_id,
    eventSeq: row.event_seq === null ? null : Number(row.event_seq),
    resourceType: row.resource_type,
    eventType: row.event_type,
    resourceId: row.resource_id,
    state: row.state,
    attempts: row.attempts,
    lastOutcome: row.last_outcome,
    lastError: row.last_error,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
    message: readJson(row.message),
  };
}

export interface ConsoleFilter {
  subscriptionId?: string | undefined;
  deliveryId?: string | undefined;
  resourceId?: string | undefined;
  resourceType?: string | undefined;
  eventType?: string | undefined;
  outcome?: string | undefined;
  state?: string | undefined;
  /** ISO timestamps bounding the attempt time (or delivery creation). */
  from?: string | undefined;
  to?: string | undefined;
  limit?: string | number | undefined;
  /** Paging: only entries older than this id (attempts) — the last id of the previous page. */
  before?: string | number | undefined;
}

function time(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw badRequest(`Query parameter '${name}' must be an ISO timestamp`);
  return parsed;
}

function limitOf(value: string | number | undefined): number {
  if (value === undefined || value === '') return 100;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 1000)
    throw badRequest("Query parameter 'limit' must be 1..1000");
  return parsed;
}

/** Newest first. */
export async function queryAttempts(db: EamExecutor, filter: ConsoleFilter): Promise<ConsoleAttempt[]> {
  let query = db.selectFrom('eam_attempts').selectAll();
  if (filter.subscriptionId) query = query.where('subscription_id', '=', filter.subscriptionId);
  if (filter.deliveryId) query = query.where('delivery_id', '=', filter.deliveryId);
  if (filter.resourceId) query = query.where('resource_id', '=', filter.resourceId);
  if (filter.resourceType) query = query.where('resource_type', '=', filter.resourceType);
  if (filter.eventType) query = query.where('event_type', '=', filter.eventType);
  if (filter.outcome) query = query.where('outcome', '=', filter.outcome);
  const from = time(filter.from, 'from');
  const to = time(filter.to, 'to');
  if (from !== undefined) query = query.where('started_at', '>=', from);
  if (to !== undefined) query = query.where('started_at', '<=', to);
  if (filter.before !== undefined && filter.before !== '') {
    const before = Number(filter.before);
    if (!Number.isInteger(before)) throw badRequest("Query parameter 'before' must be an attempt id");
    query = query.where('id', '<', before);
  }
  const rows = await query.orderBy('id', 'desc').limit(limitOf(filter.limit)).execute();
  return rows.map((row) => toAttempt(row));
}

export async function queryDeliveries(db: EamExecutor, filter: ConsoleFilter): Promise<ConsoleDelivery[]> {
  let query = db.selectFrom('eam_deliveries').selectAll();
  if (filter.subscriptionId) query = query.where('subscription_id', '=', filter.subscriptionId);
  if (filter.resourceId) query = query.where('resource_id', '=', filter.resourceId);
  if (filter.resourceType) query = query.where('resource_type', '=', filter.resourceType);
  if (filter.eventType) query = query.where('event_type', '=', filter.eventType);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.outcome) query = query.where('last_outcome', '=', filter.outcome);
  const from = time(filter.from, 'from');
  const to = time(filter.to, 'to');
  if (from !== undefined) query = query.where('created_at', '>=', from);
  if (to !== undefined) query = query.where('created_at', '<=', to);
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limitOf(filter.limit))
    .execute();
  return rows.map(toDelivery);
}

export async function getDelivery(
  db: EamExecutor,
  id: string,
): Promise<ConsoleDelivery & { attemptLog: ConsoleAttempt[] }> {
  const row = await db.selectFrom('eam_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`No delivery ${id}`);
  const attempts = await db
    .selectFrom('eam_attempts')
    .selectAll()
    .where('delivery_id', '=', id)
    .orderBy('id')
    .execute();
  return { ...toDelivery(row), attemptLog: attempts.map((attempt) => toAttempt(attempt)) };
}
