import {
  fixedSql,
  type JobQueue,
  type JobSpec,
  multiRowInsertSql,
  type SqliteStatement,
  sqlPlaceholders,
} from '@calmhub/platform';
import { CompiledQuery, type Kysely } from 'kysely';
import type { HubDeps } from '../app/deps.js';
import type { HubTables } from '../store/tables.js';
import { edgePressure, processingDelayMs } from './edge-pressure.js';
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
 * here, rebuilt from the table at start) and looks up the inbox's dedupe index, a read.
 * PostgreSQL (several hub processes may share one database, so no process can know the landed
 * keys) stores straight into the inbox.
 */

type Deps = Pick<HubDeps, 'db' | 'clock' | 'queue' | 'config'>;

export const MOVE_LANDED = 'hub.inbox.land';

/** The columns a landing row shares with the inbox row it becomes. */
export const INBOX_COLUMNS = [
  'id',
  'tenant_id',
  'project_id',
  'integration_id',
  'dedupe_key',
  'received_at',
  'headers',
  'body',
  'self_test',
  'state',
  'reason',
  'resource_type',
  'event_type',
  'resource_id',
  'item_kind',
  'duplicates',
  'processed_at',
] as const;

/** Rows moved per transaction: a few milliseconds, so a move never holds the edge's answers long. */
const MOVE_CHUNK = 50;
/** Under a heavy burst the move waits this long, so each one takes a larger batch. */
const HEAVY_BURST_MOVE_DELAY_MS = 200;

interface Landed {
  id: string;
  seq: number;
}

/** The landed rows' dedupe keys (integration, key) → row, in arrival order. */
export interface LandingState {
  keys: Map<string, Landed>;
  nextSeq: number;
  /** A move job was enqueued and has not started: rows landing now will be moved by it. */
  moveQueued: boolean;
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
      for (const row of rows)
        keys.set(keyOf(row.integration_id, row.dedupe_key), { id: row.id, seq: row.seq });
      const read = { keys, nextSeq: (rows.at(-1)?.seq ?? 0) + 1, moveQueued: false };
      loaded.set(db, read);
      return read;
    })();
    states.set(db, state);
    state.catch(() => states.delete(db));
  }
  return state;
}

const keyOf = (integrationId: string, dedupeKey: string) => `${integrationId}\n${dedupeKey}`;

const landJob = (runAt?: number): JobSpec => ({
  name: MOVE_LANDED,
  payload: {},
  // One waiting at a time: every batch landed meanwhile is moved by it.
  dedupeKey: MOVE_LANDED,
  // One at a time: two moves would take the same rows.
  orderingKey: MOVE_LANDED,
  ...(runAt !== undefined ? { runAt } : {}),
  maxAttempts: 1000,
});

export interface LandingRow {
  integrationId: string;
  dedupeKey: string;
  id: string;
  /** The inbox row, in INBOX_COLUMNS order. */
  values: unknown[];
}

export type LandingOutcome = { outcome: 'accepted' | 'duplicate'; id: string };

const existingSql = (count: number) =>
  fixedSql(
    'landing existing',
    'sqlite',
    count,
    () =>
      'select id, dedupe_key from hub_webhook_inbox where integration_id = ? and dedupe_key in ' +
      `(${sqlPlaceholders('sqlite', 1, count)})`,
  );
/** A landing row: its arrival number, then the inbox row's columns. */
const LANDING_COLUMNS = ['seq', ...INBOX_COLUMNS] as const;
const landSql = (count: number) =>
  multiRowInsertSql('sqlite', 'hub_webhook_landing', LANDING_COLUMNS, count, '');
const COUNT_LANDED_DUPLICATE = 'update hub_webhook_landing set duplicates = duplicates + 1 where seq = ?';
const COUNT_INBOX_DUPLICATE =
  'update hub_webhook_inbox set duplicates = duplicates + 1 where integration_id = ? and dedupe_key = ?';

/**
 * Lands deliveries, inside the edge's synchronous SQLite transaction: one outcome per row, in
 * order, and what to do once the transaction has committed (from then on the edge knows the new
 * rows' keys, and the move job, when one was enqueued, may start).
 */
