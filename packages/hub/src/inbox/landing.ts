import { type JobSpec, multiRowInsertSql, type SqliteAccess, type SqliteStatement } from '@calmhub/platform';
import { sql } from 'kysely';
import type { HubDeps } from '../app/deps.js';
import type { WebhookInboxTable } from '../store/tables.js';
import { aboutColumnsOf, INBOX_COLUMNS, pushInboxValues } from './check-delivery.js';
import { DedupeIndex, fingerprint, IN_INBOX } from './dedupe-index.js';
import { edgePressure, HEAVY_BURST_PER_SECOND, processingDelayMs } from './edge-pressure.js';
import { processDeliveryJob } from './jobs.js';
import { FrameWriter, type JournalRecord, type LandedDelivery, LandingJournal } from './landing-journal.js';

/**
 * The landing (SQLite only): the webhook edge appends each batch of deliveries to the landing
 * journal (landing-journal.ts), a file next to the database, and answers once it is written.
 * The inbox's rows and indexes (dedupe key, id, waiting deliveries), the processing jobs and the
 * audit are written when processing moves the records into the inbox, in processing's share of
 * time. Under a burst this is what keeps the edge fast: a batch costs one write of the bytes
 * received, where a SQLite transaction took locks and wrote pages of a table.
 *
 * Nothing is lost or doubled by the extra step: a move is one SQLite transaction (inbox rows,
 * their jobs, and the journal offset moved up to, hub_webhook_landing_moved), a move job is
 * enqueued after each append (and at start when the journal holds records not moved), and
 * whatever reads the inbox moves what has landed first (settleLanding), so a delivery is in the
 * inbox views as soon as it has been acknowledged. Once everything is moved the journal is
 * emptied.
 *
 * Duplicates are still answered at once: the dedupe index (dedupe-index.ts) holds every key
 * landed or in the inbox, with where it is; a key it may hold is compared with the landed record
 * or looked up in the inbox's dedupe index, so a new delivery, nearly every one, costs no read.
 * PostgreSQL (several hub processes may share one database, so no process can know the landed
 * keys) stores straight into the inbox.
 */

type Deps = Pick<HubDeps, 'db' | 'clock' | 'queue' | 'config' | 'store'>;

export const MOVE_LANDED = 'hub.inbox.land';

/**
 * Records moved per transaction (whole frames, so a little more). Under a heavy burst a few
 * milliseconds, so a move never holds the edge's answers long; otherwise more, to catch up sooner.
 */
const MOVE_CHUNK = 100;
const HEAVY_BURST_MOVE_CHUNK = 25;
/** Under a heavy burst the move waits this long, so each one takes a larger batch. */
const HEAVY_BURST_MOVE_DELAY_MS = 200;

/** What the edge and the move know of the landing of one store. */
export interface LandingState {
  sqlite: SqliteAccess;
  journal: LandingJournal;
  /** Every dedupe key landed or in the inbox (complete once the inbox has been read). */
  index: DedupeIndex;
  /** The journal offset up to which records have been moved into the inbox. */
  moved: number;
  /**
   * A landed record's place in the index is `base` + its journal offset; `base` grows by the
   * journal's size each time it is emptied, so an older record's place never names a newer one.
   */
  base: number;
  /** A move job was enqueued and has not started: records landing now will be moved by it. */
  moveQueued: boolean;
  /** The move running, if any (see moveOnce). */
  moving: Promise<unknown>;
}

const states = new WeakMap<object, Promise<LandingState>>();
/** The same states once read: the edge takes them without waiting for a promise per batch. */
const loaded = new WeakMap<object, LandingState>();

/** What the edge knows of the landing of this store: opened and read the first time. */
export function landingFor(deps: Deps): LandingState | Promise<LandingState> {
  const ready = loaded.get(deps.db);
  if (ready) return ready;
  let state = states.get(deps.db);
  if (!state) {
    state = openLanding(deps).then((read) => {
      loaded.set(deps.db, read);
      return read;
    });
    states.set(deps.db, state);
    state.catch(() => states.delete(deps.db));
  }
  return state;
}

