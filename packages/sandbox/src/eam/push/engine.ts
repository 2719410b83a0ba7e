import { randomUUID } from 'node:crypto';
import { buildOperation, mapResponse } from '@calmhub/mapping';
import {
  isRetryableStatus,
  type JobContext,
  type JobSpec,
  PermanentJobError,
  RetryJobError,
  readJson,
  retryAfterMs,
  writeJson,
} from '@calmhub/platform';
import { readEvents, type SandboxEvent } from '../../events/events.js';
import type { SandboxExecutor } from '../../store/tables.js';
import { resolveDestination } from '../destinations.js';
import { compiledMapping } from '../mappings.js';
import { cloudAlmUrl, type EamRuntime, runtimeFor } from '../runtime.js';
import { itemTypeOf } from '../subscriptions.js';
import type { EamDeliveryTable, EamExecutor } from '../tables.js';
import { webhookUrl } from '../webhooks.js';
import { send } from './http.js';

export const DISPATCH_JOB = 'eam.dispatch';
export const DISPATCH_TICK_JOB = 'eam.dispatch-tick';
export const DELIVER_JOB = 'eam.deliver';
export const PING_TICK_JOB = 'eam.ping-tick';
export const PRUNE_JOB = 'eam.console-prune';

/** Console outcomes (reference §7, plus the skips and failures of the emulator's own steps). */
export type Outcome =
  | 'SUCCESS'
  | 'HTTP_ERROR'
  | 'MAPPING_ERROR'
  | 'CONNECTIVITY_ERROR'
  | 'AUTH_ERROR'
  | 'CONFIGURATION_ERROR'
  | 'SKIPPED_NO_OPERATION'
  | 'SKIPPED_NO_EXTERNAL_ID'
  | 'SKIPPED_INACTIVE';

/** Delivery states: PENDING until the first attempt, RETRYING between attempts, then final. */
export type DeliveryState = 'PENDING' | 'RETRYING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
const FINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'SKIPPED']);

export interface TenantPayload {
  tenant: string;
}

/** The Resource Changes API envelope (reference §4.2), keys in the documented order. */
export interface ChangeEnvelope {
  subscriptionId: string;
  resourceType: string;
  eventType: string;
  resourceId: string;
  resource: Record<string, unknown>;
}

const BATCH = 500;

function requireRuntime(tenant: string): EamRuntime {
  const runtime = runtimeFor(tenant);
  // A job claimed while its sandbox is stopping: try again shortly (the next start picks it up).
  if (!runtime) throw new RetryJobError(`no running sandbox for tenant ${tenant}`, Date.now() + 1000);
  return runtime;
}

function orderingKey(subscriptionId: string, resourceId: string): string {
  return `eam:${subscriptionId}:${resourceId}`;
}

export function deliverySpec(
  runtime: EamRuntime,
  delivery: { id: string; subscriptionId: string; resourceId: string },
): JobSpec {
  return {
    name: DELIVER_JOB,
    payload: { tenant: runtime.tenant, deliveryId: delivery.id },
    orderingKey: orderingKey(delivery.subscriptionId, delivery.resourceId),
    maxAttempts: runtime.settings.retryScheduleSeconds.length + 1,
  };
}

/** Wakes the dispatcher after a commit; duplicate wake-ups while one waits are absorbed by the dedupe key. */
export async function wakeDispatcher(runtime: EamRuntime): Promise<void> {
  await runtime.ctx.queue.enqueue({
    name: DISPATCH_JOB,
    payload: { tenant: runtime.tenant },
    dedupeKey: 'eam.dispatch',
    // One dispatcher at a time, also across processes sharing the store.
    orderingKey: 'eam.dispatch',
  });
}

export async function getCursor(db: EamExecutor): Promise<number | undefined> {
  const row = await db.selectFrom('eam_state').select('value').where('key', '=', 'cursor').executeTakeFirst();
  return row ? Number(row.value) : undefined;
}

