import { randomUUID } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import { sql, type Transaction } from 'kysely';
import type { SandboxContext } from '../app/context.js';
import type { EventTable, SandboxExecutor, SandboxTables } from '../store/tables.js';

/** Advisory lock id serialising writers of `sandbox_events` on PostgreSQL (any fixed number). */
const EVENT_STREAM_LOCK = 0x63616c6d;

export type ResourceType = 'FEATURE' | 'TASK' | 'EVENT-SITUATION' | 'WORKFLOW';
export type EventType =
  | 'FEATURE.CREATED'
  | 'FEATURE.UPDATED'
  | 'TASK.CREATED'
  | 'TASK.UPDATED'
  | 'TASK.DELETED'
  // Written by the event-situation (IEP) emulator in src/eam/situations.
  | 'EVENT-SITUATION.CREATED'
  | 'EVENT-SITUATION.UPDATED'
  | 'EVENT-SITUATION.CLOSED'
  | 'EVENT-SITUATION.DELETED'
  // Written by the workflow simulator in src/eam/workflows (PING is only sent, never stored).
  | 'WORKFLOW.STARTED'
  | 'WORKFLOW.PING'
  | 'WORKFLOW.CANCELED';

/**
 * One change, as Cloud ALM's push API would describe it (reference §8): the resource exactly as
 * the API returns it. `seq` is the position in the durable, append-only stream (strictly
 * increasing), which is what a consumer keeps as its cursor.
 */
export interface SandboxEvent {
  seq: number;
  eventId: string;
  resourceType: ResourceType;
  eventType: EventType;
  resourceId: string;
  projectId: string | null;
  /** The technical client id, or `sandbox-admin` for changes made through the admin API/UI. */
  actor: string | null;
  createdAt: string;
  resource: Record<string, unknown>;
}

export interface NewEvent {
  eventType: EventType;
  resourceId: string;
  projectId: string | null;
  resource: Record<string, unknown>;
}

function toEvent(row: Omit<EventTable, 'seq'> & { seq: number | string }): SandboxEvent {
  return {
    seq: Number(row.seq),
    eventId: row.event_id,
    resourceType: row.resource_type as ResourceType,
    eventType: row.event_type as EventType,
    resourceId: row.resource_id,
    projectId: row.project_id,
    actor: row.actor,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    resource: readJson<Record<string, unknown>>(row.resource),
  };
}

export type Emit = (event: NewEvent) => Promise<void>;

/**
 * Runs `work` in one transaction; the events it emits are written in that same transaction
 * (a change and its event commit together or not at all) and handed to `ctx.onEvent` after commit.
 */
export async function withEvents<T>(
  ctx: SandboxContext,
  actor: string | null,
  work: (trx: Transaction<SandboxTables>, emit: Emit) => Promise<T>,
): Promise<T> {
  const committed: SandboxEvent[] = [];
  const result = await ctx.db.transaction().execute(async (trx) => {
    let serialised = false;
    const emit: Emit = async (event) => {
      if (!serialised && ctx.store.dialect === 'postgres') {
        // A sequence hands out numbers at insert, not at commit: without this lock a consumer
        // could read seq 2 before seq 1 commits and move its cursor past 1 for good. Holding
        // one lock from the first insert to commit makes seq order equal commit order.
        // (SQLite has a single writer, so it is already serialised.)
        await sql`select pg_advisory_xact_lock(${EVENT_STREAM_LOCK})`.execute(trx);
        serialised = true;
      }
      const row = {
        event_id: randomUUID(),
        resource_type: event.eventType.split('.')[0] as ResourceType,
        event_type: event.eventType,
        resource_id: event.resourceId,
        project_id: event.projectId,
        actor,
        resource: writeJson(event.resource),
        created_at: ctx.now(),
      };
      const inserted = await trx
        .insertInto('sandbox_events')
        .values(row)
        .returning('seq')
        .executeTakeFirstOrThrow();
      committed.push(toEvent({ ...row, seq: Number(inserted.seq) }));
    };
    return work(trx, emit);
  });
  if (ctx.onEvent) {
    for (const event of committed) {
      try {
        ctx.onEvent(event);
      } catch (error) {
        ctx.logger.warn({ err: error }, 'sandbox event listener failed');
      }
    }
  }
  return result;
}

export interface EventQuery {
  /** Only events with a larger `seq` (a consumer's cursor). */
  after?: number | undefined;
  limit?: number | undefined;
  resourceType?: string | undefined;
  eventType?: string | undefined;
  resourceId?: string | undefined;
  projectId?: string | undefined;
  /** The most recent `limit` events instead of the first ones after the cursor (still returned in seq order). */
  latest?: boolean | undefined;
}

/** Reads the durable event stream in `seq` order. */
export async function readEvents(db: SandboxExecutor, query: EventQuery = {}): Promise<SandboxEvent[]> {
  let q = db
    .selectFrom('sandbox_events')
    .selectAll()
    .where('seq', '>', query.after ?? 0);
  if (query.resourceType) q = q.where('resource_type', '=', query.resourceType);
  if (query.eventType) q = q.where('event_type', '=', query.eventType);
  if (query.resourceId) q = q.where('resource_id', '=', query.resourceId);
  if (query.projectId) q = q.where('project_id', '=', query.projectId);
  const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
  const rows = await q
    .orderBy('seq', query.latest ? 'desc' : 'asc')
    .limit(limit)
    .execute();
  if (query.latest) rows.reverse();
  return rows.map((row) => toEvent({ ...row, seq: Number(row.seq) }));
}

/** Drops null-valued fields: the push payload sample (reference §8) omits them. */
export function withoutNulls(resource: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(resource).filter(([, value]) => value !== null));
}