export function landDeliveries(
  prepare: (text: string) => SqliteStatement,
  state: LandingState,
  queue: JobQueue,
  rows: LandingRow[],
  now: number,
  heavyBurst: boolean,
): { outcomes: LandingOutcome[]; afterCommit: () => void } {
  const outcomes: LandingOutcome[] = [];
  const fresh = new Map<string, Landed>();
  const inInbox = inboxIds(prepare, rows);
  let seq = state.nextSeq;
  const parameters: unknown[] = [];
  for (const row of rows) {
    const key = keyOf(row.integrationId, row.dedupeKey);
    const landed = fresh.get(key) ?? state.keys.get(key);
    if (landed) {
      // Moved meanwhile (the move committed, its keys not yet forgotten): counted in the inbox.
      if (prepare(COUNT_LANDED_DUPLICATE).run(landed.seq).changes === 0)
        prepare(COUNT_INBOX_DUPLICATE).run(row.integrationId, row.dedupeKey);
      outcomes.push({ outcome: 'duplicate', id: landed.id });
      continue;
    }
    const stored = inInbox.get(key);
    if (stored) {
      prepare(COUNT_INBOX_DUPLICATE).run(row.integrationId, row.dedupeKey);
      outcomes.push({ outcome: 'duplicate', id: stored });
      continue;
    }
    fresh.set(key, { id: row.id, seq });
    parameters.push(seq++, ...row.values);
    outcomes.push({ outcome: 'accepted', id: row.id });
  }
  if (fresh.size > 0) prepare(landSql(fresh.size)).run(parameters);
  // A move job is needed unless one is waiting to start (it will take these rows too).
  const enqueue = fresh.size > 0 && !state.moveQueued;
  if (enqueue) {
    const { sql, parameters } = queue.enqueueStatement([
      landJob(heavyBurst ? now + HEAVY_BURST_MOVE_DELAY_MS : undefined),
    ]);
    prepare(sql).run(parameters);
  }
  return {
    outcomes,
    afterCommit: () => {
      for (const [key, landed] of fresh) state.keys.set(key, landed);
      state.nextSeq = seq;
      if (enqueue) {
        state.moveQueued = true;
        queue.enqueued();
      }
    },
  };
}

/** The inbox ids of the rows' dedupe keys already stored there: one indexed read per integration. */
function inboxIds(prepare: (text: string) => SqliteStatement, rows: LandingRow[]): Map<string, string> {
  const found = new Map<string, string>();
  const byIntegration = new Map<string, Set<string>>();
  for (const row of rows) {
    const keys = byIntegration.get(row.integrationId) ?? new Set<string>();
    keys.add(row.dedupeKey);
    byIntegration.set(row.integrationId, keys);
  }
  for (const [integrationId, keys] of byIntegration) {
    const existing = prepare(existingSql(keys.size)).all(integrationId, ...keys) as Array<{
      id: string;
      dedupe_key: string;
    }>;
    for (const row of existing) found.set(keyOf(integrationId, row.dedupe_key), row.id);
  }
  return found;
}

const moveSql =
  `insert into hub_webhook_inbox (${INBOX_COLUMNS.join(', ')}) ` +
  `select ${INBOX_COLUMNS.join(', ')} from hub_webhook_landing where seq <= ? order by seq ` +
  'on conflict do nothing';

/**
 * Moves one chunk of landed rows into the inbox with their processing jobs, in one transaction;
 * returns how many it moved.
 */
async function moveChunk(deps: Deps, state: LandingState): Promise<number> {
  let last = 0;
  const moved = await deps.db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('hub_webhook_landing')
      .select(['seq', 'id', 'integration_id', 'resource_id', 'state', 'received_at'])
      .orderBy('seq')
      .limit(MOVE_CHUNK)
      .execute();
    const end = rows.at(-1);
    if (!end) return 0;
    last = end.seq;
    await trx.executeQuery(CompiledQuery.raw(moveSql, [last]));
    await trx.deleteFrom('hub_webhook_landing').where('seq', '<=', last).execute();
    const delayMs = processingDelayMs(edgePressure(deps.db).rate.current());
    const runAt = delayMs > 0 ? Math.max(deps.clock.now(), end.received_at + delayMs) : undefined;
    const jobs = rows
      .filter((row) => row.state === 'received')
      .map((row) =>
        processDeliveryJob(row.integration_id, row.id, row.resource_id ?? undefined, {
          coalesce: true,
          ...(runAt !== undefined ? { runAt } : {}),
        }),
      );
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
    const moved = gated
      ? await gate.run(() => moveChunk(deps, state), deps.config.webhookBurstProcessingShare)
      : await moveChunk(deps, state);
    if (moved < MOVE_CHUNK) return;
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
