import { randomUUID } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import type { Transaction } from 'kysely';
import { type EventType, withEvents } from '../events/events.js';
import { asBody, bool, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import type { SandboxTables } from '../store/tables.js';
import { compiledMapping } from './mappings.js';
import { deliverySpec, newDelivery, type TenantPayload } from './push/engine.js';
import { type EamRuntime, runtimeFor } from './runtime.js';
import type { EamAllTables, EamExecutor, EamSituationTable } from './tables.js';
import { pingWorkflows } from './workflows.js';

/** Event situation ratings (reference §4.4: switch cases FATAL, ERROR, WARNING, INFO). */
export const RATINGS = ['FATAL', 'ERROR', 'WARNING', 'INFO'] as const;

export interface Situation {
  id: string;
  status: 'OPEN' | 'CLOSED';
  startTime: string;
  updateTime: string;
  closeTime: string | null;
  timestamp: string;
  serviceId: string | null;
  serviceName: string | null;
  subject: string;
  body: string;
  rating: string;
  tags: Record<string, unknown>;
  eventName: string;
  eventType: string;
  eventSubType: string;
  workNotes: string;
  occurrences: number;
  /** Subscriptions of the "Create Ticket" reaction. */
  subscriptionIds: string[];
  // The ticket as the first reaction's response mapping describes it (reference §6).
  externalId: string | null;
  externalNumber: string | null;
  externalStatus: string | null;
  displayUrl: string | null;
  assignedTo: string | null;
  tickets: Array<{ subscriptionId: string; externalId: string | null } & Record<string, unknown>>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The resource as change messages carry it (reference §4.4 field names). */
export function situationResource(row: EamSituationTable): Record<string, unknown> {
  return {
    id: row.id,
    startTime: iso(Number(row.start_time)),
    updateTime: iso(Number(row.update_time)),
    serviceId: row.service_id ?? '',
    timestamp: iso(Number(row.timestamp)),
    subject: row.subject,
    body: row.body,
    rating: row.rating,
    tags: readJson<Record<string, unknown>>(row.tags),
    eventName: row.event_name,
    eventType: row.event_type,
    eventSubType: row.event_sub_type,
    workNotes: row.work_notes,
    serviceName: row.service_name ?? '',
    status: row.status,
    occurrences: row.occurrences,
  };
}

async function toSituation(db: EamExecutor, row: EamSituationTable): Promise<Situation> {
  const subscriptionIds = readJson<string[]>(row.subscription_ids);
  const links =
    subscriptionIds.length === 0
      ? []
      : await db
          .selectFrom('eam_links')
          .selectAll()
          .where('resource_id', '=', row.id)
          .where('subscription_id', 'in', subscriptionIds)
          .execute();
  const tickets = subscriptionIds.flatMap((subscriptionId) => {
    const link = links.find((candidate) => candidate.subscription_id === subscriptionId);
    if (!link) return [];
    const ticket: Record<string, unknown> & { subscriptionId: string; externalId: string | null } = {
      ...readJson<Record<string, unknown>>(link.fields),
      subscriptionId,
      externalId: link.external_id,
    };
    return [ticket];
  });
  const first = tickets.find((ticket) => ticket.externalId) ?? tickets[0];
  const text = (value: unknown) =>
    value === undefined || value === null || value === '' ? null : String(value);
  return {
    id: row.id,
    status: row.status as Situation['status'],
    startTime: iso(Number(row.start_time)),
    updateTime: iso(Number(row.update_time)),
    closeTime: row.close_time === null ? null : iso(Number(row.close_time)),
    timestamp: iso(Number(row.timestamp)),
    serviceId: row.service_id,
    serviceName: row.service_name,
    subject: row.subject,
    body: row.body,
    rating: row.rating,
    tags: readJson<Record<string, unknown>>(row.tags),
    eventName: row.event_name,
    eventType: row.event_type,
    eventSubType: row.event_sub_type,
    workNotes: row.work_notes,
    occurrences: row.occurrences,
    subscriptionIds,
    externalId: text(first?.externalId),
    externalNumber: text(first?.externalNumber),
    externalStatus: text(first?.externalStatus),
    displayUrl: text(first?.displayUrl),
    assignedTo: text(first?.assignedTo),
    tickets,
  };
}

function defaultWorkNotes(timestamp: number, start: number, update: number): string {
  return `Timestamp: ${iso(timestamp)}\n\nStart Time: ${iso(start)}\n\nUpdate Time: ${iso(update)}`;
}

function readRating(value: string): string {
  if (!(RATINGS as readonly string[]).includes(value))
    throw badRequest(`Property 'rating' must be one of ${RATINGS.join(', ')}`);
  return value;
}

function readTags(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw badRequest("Property 'tags' must be an object");
  if (JSON.stringify(value).length > 20_000) throw badRequest("Property 'tags' is too large");
  return value as Record<string, unknown>;
}

async function readSubscriptionIds(db: EamExecutor, value: unknown): Promise<string[] | undefined> {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((id) => typeof id !== 'string'))
    throw badRequest("Property 'subscriptionIds' must be an array of subscription ids");
  const ids = [...new Set(value as string[])];
  for (const id of ids) {
    const row = await db
      .selectFrom('eam_subscriptions')
      .select('resource_type')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw badRequest(`No subscription ${id}`);
    if (row.resource_type !== 'EVENT-SITUATION')
      throw badRequest(`Subscription ${id} manages ${row.resource_type}, not EVENT-SITUATION`);
  }
  return ids;
}

async function emitSituation(
  runtime: EamRuntime,
  eventType: EventType,
  work: (trx: Transaction<EamAllTables>) => Promise<EamSituationTable>,
): Promise<EamSituationTable> {
  return withEvents(runtime.ctx, 'sandbox-admin', async (sandboxTrx: Transaction<SandboxTables>, emit) => {
    // One connection, two table sets: the module's tables and the core event stream.
    const trx = sandboxTrx as unknown as Transaction<EamAllTables>;
    const row = await work(trx);
    await emit({ eventType, resourceId: row.id, projectId: null, resource: situationResource(row) });
    return row;
  });
}

export async function situationRow(db: EamExecutor, id: string): Promise<EamSituationTable | undefined> {
  return db
    .selectFrom('eam_situations')
    .selectAll()
    .where('id', '=', id)
    .where('status', '!=', 'DELETED')
    .executeTakeFirst();
}

export async function listSituations(db: EamExecutor, status?: string): Promise<Situation[]> {
  let query = db.selectFrom('eam_situations').selectAll().where('status', '!=', 'DELETED');
  if (status) query = query.where('status', '=', status);
  const rows = await query.orderBy('start_time', 'desc').limit(500).execute();
  return Promise.all(rows.map((row) => toSituation(db, row)));
}

export async function getSituation(db: EamExecutor, id: string): Promise<Situation> {
  const row = await situationRow(db, id);
  if (!row) throw notFound(`No event situation ${id}`);
  return toSituation(db, row);
}

const OPEN_FIELDS = [
  'subject',
  'body',
  'rating',
  'eventName',
  'eventType',
  'eventSubType',
  'serviceId',
  'serviceName',
  'tags',
  'workNotes',
  'subscriptionIds',
];

/** Opens a situation (the use case raised an event); "Create Ticket" reactions decide who hears of it. */
export async function openSituation(runtime: EamRuntime, raw: unknown): Promise<Situation> {
  const body = asBody(raw);
  rejectUnknown(body, OPEN_FIELDS);
  const subject = requiredStr(body, 'subject', 1000);
  const rating = readRating(str(body, 'rating', { max: 20 }) ?? 'ERROR');
  const eventName = str(body, 'eventName', { max: 500 }) ?? subject;
  const eventType = str(body, 'eventType', { max: 100 }) ?? 'CALM.HM';
  const explicit = await readSubscriptionIds(runtime.db, body.subscriptionIds);
  const actions = await runtime.db
    .selectFrom('eam_event_actions')
    .selectAll()
    .where('action', '=', 'CREATE_TICKET')
    .execute();
  const fromActions = actions
    .filter(
      (a) =>
        (a.event_name === null || a.event_name === eventName) &&
        (a.event_type === null || a.event_type === eventType),
    )
    .map((a) => a.subscription_id);
  const subscriptionIds = [...new Set([...(explicit ?? []), ...fromActions])];
  const now = runtime.ctx.now();
  const row = await emitSituation(runtime, 'EVENT-SITUATION.CREATED', async (trx) => {
    const situation: EamSituationTable = {
      id: randomUUID(),
      status: 'OPEN',
      subject,
      body: str(body, 'body', { max: 20_000 }) ?? '',
      rating,
      event_name: eventName,
      event_type: eventType,
      event_sub_type: str(body, 'eventSubType', { max: 100 }) ?? '',
      service_id: str(body, 'serviceId', { max: 200 }) ?? null,
      service_name: str(body, 'serviceName', { max: 500 }) ?? null,
      tags: writeJson(readTags(body.tags)),
      work_notes: str(body, 'workNotes', { max: 20_000 }) ?? defaultWorkNotes(now, now, now),
      occurrences: 1,
      subscription_ids: writeJson(subscriptionIds),
      start_time: now,
      update_time: now,
      close_time: null,
      timestamp: now,
    };
    await trx.insertInto('eam_situations').values(situation).execute();
    return situation;
  });
  return toSituation(runtime.db, row);
}

/** New occurrence, rating change, work notes: one `EVENT-SITUATION.UPDATED`. */
export async function updateSituation(runtime: EamRuntime, id: string, raw: unknown): Promise<Situation> {
  const body = asBody(raw);
  rejectUnknown(body, ['newOccurrence', 'rating', 'workNotes', 'subject', 'body', 'tags']);
  const existing = await situationRow(runtime.db, id);
  if (!existing) throw notFound(`No event situation ${id}`);
  if (existing.status !== 'OPEN') throw new CalmError(409, `Event situation ${id} is closed`);
  const newOccurrence = bool(body, 'newOccurrence') === true;
  const now = runtime.ctx.now();
  const row = await emitSituation(runtime, 'EVENT-SITUATION.UPDATED', async (trx) => {
    const timestamp = newOccurrence ? now : Number(existing.timestamp);
    const updated: EamSituationTable = {
      ...existing,
      rating:
        body.rating === undefined ? existing.rating : readRating(str(body, 'rating', { max: 20 }) ?? ''),
      subject: str(body, 'subject', { max: 1000 }) ?? existing.subject,
      body: str(body, 'body', { max: 20_000 }) ?? existing.body,
      tags: body.tags === undefined ? existing.tags : writeJson(readTags(body.tags)),
      occurrences: existing.occurrences + (newOccurrence ? 1 : 0),
      timestamp,
      update_time: now,
      work_notes:
        str(body, 'workNotes', { max: 20_000 }) ??
        defaultWorkNotes(timestamp, Number(existing.start_time), now),
    };
    await trx.updateTable('eam_situations').set(updated).where('id', '=', id).execute();
    return updated;
  });
  return toSituation(runtime.db, row);
}

export async function closeSituation(runtime: EamRuntime, id: string, raw: unknown): Promise<Situation> {
  const body = raw === undefined || raw === null ? {} : asBody(raw);
  rejectUnknown(body, ['workNotes']);
  const existing = await situationRow(runtime.db, id);
  if (!existing) throw notFound(`No event situation ${id}`);
  if (existing.status !== 'OPEN') throw new CalmError(409, `Event situation ${id} is already closed`);
  const now = runtime.ctx.now();
  const row = await emitSituation(runtime, 'EVENT-SITUATION.CLOSED', async (trx) => {
    const updated: EamSituationTable = {
      ...existing,
      status: 'CLOSED',
      update_time: now,
      close_time: now,
      work_notes: str(body, 'workNotes', { max: 20_000 }) ?? existing.work_notes,
    };
    await trx.updateTable('eam_situations').set(updated).where('id', '=', id).execute();
    return updated;
  });
  return toSituation(runtime.db, row);
}

export async function deleteSituation(runtime: EamRuntime, id: string): Promise<void> {
  const existing = await situationRow(runtime.db, id);
  if (!existing) throw notFound(`No event situation ${id}`);
  // Subscribers see DELETED first (dispatch reads the reaction), then the row is hidden.
  await emitSituation(runtime, 'EVENT-SITUATION.DELETED', async () => existing);
  await runtime.db.updateTable('eam_situations').set({ status: 'DELETED' }).where('id', '=', id).execute();
}

/**
 * `EVENT-SITUATION.PING` for every ticket whose mapped status is not terminal (reference §9),
 * through the same ordered delivery queue. Returns the number of pings queued.
 */
export async function pingTickets(runtime: EamRuntime, situationId?: string): Promise<number> {
  let query = runtime.db
    .selectFrom('eam_links as l')
    .innerJoin('eam_subscriptions as s', 's.id', 'l.subscription_id')
    .innerJoin('eam_situations as e', 'e.id', 'l.resource_id')
    .selectAll('e')
    .select(['l.subscription_id', 'l.fields', 's.mapping_id'])
    .where('l.resource_type', '=', 'EVENT-SITUATION')
    .where('l.external_id', 'is not', null)
    .where('s.active', '=', 1)
    .where('e.status', '!=', 'DELETED');
  if (situationId) query = query.where('e.id', '=', situationId);
  const rows = await query.execute();
  const terminal = new Set(runtime.settings.terminalExternalStatuses);
  let queued = 0;
  for (const row of rows) {
    const status = readJson<Record<string, unknown>>(row.fields).externalStatus;
    if (typeof status === 'string' && terminal.has(status)) continue;
    const mapping = row.mapping_id ? await compiledMapping(runtime.db, row.mapping_id) : null;
    if (!mapping?.operationFor('EVENT-SITUATION.PING')) continue;
    const pending = await runtime.db
      .selectFrom('eam_deliveries')
      .select('id')
      .where('subscription_id', '=', row.subscription_id)
      .where('resource_id', '=', row.id)
      .where('event_type', '=', 'EVENT-SITUATION.PING')
      .where('state', 'in', ['PENDING', 'RETRYING'])
      .executeTakeFirst();
    if (pending) continue;
    const { subscription_id, fields: _fields, mapping_id: _mapping, ...situation } = row;
    const delivery = newDelivery(
      runtime,
      {
        subscriptionId: subscription_id,
        resourceType: 'EVENT-SITUATION',
        eventType: 'EVENT-SITUATION.PING',
        resourceId: row.id,
        resource: situationResource(situation as EamSituationTable),
      },
      { eventId: null, seq: null },
    );
    await runtime.db.transaction().execute(async (trx) => {
      await trx.insertInto('eam_deliveries').values(delivery).execute();
      await runtime.ctx.queue.enqueue(
        deliverySpec(runtime, { id: delivery.id, subscriptionId: subscription_id, resourceId: row.id }),
        trx,
      );
    });
    queued++;
  }
  return queued;
}

export async function pingTickJob(payload: TenantPayload): Promise<void> {
  const runtime = runtimeFor(payload.tenant);
  if (!runtime) return;
  await pingTickets(runtime);
  // Workflows share the ticket refresh schedule (`pingIntervalSeconds`).
  await pingWorkflows(runtime);
}

// Event actions: "Create Ticket" reactions configured per event (seed steps 25-28).

export interface EventAction {
  id: string;
  eventName: string | null;
  eventType: string | null;
  action: 'CREATE_TICKET';
  subscriptionId: string;
  createdAt: string;
}

export async function listEventActions(db: EamExecutor): Promise<EventAction[]> {
  const rows = await db.selectFrom('eam_event_actions').selectAll().orderBy('created_at').execute();
  return rows.map((row) => ({
    id: row.id,
    eventName: row.event_name,
    eventType: row.event_type,
    action: 'CREATE_TICKET',
    subscriptionId: row.subscription_id,
    createdAt: iso(Number(row.created_at)),
  }));
}

export async function createEventAction(runtime: EamRuntime, raw: unknown): Promise<EventAction> {
  const body = asBody(raw);
  rejectUnknown(body, ['eventName', 'eventType', 'action', 'subscriptionId']);
  const action = str(body, 'action', { max: 50 }) ?? 'CREATE_TICKET';
  if (action !== 'CREATE_TICKET')
    throw badRequest("Property 'action' must be CREATE_TICKET (the only ticket reaction emulated)");
  const subscriptionId = requiredStr(body, 'subscriptionId', 100);
  await readSubscriptionIds(runtime.db, [subscriptionId]);
  const row = {
    id: randomUUID(),
    event_name: str(body, 'eventName', { max: 500 }) ?? null,
    event_type: str(body, 'eventType', { max: 100 }) ?? null,
    action,
    subscription_id: subscriptionId,
    created_at: runtime.ctx.now(),
  };
  await runtime.db.insertInto('eam_event_actions').values(row).execute();
  return (await listEventActions(runtime.db)).find((candidate) => candidate.id === row.id) as EventAction;
}

export async function deleteEventAction(runtime: EamRuntime, id: string): Promise<void> {
  const result = await runtime.db.deleteFrom('eam_event_actions').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(`No event action ${id}`);
}
