import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createJobQueue, jobsMigrations, type MigrationSet, migrateToLatest } from '@calmhub/platform';
import { createSqliteTestStore, type TestStore } from '@calmhub/platform/testing';
import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { HubDeps } from '../app/deps.js';
import { hubMigrationSets, hubMigrations } from '../store/migrations.js';
import type { HubTables } from '../store/tables.js';
import { DedupeIndex, fingerprint } from './dedupe-index.js';
import { PROCESS_DELIVERY } from './jobs.js';
import { closeLanding, settleLanding } from './landing.js';
import { FrameWriter, journalFileOf, type LandedDelivery, LandingJournal } from './landing-journal.js';

describe('the dedupe index', () => {
  it('finds every key added, with its place, across its growth; other keys rarely match a fingerprint', () => {
    const index = new DedupeIndex();
    const added = Array.from({ length: 150_000 }, (_, i) => `integration\nid:${i}`);
    added.forEach((key, i) => {
      index.add(fingerprint(key), i);
    });
    // Until the keys already stored have all been added, nothing is certain.
    expect(index.complete).toBe(false);
    index.markComplete();
    expect(added.every((key, i) => index.placesOf(fingerprint(key)).includes(i))).toBe(true);
    const others = Array.from({ length: 20_000 }, (_, i) => `integration\nother:${i}`);
    const matches = others.filter((key) => index.placesOf(fingerprint(key)).length > 0).length;
    // 150,000 fingerprints of 32 bits: about one key in 30,000 shares one.
    expect(matches).toBeLessThan(20);
  });
});

/**
 * What moving the landing takes, for a store with this integration (foreign keys are off on the
 * connection, so only its NOT NULL columns without a default need a value).
 */
async function landingDeps(
  store: TestStore['store'],
  integration: { id: string; tenant_id: string; project_id: string },
): Promise<HubDeps> {
  const db = store.db as unknown as Kysely<HubTables>;
  const columns = await sql<{
    name: string;
    notnull: number;
    dflt_value: unknown;
  }>`pragma table_info(hub_integrations)`.execute(db);
  const row: Record<string, unknown> = { ...integration };
  for (const column of columns.rows)
    if (column.notnull && column.dflt_value === null && !(column.name in row)) row[column.name] = 'x';
  await db
    .insertInto('hub_integrations')
    .values(row as never)
    .execute();
  return {
    db,
    queue: createJobQueue(store),
    store,
    clock: { now: () => 5000 },
    config: {
      webhookBurstProcessingShare: 0.05,
      webhookBurstProcessingDelayMs: 0,
      sqliteSynchronous: 'NORMAL',
    },
  } as unknown as HubDeps;
}

describe('the landing (SQLite)', () => {
  let testStore: TestStore | undefined;
  afterEach(async () => {
    await testStore?.cleanup();
    testStore = undefined;
  });

  it('carries rows landed before the lean layout and the journal over, and moves them into the inbox as they were', async () => {
    const upTo = (last: string): MigrationSet => ({
      name: hubMigrations.name,
      migrations: Object.fromEntries(
        Object.entries(hubMigrations.migrations).filter(([name]) => name <= last),
      ),
    });
    testStore = await createSqliteTestStore([jobsMigrations, upTo('0011_inbox_landing')]);
    const { store } = testStore;
    const integrationId = '0190a6f8-1234-7000-8000-000000000001';
    const tenantId = '0190a6f8-1234-7000-8000-0000000000bb';
    const projectId = '0190a6f8-1234-7000-8000-0000000000cc';
    const feature = '0190a6f8-1234-7000-8000-0000000000aa';
    const body = JSON.stringify({
      resourceType: 'FEATURE',
      eventType: 'FEATURE.UPDATED',
      resourceId: feature,
    });
    // The old layout: every inbox column. The integration's rows are not needed for the upgrade.
    await sql`pragma foreign_keys = off`.execute(store.db);
    const old = (seq: number, state: string, reason: string | null) =>
      sql`insert into hub_webhook_landing (seq, id, tenant_id, project_id, integration_id, dedupe_key, received_at,
        headers, body, self_test, state, reason, resource_type, event_type, resource_id, item_kind, duplicates, processed_at)
        values (${seq}, ${`0190a6f8-1234-7000-8000-00000000000${seq}`}, ${tenantId}, ${projectId}, ${integrationId},
        ${`id:${seq}`}, ${1000 + seq}, '{"webhook-id":"x"}', ${body}, 0, ${state}, ${reason}, 'FEATURE',
        'FEATURE.UPDATED', ${feature}, 'feature', ${seq}, null)`.execute(store.db);
    await old(1, 'received', null);
    await old(2, 'ignored', 'The integration is disabled');

    await migrateToLatest(store, hubMigrationSets);
    const db = store.db as unknown as Kysely<HubTables>;
    expect(await db.selectFrom('hub_webhook_landing').selectAll().orderBy('seq').execute()).toEqual([
      expect.objectContaining({
        seq: 1,
        integration_id: integrationId,
        dedupe_key: 'id:1',
        state: null,
        duplicates: 1,
        about: ['FEATURE', 'FEATURE.UPDATED', feature, 'feature'].join('\u001f'),
      }),
      expect.objectContaining({
        seq: 2,
        state: 'ignored',
        reason: 'The integration is disabled',
        duplicates: 2,
      }),
    ]);

    // Moved: what the lean row leaves out is derived again (tenant and project from the integration,
    // whose other columns do not matter here: foreign keys are still off on this connection).
    const deps = await landingDeps(store, { id: integrationId, tenant_id: tenantId, project_id: projectId });
    // At start the rows are carried into the landing journal, then moved from there.
    await settleLanding(deps);
    expect(await db.selectFrom('hub_webhook_landing').selectAll().execute()).toEqual([]);
    const inbox = await db.selectFrom('hub_webhook_inbox').selectAll().orderBy('received_at').execute();
    expect(inbox).toEqual([
      expect.objectContaining({
        id: '0190a6f8-1234-7000-8000-000000000001',
        tenant_id: tenantId,
        project_id: projectId,
        state: 'received',
        reason: null,
        resource_type: 'FEATURE',
        event_type: 'FEATURE.UPDATED',
        resource_id: feature,
        item_kind: 'feature',
        duplicates: 1,
        processed_at: null,
      }),
      expect.objectContaining({
        state: 'ignored',
        reason: 'The integration is disabled',
        processed_at: 1002,
      }),
    ]);
    // Only the received one is processed.
    const queued = await db
      .selectFrom('calmhub_jobs' as never)
      .select(['name' as never, 'payload' as never])
      .where('name' as never, '=', PROCESS_DELIVERY as never)
      .execute();
    expect(queued).toHaveLength(1);
  });
});

