import { multiRowInsertSql } from '@calmhub/platform';
import { CompiledQuery, type Kysely } from 'kysely';
import type { HubDeps } from '../app/deps.js';
import type { HubTables } from '../store/tables.js';
import {
  type Checked,
  check,
  type Delivery,
  INBOX_COLUMNS,
  type IngestResult,
  type IntegrationRow,
  inboxRowOf,
  integrationsSql,
  pushInboxValues,
  type Stored,
  UNKNOWN,
  webhookStateUpdates,
} from './check-delivery.js';
import { edgePressure } from './edge-pressure.js';
import { processDeliveryJob } from './jobs.js';
import { SqliteEdge } from './sqlite-edge.js';

export type { Delivery, IngestResult } from './check-delivery.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'queue' | 'store' | 'config' | 'logger'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Most deliveries stored together; more wait for the next batch. */
const MAX_BATCH = 256;
/** Rows per INSERT statement (17 columns each: far below both engines' bound-parameter limits). */
const INSERT_CHUNK = 100;

/**
 * The webhook edge: checks the path's ids and key (and Basic when the integration asks for it),
 * then stores the raw delivery durably with what processes it (PostgreSQL: the inbox row and its
 * job, in one transaction; SQLite: a record of the landing journal, see sqlite-edge.ts). Every
 * mismatch is the same `unknown_endpoint`, so the answer tells nothing about which part was wrong.
 *
 * Group commit: the deliveries that arrive while the store is busy (or within the same event-loop
 * turn) are checked and stored together, and `done` is called for each once they are stored: an
 * `accepted` means the delivery is in the store. No promise per delivery: under a burst every
 * one of them takes this path. The integration row is read with each batch, so a disabled
 * integration, a new key or a changed Basic credential holds for every delivery stored after it
 * committed (no cache of the row).
 */
export function ingestDelivery(deps: Deps, delivery: Delivery, done: Answered): void {
  if (UUID.test(delivery.integrationId) && UUID.test(delivery.tenantId) && UUID.test(delivery.projectId))
    batcherFor(deps).submit(delivery, done);
  else done(UNKNOWN);
}

/** Told a delivery's result once it is stored (or why not), or the error that kept it from being stored. */
export type Answered = (result: IngestResult | Error) => void;

const batchers = new WeakMap<object, IngestBatcher>();

/** One batcher per store (a hub process has one; tests start several hubs in one process). */
function batcherFor(deps: Deps): IngestBatcher {
  let batcher = batchers.get(deps.db);
  if (!batcher) {
    batcher = new IngestBatcher(deps);
    batchers.set(deps.db, batcher);
  }
  return batcher;
}

/** One answer: a caller that fails (its connection gone) must not keep the others of its batch from theirs. */
function answer(done: Answered, result: IngestResult | Error): void {
  try {
    done(result);
  } catch {
    // Nothing left to tell that caller.
  }
}

class IngestBatcher {
  private deliveries: Delivery[] = [];
  private answers: Answered[] = [];
  private scheduled = false;
  private writing = false;
  constructor(private readonly deps: Deps) {}

  submit(delivery: Delivery, done: Answered): void {
    this.deliveries.push(delivery);
    this.answers.push(done);
    this.schedule();
  }

  /**
   * One batch at a time: deliveries arriving while one is written go into the next. On SQLite
   * the writes take no event-loop turn, so a batch is what arrived in one turn; on PostgreSQL it
   * is what arrived during the previous batch's round trips.
   */
  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const deliveries = this.deliveries.splice(0, MAX_BATCH);
    if (deliveries.length === 0) return;
    const answers = this.answers.splice(0, MAX_BATCH);
    this.writing = true;
    edgePressure(this.deps.db).rate.add(deliveries.length);
    ingestTogether(this.deps, deliveries)
      .then(
        (results) => {
          for (let i = 0; i < answers.length; i++) answer(answers[i] as Answered, results[i] as IngestResult);
        },
        (error: unknown) => this.retryEach(deliveries, answers, error),
      )
      .finally(() => {
        this.writing = false;
        if (this.deliveries.length > 0) this.schedule();
      });
  }

  /** A delivery that cannot be stored must not fail the others: each again on its own. */
  private async retryEach(deliveries: Delivery[], answers: Answered[], error: unknown): Promise<void> {
    const failed = (cause: unknown) => (cause instanceof Error ? cause : new Error(String(cause)));
    if (deliveries.length === 1) {
      answer(answers[0] as Answered, failed(error));
      return;
    }
    for (let i = 0; i < deliveries.length; i++) {
      const done = answers[i] as Answered;
      let result: IngestResult | Error;
      try {
        result = (await ingestTogether(this.deps, [deliveries[i] as Delivery]))[0] as IngestResult;
      } catch (single) {
        result = failed(single);
      }
      answer(done, result);
    }
  }
}