export async function setCursor(db: EamExecutor, seq: number): Promise<void> {
  const value = String(seq);
  await db
    .insertInto('eam_state')
    .values({ key: 'cursor', value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

/** Starts the cursor at the end of the stream, so history before the module existed is not pushed. */
export async function initCursor(runtime: EamRuntime): Promise<void> {
  if ((await getCursor(runtime.db)) !== undefined) return;
  const latest = await readEvents(runtime.db as unknown as SandboxExecutor, { latest: true, limit: 1 });
  await setCursor(runtime.db, latest[0]?.seq ?? 0);
}

async function subscriptionsFor(trx: EamExecutor, event: SandboxEvent): Promise<string[]> {
  if (event.resourceType === 'EVENT-SITUATION') {
    const situation = await trx
      .selectFrom('eam_situations')
      .select('subscription_ids')
      .where('id', '=', event.resourceId)
      .executeTakeFirst();
    const ids = situation ? readJson<string[]>(situation.subscription_ids) : [];
    if (ids.length === 0) return [];
    const rows = await trx
      .selectFrom('eam_subscriptions')
      .select('id')
      .where('id', 'in', ids)
      .where('resource_type', '=', 'EVENT-SITUATION')
      .where('active', '=', 1)
      .execute();
    return rows.map((row) => row.id);
  }
  const itemType = itemTypeOf(event.resourceType, event.resource);
  if (!itemType || !event.projectId) return [];
  const rows = await trx
    .selectFrom('eam_project_subscriptions as p')
    .innerJoin('eam_subscriptions as s', 's.id', 'p.subscription_id')
    .select('s.id')
    .where('p.project_id', '=', event.projectId)
    .where('p.item_type', '=', itemType)
    .where('s.resource_type', '=', event.resourceType)
    .where('s.active', '=', 1)
    // Opt-in applies from the moment of assignment, even if the dispatcher runs late.
    .where('p.created_at', '<=', Date.parse(event.createdAt))
    .orderBy('s.id')
    .execute();
  return rows.map((row) => row.id);
}

export function newDelivery(
  runtime: EamRuntime,
  envelope: ChangeEnvelope,
  event: { eventId: string | null; seq: number | null },
): EamDeliveryTable {
  const now = runtime.ctx.now();
  return {
    id: randomUUID(),
    subscription_id: envelope.subscriptionId,
    event_id: event.eventId,
    event_seq: event.seq,
    resource_type: envelope.resourceType,
    event_type: envelope.eventType,
    resource_id: envelope.resourceId,
    message: writeJson(envelope),
    state: 'PENDING',
    attempts: 0,
    last_outcome: null,
    last_error: null,
    created_at: now,
    updated_at: now,
  };
}

/** Moves the cursor over the change stream, turning each event into one delivery per matching subscription. */
export async function dispatch(runtime: EamRuntime): Promise<number> {
  let total = 0;
  for (;;) {
    const handled = await runtime.db.transaction().execute(async (trx) => {
      const cursor = (await getCursor(trx)) ?? 0;
      const events = await readEvents(trx as unknown as SandboxExecutor, { after: cursor, limit: BATCH });
      if (events.length === 0) return 0;
      const deliveries: EamDeliveryTable[] = [];
      for (const event of events) {
        for (const subscriptionId of await subscriptionsFor(trx, event)) {
          const envelope: ChangeEnvelope = {
            subscriptionId,
            resourceType: event.resourceType,
            eventType: event.eventType,
            resourceId: event.resourceId,
            resource: event.resource,
          };
          deliveries.push(newDelivery(runtime, envelope, { eventId: event.eventId, seq: event.seq }));
        }
      }
      for (let i = 0; i < deliveries.length; i += 100)
        await trx
          .insertInto('eam_deliveries')
          .values(deliveries.slice(i, i + 100))
          .execute();
      await runtime.ctx.queue.enqueueMany(
        deliveries.map((d) =>
          deliverySpec(runtime, { id: d.id, subscriptionId: d.subscription_id, resourceId: d.resource_id }),
        ),
        trx,
      );
      await setCursor(trx, events[events.length - 1]?.seq ?? cursor);
      return events.length;
    });
    total += handled;
    if (handled < BATCH) break;
  }
  return total;
}

interface AttemptRecord {
  method: string | null;
  url: string | null;
  requestHeaders: Record<string, string>;
  requestBody: string | null;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string | null;
  durationMs: number;
  outcome: Outcome;
  error: string | null;
  externalId: string | null;
  mapped: unknown;
}

const EMPTY_ATTEMPT: AttemptRecord = {
  method: null,
  url: null,
  requestHeaders: {},
  requestBody: null,
  responseStatus: null,
  responseHeaders: {},
  responseBody: null,
  durationMs: 0,
  outcome: 'CONFIGURATION_ERROR',
  error: null,
  externalId: null,
  mapped: null,
};

async function recordAttempt(
  runtime: EamRuntime,
  trx: EamExecutor,
  delivery: EamDeliveryTable,
  attempt: number,
  startedAt: number,
  record: AttemptRecord,
  state: DeliveryState,
): Promise<void> {
  const excerpt = (text: string | null) =>
    text === null
      ? null
      : text.length > runtime.settings.responseExcerptChars
        ? `${text.slice(0, runtime.settings.responseExcerptChars)}…`
        : text;
  await trx
    .insertInto('eam_attempts')
    .values({
      delivery_id: delivery.id,
      subscription_id: delivery.subscription_id,
      event_id: delivery.event_id,
      resource_type: delivery.resource_type,
      event_type: delivery.event_type,
      resource_id: delivery.resource_id,
      attempt,
      started_at: startedAt,
      method: record.method,
      url: record.url,
      request_headers: writeJson(record.requestHeaders),
      request_body: record.requestBody,
      response_status: record.responseStatus,
      response_headers: writeJson(record.responseHeaders),
      response_body: excerpt(record.responseBody),
      duration_ms: record.durationMs,
      outcome: record.outcome,
      error: record.error === null ? null : record.error.slice(0, 4000),
      external_id: record.externalId,
      mapped: record.mapped === null ? null : writeJson(record.mapped),
    })
    .execute();
  await trx
    .updateTable('eam_deliveries')
    .set({
      state,
      attempts: attempt,
      last_outcome: record.outcome,
      last_error: record.error === null ? null : record.error.slice(0, 4000),
      updated_at: runtime.ctx.now(),
    })
    .where('id', '=', delivery.id)
    .execute();
}

/** Delay before retry number `retry` (1-based): the schedule entry ±jitter, at least what Retry-After asks. */
export function retryDelayMs(runtime: EamRuntime, retry: number, retryAfter: number | undefined): number {
  const schedule = runtime.settings.retryScheduleSeconds;
  const base = (schedule[Math.min(retry, schedule.length) - 1] ?? 60) * 1000;
  const jitter = runtime.settings.retryJitter;
  const delay = Math.round(base * (1 - jitter + 2 * jitter * Math.random()));
  return Math.max(delay, retryAfter ?? 0);
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** One delivery attempt: build, send, map the answer, store the link; retries via the job queue. */
export async function deliver(
  payload: TenantPayload & { deliveryId: string },
  job: JobContext,
): Promise<void> {
  const runtime = requireRuntime(payload.tenant);
  const delivery = await runtime.db
    .selectFrom('eam_deliveries')
    .selectAll()
    .where('id', '=', payload.deliveryId)
    .executeTakeFirst();
  if (!delivery || FINAL_STATES.has(delivery.state)) return;
  const attempt = delivery.attempts + 1;
  const startedAt = runtime.ctx.now();
  const finish = (record: Partial<AttemptRecord>, state: DeliveryState) =>
    recordAttempt(runtime, runtime.db, delivery, attempt, startedAt, { ...EMPTY_ATTEMPT, ...record }, state);

  const subscription = await runtime.db
    .selectFrom('eam_subscriptions')
    .selectAll()
    .where('id', '=', delivery.subscription_id)
    .executeTakeFirst();
  if (subscription?.active !== 1) {
    await finish(
      {
        outcome: 'SKIPPED_INACTIVE',
        error: subscription ? 'subscription is inactive' : 'subscription was deleted',
      },
      'SKIPPED',
    );
    return;
  }
  const webhook = await runtime.db
    .selectFrom('eam_webhooks')
    .selectAll()
    .where('id', '=', subscription.webhook_id)
    .executeTakeFirst();
  const destination = webhook ? await resolveDestination(runtime, webhook.destination_name) : undefined;
  if (!webhook || !destination) {
    await finish(
      {
        error: webhook ? `destination ${webhook.destination_name} does not exist` : 'webhook does not exist',
      },
      'FAILED',
    );
    throw new PermanentJobError('configuration error');
  }
  const mapping = subscription.mapping_id ? await compiledMapping(runtime.db, subscription.mapping_id) : null;
  if (subscription.mapping_id && !mapping) {
    await finish(
      { outcome: 'MAPPING_ERROR', error: `mapping ${subscription.mapping_id} is missing or invalid` },
      'FAILED',
    );
    throw new PermanentJobError('mapping error');
  }
  const link = await runtime.db
    .selectFrom('eam_links')
    .selectAll()
    .where('subscription_id', '=', delivery.subscription_id)
    .where('resource_id', '=', delivery.resource_id)
    .executeTakeFirst();
  const environment = {
    userVariables: Object.fromEntries(
      readJson<{ name: string; value: string }[]>(subscription.user_variables).map((v) => [v.name, v.value]),
    ),
    cloudAlmUrl: cloudAlmUrl(runtime),
    link: link
      ? { externalId: link.external_id, fields: readJson<Record<string, unknown>>(link.fields) }
      : { externalId: null, fields: {} },
  };
  const message = readJson<ChangeEnvelope>(delivery.message);
  const operation = buildOperation(mapping, message, environment);
  if (operation.kind === 'skip') {
    // Ordering keys already made this wait for an earlier CREATE; without an id now, the CREATE failed.
    await finish(
      {
        outcome: operation.reason === 'NO_EXTERNAL_ID' ? 'SKIPPED_NO_EXTERNAL_ID' : 'SKIPPED_NO_OPERATION',
        error: operation.message,
      },
      'SKIPPED',
    );
    return;
  }
  const body = operation.body === undefined ? undefined : JSON.stringify(operation.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // Stable across retries and resends, so receivers can drop duplicates (engineering §4.2).
  headers['webhook-id'] = delivery.id;
  const url = webhookUrl(destination.url, webhook.path, operation.path);
  const result = await send(
    runtime,
    destination,
    { method: operation.method, url, headers, body },
    job.signal,
  );
  const base = {
    method: operation.method,
    url: result.url,
    requestHeaders: result.sentHeaders,
    requestBody: body ?? null,
    durationMs: result.durationMs,
  };

  if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
    const mapped = mapResponse(mapping, operation.eventType, parseJson(result.body), environment);
    const fields = mapped.kind === 'mapped' ? mapped.link.fields : environment.link.fields;
    const externalId =
      mapped.kind === 'mapped' ? mapped.link.externalId : (environment.link.externalId ?? null);
    await runtime.db.transaction().execute(async (trx) => {
      const now = runtime.ctx.now();
      await trx
        .insertInto('eam_links')
        .values({
          subscription_id: delivery.subscription_id,
          resource_id: delivery.resource_id,
          resource_type: delivery.resource_type,
          external_id: externalId,
          fields: writeJson(fields),
          updated_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['subscription_id', 'resource_id'])
            .doUpdateSet({ external_id: externalId, fields: writeJson(fields), updated_at: now }),
        )
        .execute();
      await recordAttempt(
        runtime,
        trx,
        delivery,
        attempt,
        startedAt,
        {
          ...base,
          responseStatus: result.status,
          responseHeaders: result.headers,
          responseBody: result.body,
          outcome: 'SUCCESS',
          error: null,
          externalId,
          mapped: mapped.kind === 'mapped' ? mapped.fields : null,
        },
        'SUCCEEDED',
      );
    });
    return;
  }

  const status = result.kind === 'response' ? result.status : null;
  const retryable = result.kind === 'error' ? result.retryable : status !== null && isRetryableStatus(status);
  const retryAfter =
    result.kind === 'error'
      ? result.retryAfterMs
      : retryAfterMs(result.headers['retry-after'], runtime.ctx.now());
  const lastAttempt = job.job.attempts >= job.job.maxAttempts;
  const error =
    result.kind === 'error'
      ? result.message
      : `HTTP ${status}${status !== null && status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`;
  const record: AttemptRecord = {
    ...EMPTY_ATTEMPT,
    ...base,
    responseStatus: status,
    responseHeaders: result.kind === 'response' ? result.headers : {},
    responseBody: result.kind === 'response' ? result.body : null,
    outcome: result.kind === 'error' ? result.outcome : 'HTTP_ERROR',
    error,
  };
  if (retryable && !lastAttempt) {
    await recordAttempt(runtime, runtime.db, delivery, attempt, startedAt, record, 'RETRYING');
    const delay = retryDelayMs(runtime, job.job.attempts, retryAfter);
    throw new RetryJobError(`${error}; retrying in ${delay} ms`, Date.now() + delay);
  }
  await recordAttempt(runtime, runtime.db, delivery, attempt, startedAt, record, 'FAILED');
  throw new PermanentJobError(retryable ? `${error}; retries exhausted` : `${error}; not retried`);
}

/** Manual resend from the console: the same message (same webhook-id) goes through the queue again. */
export async function resend(runtime: EamRuntime, deliveryId: string): Promise<EamDeliveryTable | undefined> {
  return runtime.db.transaction().execute(async (trx) => {
    const delivery = await trx
      .selectFrom('eam_deliveries')
      .selectAll()
      .where('id', '=', deliveryId)
      .executeTakeFirst();
    if (!delivery) return undefined;
    if (!FINAL_STATES.has(delivery.state)) return delivery;
    const updated = { ...delivery, state: 'PENDING', updated_at: runtime.ctx.now() };
    await trx
      .updateTable('eam_deliveries')
      .set({ state: 'PENDING', updated_at: updated.updated_at })
      .where('id', '=', deliveryId)
      .execute();
    await runtime.ctx.queue.enqueue(
      deliverySpec(runtime, {
        id: delivery.id,
        subscriptionId: delivery.subscription_id,
        resourceId: delivery.resource_id,
      }),
      trx,
    );
    return updated;
  });
}

export async function dispatchJob(payload: TenantPayload): Promise<void> {
  await dispatch(requireRuntime(payload.tenant));
}

export async function dispatchTickJob(payload: TenantPayload): Promise<void> {
  await wakeDispatcher(requireRuntime(payload.tenant));
}

export async function pruneJob(payload: TenantPayload): Promise<void> {
  const runtime = requireRuntime(payload.tenant);
  await pruneConsole(runtime);
}

/** Retention: attempts and finished deliveries older than `consoleRetentionDays` go. */
export async function pruneConsole(runtime: EamRuntime): Promise<{ attempts: number; deliveries: number }> {
  const before = runtime.ctx.now() - runtime.settings.consoleRetentionDays * 86_400_000;
  const attempts = await runtime.db
    .deleteFrom('eam_attempts')
    .where('started_at', '<', before)
    .executeTakeFirst();
  const deliveries = await runtime.db
    .deleteFrom('eam_deliveries')
    .where('updated_at', '<', before)
    .where('state', 'in', [...FINAL_STATES])
    .executeTakeFirst();
  return { attempts: Number(attempts.numDeletedRows), deliveries: Number(deliveries.numDeletedRows) };
}