describe('the landing journal across stops (SQLite)', () => {
  let testStore: TestStore | undefined;
  afterEach(async () => {
    if (testStore) await closeLanding(testStore.store.db);
    await testStore?.cleanup();
    testStore = undefined;
  });

  const integrationId = '0190a6f8-1234-7000-8000-000000000001';
  const landed = (n: number): Omit<LandedDelivery, 'body'> => ({
    id: `0190a6f8-1234-7000-8000-${String(n).padStart(12, '0')}`,
    integrationId,
    dedupeKey: `id:msg_${n}`,
    receivedAt: 1000 + n,
    headers: '{}',
    selfTest: 0,
    state: null,
    reason: null,
    about: 'FEATURE\u001fFEATURE.UPDATED\u001f0190a6f8-1234-7000-8000-0000000000aa\u001ffeature',
    duplicates: 0,
  });
  const body = Buffer.from('{"resourceType":"FEATURE","resourceId":"0190a6f8-1234-7000-8000-0000000000aa"}');

  async function setUp(upTo?: string) {
    testStore = await createSqliteTestStore([
      jobsMigrations,
      upTo
        ? {
            name: hubMigrations.name,
            migrations: Object.fromEntries(
              Object.entries(hubMigrations.migrations).filter(([name]) => name <= upTo),
            ),
          }
        : hubMigrations,
    ]);
    const { store } = testStore;
    const db = store.db as unknown as Kysely<HubTables>;
    await sql`pragma foreign_keys = off`.execute(db);
    const deps = await landingDeps(store, { id: integrationId, tenant_id: 't', project_id: 'p' });
    return { db, deps, journalFile: journalFileOf(testStore.location) };
  }
  const inbox = (db: Kysely<HubTables>) =>
    db.selectFrom('hub_webhook_inbox').select(['id', 'duplicates']).orderBy('id').execute();
  const processJobs = async (db: Kysely<HubTables>) =>
    (
      await db
        .selectFrom('calmhub_jobs' as never)
        .select('id' as never)
        .where('name' as never, '=', PROCESS_DELIVERY as never)
        .execute()
    ).length;

  it('moves nothing twice when the process stopped between a move and emptying the journal', async () => {
    const { db, deps, journalFile } = await setUp();
    const journal = LandingJournal.open(testStore?.location, 'NORMAL', 0);
    const writer = new FrameWriter();
    writer.delivery(landed(1), body);
    writer.delivery(landed(2), body);
    writer.duplicate(landed(1).id);
    journal.append(Buffer.from(writer.frame()));
    journal.close();
    const before = readFileSync(journalFile);

    await settleLanding(deps);
    expect(await inbox(db)).toEqual([
      { id: landed(1).id, duplicates: 1 },
      { id: landed(2).id, duplicates: 0 },
    ]);
    // One job for both: they are about the same feature.
    const jobs = await processJobs(db);
    expect(jobs).toBe(1);

    // The stop fell after the move committed and before the journal was emptied: the file as it was.
    await closeLanding(db);
    writeFileSync(journalFile, before);
    await settleLanding(deps);
    expect(await inbox(db)).toEqual([
      { id: landed(1).id, duplicates: 1 },
      { id: landed(2).id, duplicates: 0 },
    ]);
    expect(await processJobs(db)).toBe(jobs);
  });

  it('carries rows landed in the table over after cutting off a frame a stop left torn', async () => {
    const { db, deps, journalFile } = await setUp('0013_inbox_landing_journal');
    await db
      .insertInto('hub_webhook_landing')
      .values({
        seq: 1,
        id: landed(7).id,
        integration_id: integrationId,
        dedupe_key: landed(7).dedupeKey,
        received_at: 1007,
        headers: '{}',
        body: body.toString(),
        self_test: 0,
        state: null,
        reason: null,
        duplicates: 0,
        about: landed(7).about,
      })
      .execute();
    // A first start after the upgrade, stopped in the middle of writing the carried rows.
    const journal = LandingJournal.open(testStore?.location, 'NORMAL', 0);
    const writer = new FrameWriter();
    writer.delivery(landed(7), body);
    const frame = Buffer.from(writer.frame());
    journal.close();
    appendFileSync(journalFile, frame.subarray(0, frame.length - 5));

    await settleLanding(deps);
    expect(await inbox(db)).toEqual([{ id: landed(7).id, duplicates: 0 }]);
    expect(await db.selectFrom('hub_webhook_landing').selectAll().execute()).toEqual([]);
  });
});