/**
 * Checks and stores deliveries in one transaction; one result per delivery, in order. SQLite
 * lands them (see sqlite-edge.ts) in a synchronous transaction; PostgreSQL stores them in the
 * inbox with their processing jobs.
 */
function ingestTogether(deps: Deps, deliveries: Delivery[]): Promise<IngestResult[]> {
  if (!deps.store.sqlite) return storeTogether(deps, deliveries);
  const edge = SqliteEdge.of(deps);
  return edge instanceof Promise
    ? edge.then((ready) => ready.landTogether(deliveries))
    : edge.landTogether(deliveries);
}

/**
 * PostgreSQL: one transaction through Kysely. The deliveries go straight into the inbox, each
 * with its processing job; a duplicate (of a stored delivery, or of one earlier in the batch) is
 * counted on the stored one.
 */
function storeTogether(deps: Deps, deliveries: Delivery[]): Promise<IngestResult[]> {
  const integrationIds = [...new Set(deliveries.map((d) => d.integrationId.toLowerCase()))];
  return deps.db.transaction().execute(async (trx) => {
    const { rows } = await trx.executeQuery<IntegrationRow>(
      CompiledQuery.raw(integrationsSql(deps.queue.dialect, integrationIds.length), integrationIds),
    );
    const integrations = new Map<string, IntegrationRow>(rows.map((row) => [row.id, row]));
    const now = deps.clock.now();
    const checked: Checked[] = deliveries.map((d) =>
      check(deps.secrets, d, integrations.get(d.integrationId.toLowerCase())),
    );
    const toStore = checked.filter((c): c is Stored => !('result' in c));
    const inserted = await insertIntoInbox(trx, deps, toStore, now);
    const results: IngestResult[] = [];
    const received = new Set<IntegrationRow>();
    const selfTested: IntegrationRow[] = [];
    const jobs = [];
    for (const c of checked) {
      if ('result' in c) {
        results.push(c.result);
        continue;
      }
      if (!inserted.has(c.id)) {
        const existing = await trx
          .updateTable('hub_webhook_inbox')
          .set((eb) => ({ duplicates: eb('duplicates', '+', 1) }))
          .where('integration_id', '=', c.integration.id)
          .where('dedupe_key', '=', c.dedupe)
          .returning('id')
          .executeTakeFirstOrThrow();
        results.push({ outcome: 'duplicate', id: existing.id });
        continue;
      }
      results.push({ outcome: 'accepted', id: c.id });
      if (c.delivery.selfTest) selfTested.push(c.integration);
      else received.add(c.integration);
      if (!c.delivery.selfTest && !c.ignoredBecause)
        jobs.push(processDeliveryJob(c.integration.id, c.id, c.envelope.resourceId));
    }
    if (jobs.length > 0) await deps.queue.enqueueMany(jobs, trx);
    for (const query of webhookStateUpdates(deps.db, received, selfTested, now))
      await trx.executeQuery(query);
    return results;
  });
}

/** The ids of the deliveries inserted; those missing were there already. */
async function insertIntoInbox(
  trx: Kysely<HubTables>,
  deps: Deps,
  toStore: Stored[],
  now: number,
): Promise<Set<string>> {
  const inserted = new Set<string>();
  for (let i = 0; i < toStore.length; i += INSERT_CHUNK) {
    const chunk = toStore.slice(i, i + INSERT_CHUNK);
    const values: unknown[] = [];
    for (const stored of chunk) pushInboxValues(values, inboxRowOf(stored, now));
    const { rows: returned } = await trx.executeQuery<{ id: string }>(
      CompiledQuery.raw(
        multiRowInsertSql(
          deps.queue.dialect,
          'hub_webhook_inbox',
          INBOX_COLUMNS,
          chunk.length,
          'on conflict (integration_id, dedupe_key) do nothing returning id',
        ),
        values,
      ),
    );
    for (const row of returned) inserted.add(row.id);
  }
  return inserted;
}