export const keyOf = (integrationId: string, dedupeKey: string) => `${integrationId}\n${dedupeKey}`;

async function openLanding(deps: Deps): Promise<LandingState> {
  const sqlite = deps.store.sqlite;
  if (!sqlite) throw new Error('The landing is for SQLite stores');
  const row = await deps.db
    .selectFrom('hub_webhook_landing_moved')
    .select(['generation', 'position'])
    .where('id', '=', 1)
    .executeTakeFirst();
  const movedUpTo = row && { generation: Number(row.generation), position: Number(row.position) };
  const journal = LandingJournal.open(sqlite.file, deps.config.sqliteSynchronous, movedUpTo?.generation ?? 0);
  const moved = journal.startOf(movedUpTo);
  // What a stop cut short is cut off first: nothing in it was answered, and what is appended
  // next (rows carried over, deliveries) must follow whole frames.
  const { records } = journal.read(moved, Number.POSITIVE_INFINITY, true);
  const carried = journal.size;
  await carryLandingRows(deps, journal);
  if (journal.size > carried) records.push(...journal.read(carried, Number.POSITIVE_INFINITY).records);
  const state: LandingState = {
    sqlite,
    journal,
    index: new DedupeIndex(),
    moved,
    base: 0,
    moveQueued: false,
    moving: Promise.resolve(),
  };
  for (const record of records)
    if (record.kind === 'delivery')
      state.index.add(fingerprint(keyOf(record.integrationId, record.dedupeKey)), record.offset);
  // Landed before a stop and not moved: a job moves them (one waiting at a time, see moveJob).
  if (records.length > 0) await deps.queue.enqueueMany([moveJob(deps.clock.now(), false)]);
  void fillIndex(deps, state.index);
  return state;
}

/**
 * Rows landed in the table before the journal (0013) go into the journal, then leave the table.
 * A stop in between leaves them in both: the move's insert then finds them in the inbox already.
 */
async function carryLandingRows(deps: Deps, journal: LandingJournal): Promise<void> {
  const rows = await deps.db.selectFrom('hub_webhook_landing').selectAll().orderBy('seq').execute();
  if (rows.length === 0) return;
  const writer = new FrameWriter();
  for (const row of rows)
    writer.delivery(
      {
        id: row.id,
        integrationId: row.integration_id,
        dedupeKey: row.dedupe_key,
        receivedAt: row.received_at,
        headers: row.headers,
        selfTest: row.self_test,
        state: row.state === 'processed' || row.state === 'ignored' ? row.state : null,
        reason: row.reason,
        about: row.about,
        duplicates: row.duplicates,
      },
      Buffer.from(row.body, 'utf8'),
    );
  journal.append(writer.frame());
  await deps.db.deleteFrom('hub_webhook_landing').execute();
}

/** Rows read per turn while the dedupe index is filled from the inbox. */
const FILL_CHUNK = 5000;

/**
 * Adds the inbox's dedupe keys to the index, a chunk per event-loop turn so that a large inbox
 * does not hold the edge up at start; then its "no" counts. Rows the move adds meanwhile are in
 * it already (their keys were added when they landed). On a failure the index stays incomplete:
 * every key is then looked up, as before it was filled.
 */
async function fillIndex(deps: Deps, index: DedupeIndex): Promise<void> {
  try {
    let after = 0;
    for (;;) {
      const rows = await deps.db
        .selectFrom('hub_webhook_inbox')
        .select([sql<number>`rowid`.as('row'), 'integration_id', 'dedupe_key'])
        .where(sql<number>`rowid`, '>', after)
        .orderBy(sql`rowid`)
        .limit(FILL_CHUNK)
        .execute();
      for (const row of rows) index.add(fingerprint(keyOf(row.integration_id, row.dedupe_key)), IN_INBOX);
      if (rows.length < FILL_CHUNK) break;
      after = (rows.at(-1) as { row: number }).row;
      await new Promise((resolve) => setImmediate(resolve));
    }
    index.markComplete();
  } catch {
    // Left incomplete: correct, only slower.
  }
}

