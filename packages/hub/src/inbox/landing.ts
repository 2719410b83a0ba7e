import { type JobSpec, multiRowInsertSql } from '@calmhub/platform';
import { CompiledQuery, type Kysely, type Selectable, sql } from 'kysely';
import type { HubDeps } from '../app/deps.js';
import type { HubTables, WebhookInboxTable, WebhookLandingTable } from '../store/tables.js';
import { aboutColumnsOf, INBOX_COLUMNS, pushInboxValues } from './check-delivery.js';
import { DedupeFilter } from './dedupe-filter.js';
import { edgePressure, HEAVY_BURST_PER_SECOND, processingDelayMs } from './edge-pressure.js';
import { processDeliveryJob } from './jobs.js';

/**
 * The landing (SQLite only): the webhook edge stores each delivery as one row of
 * `hub_webhook_landing`, a table with no index besides its arrival number, and answers once that
 * has committed. The inbox's indexes (dedupe key, id, waiting deliveries), the processing jobs
 * and the audit are written when processing moves the rows into the inbox, in processing's share
 * of time. Under a burst this is what keeps the edge fast: a batch of deliveries appends to a
 * page or two instead of dirtying a page of each index (every page a WAL frame at commit).
 *
 * Nothing is lost or doubled by the extra step: the rows commit in the edge's transaction with
 * the job that moves them (or while such a job waits to start, which then takes them too), the
 * move is one transaction (inbox rows, their jobs, the landing rows deleted), and whatever reads
 * the inbox moves what has landed first (settleLanding), so a delivery is in the inbox views as
 * soon as it has been acknowledged.
 *
 * Duplicates are still answered at once: the edge knows the dedupe keys of the landed rows (kept
 * here, rebuilt from the table at start), and looks a key up in the inbox's dedupe index only when
 * the dedupe filter (every key landed or in the inbox) says it may be there: a new delivery, nearly
 * every one, costs no read.
 * PostgreSQL (several hub processes may share one database, so no process can know the landed
 * keys) stores straight into the inbox.
 */

type Deps = Pick<HubDeps, 'db' | 'clock' | 'queue' | 'config'>;

export const MOVE_LANDED = 'hub.inbox.land';

/**
 * Rows moved per transaction. Under a heavy burst a few milliseconds, so a move never holds the
 * edge's answers long (at 50, p99 at saturation doubled); otherwise more, to catch up sooner.
 */
const MOVE_CHUNK = 100;
const HEAVY_BURST_MOVE_CHUNK = 25;
/** Under a heavy burst the move waits this long, so each one takes a larger batch. */
const HEAVY_BURST_MOVE_DELAY_MS = 200;

export interface Landed {
  id: string;
  seq: number;
}

/** The landed rows' dedupe keys (integration, key) → row, in arrival order. */
export interface LandingState {
  keys: Map<string, Landed>;
  nextSeq: number;
  /** A move job was enqueued and has not started: rows landing now will be moved by it. */
  moveQueued: boolean;
  /** Every dedupe key landed, or in the inbox (complete once the inbox has been read). */
  filter: DedupeFilter;
}

const states = new WeakMap<object, Promise<LandingState>>();
/** The same states once read: the edge takes them without waiting for a promise per batch. */
const loaded = new WeakMap<object, LandingState>();

/** What the edge knows of the landing of this store: read from the table the first time. */
export function landingFor(db: Kysely<HubTables>): LandingState | Promise<LandingState> {
  const ready = loaded.get(db);
  if (ready) return ready;
  let state = states.get(db);
  if (!state) {
    state = (async () => {
      const rows = await db
        .selectFrom('hub_webhook_landing')
        .select(['seq', 'id', 'integration_id', 'dedupe_key'])
        .orderBy('seq')
        .execute();
      const keys = new Map<string, Landed>();
      const filter = new DedupeFilter();
      for (const row of rows) {
        const key = keyOf(row.integration_id, row.dedupe_key);
        keys.set(key, { id: row.id, seq: row.seq });
        filter.add(key);
      }
      const read = { keys, nextSeq: (rows.at(-1)?.seq ?? 0) + 1, moveQueued: false, filter };
      loaded.set(db, read);
      void fillFilter(db, filter);
      return read;
    })();
    states.set(db, state);
    state.catch(() => states.delete(db));
  }
  return state;
}

/** Rows read per turn while the dedupe filter is filled from the inbox. */
const FILL_CHUNK = 5000;

/**
 * Adds the inbox's dedupe keys to the filter, a chunk per event-loop turn so that a large inbox
 * does not hold the edge up at start; then the filter's "no" counts. Rows the move adds meanwhile
 * are in it already (their keys were added when they landed). On a failure the filter stays
 * incomplete: every key is then looked up, as before it was filled.
 */
async function fillFilter(db: Kysely<HubTables>, filter: DedupeFilter): Promise<void> {
  try {
    let after = 0;
    for (;;) {
      const rows = await db
        .selectFrom('hub_webhook_inbox')
        .select([sql<number>`rowid`.as('row'), 'integration_id', 'dedupe_key'])
        .where(sql<number>`rowid`, '>', after)
        .orderBy(sql`rowid`)
        .limit(FILL_CHUNK)
        .execute();
      for (const row of rows) filter.add(keyOf(row.integration_id, row.dedupe_key));
      if (rows.length < FILL_CHUNK) break;
      after = (rows.at(-1) as { row: number }).row;
      await new Promise((resolve) => setImmediate(resolve));
    }
    filter.complete();
  } catch {
    // Left incomplete: correct, only slower.
  }
}

