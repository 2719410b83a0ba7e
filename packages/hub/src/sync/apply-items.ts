import { randomUUID } from 'node:crypto';
import { type JobQueue, writeJson } from '@calmhub/platform';
import type { Kysely, Transaction } from 'kysely';
import type { CalmFeature, CalmTask, CalmTransport } from '../connectors/cloud-alm/client.js';
import type {
  CalmFeaturesTable,
  CalmStoriesTable,
  HubTables,
  StatusTransitionsTable,
} from '../store/tables.js';
import { transitionRecordedJob } from './jobs.js';

export type Db = Kysely<HubTables> | Transaction<HubTables>;

/** Which path saw a change first; every path writes through `applyFeatures` / `applyStories`. */
export type SyncSource = 'full' | 'delta' | 'sweep' | 'webhook';

export interface ItemScope {
  tenantId: string;
  projectId: string;
  integrationId: string;
}

export interface ApplyCounts {
  created: number;
  updated: number;
  unchanged: number;
  transitions: number;
}

/** What one apply did, with the ids of the transitions it recorded (their actions are enqueued). */
export interface ApplyResult extends ApplyCounts {
  recorded: number[];
}

export const emptyCounts = (): ApplyCounts => ({ created: 0, updated: 0, unchanged: 0, transitions: 0 });

export function addCounts(into: ApplyCounts, more: ApplyCounts): void {
  into.created += more.created;
  into.updated += more.updated;
  into.unchanged += more.unchanged;
  into.transitions += more.transitions;
}

/**
 * An item table as applyItems sees either of them: the columns both share, and the kind's own
 * (its key, its status and the rest of `columns`) by the names its ItemKind gives.
 */
type ItemTable = {
  id: string;
  tenant_id: string;
  project_id: string;
  integration_id: string;
  modified_at: number;
  obsolete: number;
  obsolete_at: number | null;
  synced_at: number;
  [kindColumn: string]: unknown;
};
type ItemDb = Kysely<Record<ItemKind<unknown, unknown>['table'], ItemTable>>;

/** How one kind of item maps onto its table; the comparison and transition logic is shared. */
interface ItemKind<I, Row> {
  kind: 'feature' | 'story';
  table: 'hub_calm_features' | 'hub_calm_stories';
  keyColumn: 'calm_uuid' | 'calm_id';
  statusColumn: 'status_code' | 'status';
  key(item: I): string;
  status(item: I): string;
  statusOf(row: Row): string;
  modifiedAt(item: I): number;
  columns(item: I): Partial<Row>;
}

const FEATURE: ItemKind<CalmFeature, CalmFeaturesTable> = {
  kind: 'feature',
  table: 'hub_calm_features',
  keyColumn: 'calm_uuid',
  statusColumn: 'status_code',
  key: (f) => f.uuid,
  status: (f) => f.statusCode,
  statusOf: (row) => row.status_code,
  modifiedAt: (f) => f.modifiedAt,
  columns: (f) => ({
    display_id: f.displayId ?? null,
    title: f.title,
    description: f.description ?? null,
    status_code: f.statusCode,
    priority_code: f.priorityCode ?? null,
    responsible_id: f.responsibleId ?? null,
    modified_at: f.modifiedAt,
    raw: writeJson(f.raw),
  }),
};

const STORY: ItemKind<CalmTask, CalmStoriesTable> = {
  kind: 'story',
  table: 'hub_calm_stories',
  keyColumn: 'calm_id',
  statusColumn: 'status',
  key: (t) => t.id,
  status: (t) => t.status,
  statusOf: (row) => row.status,
  modifiedAt: (t) => t.modifiedAt,
  columns: (t) => ({
    display_id: t.displayId ?? null,
    title: t.title,
    // Task lists carry no description: a changed story's is read again when it is next opened.
    description: t.description ?? null,
    status: t.status,
    sub_status: t.subStatus ?? null,
    priority_id: t.priorityId ?? null,
    assignee_id: t.assigneeId ?? null,
    modified_at: t.modifiedAt,
    raw: writeJson(t.raw),
  }),
};

/**
 * The one write path into the hub's copy of Cloud ALM items. In the caller's transaction it
 * inserts new items, updates those Cloud ALM changed since (older or equal copies are ignored, so
 * a late or repeated delivery cannot move an item back), un-obsoletes items that reappear, and
 * records a status transition when the status differs. The transition's unique key (item, new
 * status, Cloud ALM timestamp) makes it exactly once when two paths see the same change.
 */