/** The job that moves what has landed; under a heavy burst it starts later, to move more at once. */
export const moveJob = (now: number, heavyBurst: boolean): JobSpec => ({
  name: MOVE_LANDED,
  payload: {},
  // One waiting at a time: every batch landed meanwhile is moved by it.
  dedupeKey: MOVE_LANDED,
  // One at a time: two moves would take the same records.
  orderingKey: MOVE_LANDED,
  ...(heavyBurst ? { runAt: now + HEAVY_BURST_MOVE_DELAY_MS } : {}),
  maxAttempts: 1000,
});

/** The inbox row of a landed delivery: what the edge left to derive, derived (tenant and project are its integration's). */
function inboxRowOfLanded(
  record: LandedDelivery,
  integration: { tenant_id: string; project_id: string },
): WebhookInboxTable {
  // The edge stored the state of every delivery it did not leave to be processed.
  const state = record.state ?? 'received';
  return {
    id: record.id,
    tenant_id: integration.tenant_id,
    project_id: integration.project_id,
    integration_id: record.integrationId,
    dedupe_key: record.dedupeKey,
    received_at: record.receivedAt,
    headers: record.headers,
    body: record.body,
    self_test: record.selfTest,
    state,
    reason: record.reason,
    ...aboutColumnsOf(record.about),
    duplicates: record.duplicates,
    processed_at: state === 'received' ? null : record.receivedAt,
  };
}

/** Inbox rows per INSERT (17 values each: far below SQLite's bound-parameter limit). */
const INSERT_CHUNK = 100;
/** Jobs per enqueue statement (its bound). */
const ENQUEUE_CHUNK = 500;

/**
 * Moves the records of the journal's next frames (about `limit`) into the inbox with their
 * processing jobs, in one synchronous transaction; returns how many records it moved. Deliveries
 * of an integration deleted since are dropped; one already in the inbox (a crash between carrying
 * table rows and deleting them) is not inserted again, nor processed again.
 */
function moveChunk(
  deps: Deps,
  state: LandingState,
  limit: number,
  prepare: (text: string) => SqliteStatement,
): { count: number; next: number } {
  const { records, next } = state.journal.read(state.moved, limit);
  if (records.length === 0) return { count: 0, next };
  const integration = prepare('select tenant_id, project_id from hub_integrations where id = ?');
  const owners = new Map<string, { tenant_id: string; project_id: string } | undefined>();
  const rows: WebhookInboxTable[] = [];
  const duplicates: Array<Extract<JournalRecord, { kind: 'duplicate' }>> = [];
  for (const record of records) {
    if (record.kind === 'duplicate') {
      duplicates.push(record);
      continue;
    }
    if (!owners.has(record.integrationId))
      owners.set(
        record.integrationId,
        integration.get(record.integrationId) as { tenant_id: string; project_id: string } | undefined,
      );
    const owner = owners.get(record.integrationId);
    if (owner) rows.push(inboxRowOfLanded(record, owner));
  }
  const inserted = new Set<string>();
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    const values: unknown[] = [];
    for (const row of chunk) pushInboxValues(values, row);
    const insert = prepare(
      multiRowInsertSql(
        'sqlite',
        'hub_webhook_inbox',
        INBOX_COLUMNS,
        chunk.length,
        'on conflict do nothing returning id',
      ),
    );
    for (const { id } of insert.all(values) as Array<{ id: string }>) inserted.add(id);
  }
  const countDuplicate = prepare('update hub_webhook_inbox set duplicates = duplicates + 1 where id = ?');
  for (const duplicate of duplicates) countDuplicate.run(duplicate.id);
  const last = records.at(-1) as JournalRecord;
  const lastReceived = last.kind === 'delivery' ? last.receivedAt : deps.clock.now();
  const delayMs = processingDelayMs(edgePressure(deps.db).rate.current());
  const runAt = delayMs > 0 ? Math.max(deps.clock.now(), lastReceived + delayMs) : undefined;
  const jobs = rows
    .filter((row) => row.state === 'received' && inserted.has(row.id))
    .map((row) =>
      processDeliveryJob(row.integration_id, row.id, row.resource_id ?? undefined, {
        coalesce: true,
        ...(runAt !== undefined ? { runAt } : {}),
      }),
    );
  for (let i = 0; i < jobs.length; i += ENQUEUE_CHUNK) {
    const statement = deps.queue.enqueueStatement(jobs.slice(i, i + ENQUEUE_CHUNK));
    prepare(statement.sql).run(statement.parameters);
  }
  recordMoved(prepare, state.journal.generation, next);
  return { count: records.length, next };
}