export const keyOf = (integrationId: string, dedupeKey: string) => `${integrationId}\n${dedupeKey}`;

/** The job that moves what has landed; under a heavy burst it starts later, to move more at once. */
export const moveJob = (now: number, heavyBurst: boolean): JobSpec => ({
  name: MOVE_LANDED,
  payload: {},
  // One waiting at a time: every batch landed meanwhile is moved by it.
  dedupeKey: MOVE_LANDED,
  // One at a time: two moves would take the same rows.
  orderingKey: MOVE_LANDED,
  ...(heavyBurst ? { runAt: now + HEAVY_BURST_MOVE_DELAY_MS } : {}),
  maxAttempts: 1000,
});

/** The inbox row of a landed delivery: what the edge left to derive, derived (tenant and project are its integration's). */
function inboxRowOfLanded(
  row: Selectable<WebhookLandingTable>,
  integration: { tenant_id: string; project_id: string },
): WebhookInboxTable {
  // The edge stored the state of every delivery it did not leave to be processed.
  const state = row.state ?? 'received';
  return {
    id: row.id,
    tenant_id: integration.tenant_id,
    project_id: integration.project_id,
    integration_id: row.integration_id,
    dedupe_key: row.dedupe_key,
    received_at: row.received_at,
    headers: row.headers,
    body: row.body,
    self_test: row.self_test,
    state,
    reason: row.reason,
    ...aboutColumnsOf(row.about),
    duplicates: row.duplicates,
    processed_at: state === 'received' ? null : row.received_at,
  };
}

/**
 * Moves one chunk of landed rows into the inbox with their processing jobs, in one transaction;
 * returns how many it moved. Rows of an integration deleted since are dropped.
 */
async function moveChunk(deps: Deps, state: LandingState, limit: number): Promise<number> {
  let last = 0;
  const moved = await deps.db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('hub_webhook_landing as l')
      .leftJoin('hub_integrations as i', 'i.id', 'l.integration_id')
      .selectAll('l')
      .select(['i.tenant_id', 'i.project_id'])
      .orderBy('l.seq')
      .limit(limit)
      .execute();
    const end = rows.at(-1);
    if (!end) return 0;
    last = end.seq;
    const delayMs = processingDelayMs(edgePressure(deps.db).rate.current());
    const runAt = delayMs > 0 ? Math.max(deps.clock.now(), end.received_at + delayMs) : undefined;
    const inboxRows = rows.flatMap(({ tenant_id, project_id, ...row }) =>
      tenant_id === null || project_id === null ? [] : [inboxRowOfLanded(row, { tenant_id, project_id })],
    );
    if (inboxRows.length > 0) {
      const values: unknown[] = [];
      for (const row of inboxRows) pushInboxValues(values, row);
      await trx.executeQuery(
        CompiledQuery.raw(
          multiRowInsertSql(
            'sqlite',
            'hub_webhook_inbox',
            INBOX_COLUMNS,
            inboxRows.length,
            'on conflict do nothing',
          ),
          values,
        ),
      );
    }
    const jobs = inboxRows
      .filter((row) => row.state === 'received')
      .map((row) =>
        processDeliveryJob(row.integration_id, row.id, row.resource_id ?? undefined, {
          coalesce: true,
          ...(runAt !== undefined ? { runAt } : {}),
        }),
      );
    await trx.deleteFrom('hub_webhook_landing').where('seq', '<=', last).execute();
    if (jobs.length > 0) await deps.queue.enqueueMany(jobs, trx);
    return rows.length;
  });
  // Keys are kept in arrival order: those moved are at the front.
  for (const [key, landed] of state.keys) {
    if (landed.seq > last) break;
    state.keys.delete(key);
  }
  return moved;
}

/**
 * Moves everything landed into the inbox, a chunk at a time. `gated`: within processing's share
 * of time under a burst (the land job); a reader of the inbox moves at once.
 */
export async function moveLanded(deps: Deps, gated: boolean): Promise<void> {
  if (deps.queue.dialect !== 'sqlite') return;
  const state = await landingFor(deps.db);
  // From here on rows landing are not this run's for sure: the edge enqueues another.
  if (gated) state.moveQueued = false;
  const gate = edgePressure(deps.db).gate;
  for (;;) {
    const limit =
      edgePressure(deps.db).rate.current() > HEAVY_BURST_PER_SECOND ? HEAVY_BURST_MOVE_CHUNK : MOVE_CHUNK;
    const moved = gated
      ? await gate.run(() => moveChunk(deps, state, limit), deps.config.webhookBurstProcessingShare)
      : await moveChunk(deps, state, limit);
    if (moved < limit) return;
    // SQLite answers synchronously: the edge gets its turn between chunks.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Before the inbox is read: what was acknowledged is in it. */
export async function settleLanding(deps: Deps): Promise<void> {
  if (deps.queue.dialect !== 'sqlite') return;
  const state = await landingFor(deps.db);
  if (state.keys.size > 0) await moveLanded(deps, false);
}