async function applyItems<I, Row extends { id: string; modified_at: number; obsolete: number }>(
  db: Db,
  spec: ItemKind<I, Row>,
  scope: ItemScope,
  items: I[],
  source: SyncSource,
  now: number,
  queue: Pick<JobQueue, 'enqueue'>,
): Promise<ApplyResult> {
  const counts: ApplyResult = { ...emptyCounts(), recorded: [] };
  if (items.length === 0) return counts;
  // One body over both tables: their shared columns are typed, the kind's own named by `spec`.
  const itemDb = db as unknown as ItemDb;
  const keys = items.map(spec.key);
  const existing = (await itemDb
    .selectFrom(spec.table)
    .select(['id', 'modified_at', 'obsolete', spec.keyColumn, spec.statusColumn])
    .where('integration_id', '=', scope.integrationId)
    .where(spec.keyColumn, 'in', keys)
    .execute()) as unknown as Row[];
  const byKey = new Map(
    existing.map((row) => [(row as Record<string, unknown>)[spec.keyColumn] as string, row]),
  );
  const transitions: Array<Omit<StatusTransitionsTable, 'id'>> = [];
  const touched: string[] = [];
  const inserts: Array<Record<string, unknown>> = [];
  for (const item of items) {
    const key = spec.key(item);
    const row = byKey.get(key);
    if (!row) {
      inserts.push({
        id: randomUUID(),
        tenant_id: scope.tenantId,
        project_id: scope.projectId,
        integration_id: scope.integrationId,
        [spec.keyColumn]: key,
        ...spec.columns(item),
        obsolete: 0,
        obsolete_at: null,
        synced_at: now,
      });
      byKey.set(key, { id: '', modified_at: spec.modifiedAt(item) } as Row);
      continue;
    }
    if (spec.modifiedAt(item) <= row.modified_at) {
      if (row.obsolete) await reinstate(itemDb, spec, row.id, now);
      touched.push(key);
      counts.unchanged++;
      continue;
    }
    // Guarded on modified_at as well, so a concurrent newer write is never overwritten.
    const result = await itemDb
      .updateTable(spec.table)
      .set({ ...spec.columns(item), obsolete: 0, obsolete_at: null, synced_at: now })
      .where('id', '=', row.id)
      .where('modified_at', '<', spec.modifiedAt(item))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      counts.unchanged++;
      continue;
    }
    counts.updated++;
    const from = spec.statusOf(row);
    const to = spec.status(item);
    if (from !== to) {
      transitions.push({
        tenant_id: scope.tenantId,
        integration_id: scope.integrationId,
        item_kind: spec.kind,
        item_id: row.id,
        calm_id: key,
        from_status: from,
        to_status: to,
        changed_at: spec.modifiedAt(item),
        source,
        recorded_at: now,
      });
    }
  }
  // One statement per 200 new items: a page of a full sync is a handful of round trips, not hundreds.
  for (let i = 0; i < inserts.length; i += 200) {
    const inserted = await itemDb
      .insertInto(spec.table)
      .values(inserts.slice(i, i + 200))
      // Two paths inserting the same new item: the second finds it there.
      .onConflict((oc) => oc.columns(['integration_id', spec.keyColumn]).doNothing())
      .returning('id')
      .execute();
    counts.created += inserted.length;
    counts.unchanged += Math.min(200, inserts.length - i) - inserted.length;
  }
  if (touched.length > 0) {
    await itemDb
      .updateTable(spec.table)
      .set({ synced_at: now })
      .where('integration_id', '=', scope.integrationId)
      .where(spec.keyColumn, 'in', touched)
      .execute();
  }
  for (const transition of transitions) {
    const inserted = await db
      .insertInto('hub_status_transitions')
      .values(transition)
      .onConflict((oc) =>
        oc.columns(['integration_id', 'item_kind', 'calm_id', 'to_status', 'changed_at']).doNothing(),
      )
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      counts.transitions++;
      counts.recorded.push(Number(inserted.id));
      // The transition and the job that acts on it commit together.
      await queue.enqueue(transitionRecordedJob(Number(inserted.id)), db);
    }
  }
  return counts;
}

async function reinstate<I, Row>(db: ItemDb, spec: ItemKind<I, Row>, id: string, now: number): Promise<void> {
  await db
    .updateTable(spec.table)
    .set({ obsolete: 0, obsolete_at: null, synced_at: now })
    .where('id', '=', id)
    .execute();
}

export function applyFeatures(
  db: Db,
  queue: Pick<JobQueue, 'enqueue'>,
  scope: ItemScope,
  features: CalmFeature[],
  source: SyncSource,
  now: number,
) {
  return applyItems(db, FEATURE, scope, features, source, now, queue);
}

export function applyStories(
  db: Db,
  queue: Pick<JobQueue, 'enqueue'>,
  scope: ItemScope,
  stories: CalmTask[],
  source: SyncSource,
  now: number,
) {
  return applyItems(db, STORY, scope, stories, source, now, queue);
}

/** Transports Cloud ALM lists on the integration's features; unknown references are kept out. */
export async function applyTransports(
  db: Db,
  scope: ItemScope,
  transports: CalmTransport[],
  now: number,
): Promise<number> {
  if (transports.length === 0) return 0;
  const referenced = new Set(
    (
      await db
        .selectFrom('hub_calm_feature_transports')
        .select('transport_calm_uuid')
        .where('integration_id', '=', scope.integrationId)
        .where(
          'transport_calm_uuid',
          'in',
          transports.map((t) => t.uuid),
        )
        .execute()
    ).map((row) => row.transport_calm_uuid),
  );
  const rows = transports
    .filter((t) => referenced.has(t.uuid))
    .map((t) => ({
      integration_id: scope.integrationId,
      calm_uuid: t.uuid,
      tenant_id: scope.tenantId,
      transport_id: t.transportId,
      description: t.description ?? null,
      owner: t.owner ?? null,
      status: t.status,
      source_system: t.sourceSystem ?? null,
      target_system: t.targetSystem ?? null,
      modified_at: t.modifiedAt,
      raw: writeJson(t.raw),
      obsolete: 0,
      synced_at: now,
    }));
  for (let i = 0; i < rows.length; i += 200) {
    await db
      .insertInto('hub_calm_transports')
      .values(rows.slice(i, i + 200))
      .onConflict((oc) =>
        oc.columns(['integration_id', 'calm_uuid']).doUpdateSet((eb) => ({
          transport_id: eb.ref('excluded.transport_id'),
          description: eb.ref('excluded.description'),
          owner: eb.ref('excluded.owner'),
          status: eb.ref('excluded.status'),
          source_system: eb.ref('excluded.source_system'),
          target_system: eb.ref('excluded.target_system'),
          modified_at: eb.ref('excluded.modified_at'),
          raw: eb.ref('excluded.raw'),
          obsolete: 0,
          synced_at: now,
        })),
      )
      .execute();
  }
  return rows.length;
}