function recordMoved(prepare: (text: string) => SqliteStatement, generation: number, position: number): void {
  prepare(
    'insert into hub_webhook_landing_moved (id, generation, position) values (1, ?, ?) ' +
      'on conflict (id) do update set generation = excluded.generation, position = excluded.position',
  ).run(generation, position);
}

/**
 * Moves one chunk in its own transaction; once everything is moved, empties the journal. One move
 * at a time (the move job and a reader of the inbox may both move): each starts where the last
 * one ended.
 */
function moveOnce(deps: Deps, state: LandingState, limit: number): Promise<number> {
  const run = state.moving.then(async () => {
    const { count, next } = await state.sqlite.transaction((prepare) =>
      moveChunk(deps, state, limit, prepare),
    );
    if (count === 0) return 0;
    state.moved = next;
    // All moved (and nothing landed since: the edge may have waited for a transaction to end):
    // a new generation begins. Should the process stop before, or right after, the next start
    // finds what the move recorded (see landing-journal.ts, JOURNAL_HEADER).
    if (next === state.journal.size) {
      state.base += state.journal.size;
      state.journal.clear();
      state.moved = state.journal.start;
    }
    deps.queue.enqueued();
    return count;
  });
  state.moving = run.catch(() => undefined);
  return run;
}

/**
 * Moves everything landed into the inbox, a chunk at a time. `gated`: within processing's share
 * of time under a burst (the land job); a reader of the inbox moves at once.
 */
export async function moveLanded(deps: Deps, gated: boolean): Promise<void> {
  if (deps.queue.dialect !== 'sqlite') return;
  const state = await landingFor(deps);
  // From here on records landing are not this run's for sure: the edge enqueues another.
  if (gated) state.moveQueued = false;
  const gate = edgePressure(deps.db).gate;
  for (;;) {
    const limit =
      edgePressure(deps.db).rate.current() > HEAVY_BURST_PER_SECOND ? HEAVY_BURST_MOVE_CHUNK : MOVE_CHUNK;
    const moved = gated
      ? await gate.run(() => moveOnce(deps, state, limit), deps.config)
      : await moveOnce(deps, state, limit);
    if (moved < limit) return;
    // SQLite answers synchronously: the edge gets its turn between chunks.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Before the inbox is read: what was acknowledged is in it. */
export async function settleLanding(deps: Deps): Promise<void> {
  if (deps.queue.dialect !== 'sqlite') return;
  const state = await landingFor(deps);
  if (state.moved < state.journal.size) await moveLanded(deps, false);
}

/** Closes the landing journal of this store, if it was opened (the hub stopping). */
export async function closeLanding(db: object): Promise<void> {
  const state = states.get(db);
  if (!state) return;
  states.delete(db);
  loaded.delete(db);
  try {
    const read = await state;
    await read.moving;
    read.journal.close();
  } catch {
    // Never opened: nothing to close.
  }
}
