import { type Kysely, type Selectable, sql } from 'kysely';
import type {
  CalmFeaturesTable,
  CalmStoriesTable,
  CalmTransportsTable,
  HubTables,
  StatusTransitionsTable,
  StoryFieldsTable,
} from '../store/tables.js';

type Db = Kysely<HubTables>;

export interface StoryFilter {
  tenantId: string;
  projectId: string;
  featureStatus?: string[] | undefined;
  status?: string[] | undefined;
  search?: string | undefined;
  featureId?: string | undefined;
  includeObsolete?: boolean | undefined;
}

export type StorySort = 'feature' | 'displayId' | 'title' | 'status' | 'priority' | 'modifiedAt';

/** `%`, `_` and the escape character itself, escaped for `like … escape '\'`. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function filteredStories(db: Db, filter: StoryFilter) {
  let query = db
    .selectFrom('hub_calm_stories as s')
    .leftJoin('hub_calm_features as f', (join) =>
      join
        .onRef('f.integration_id', '=', 's.integration_id')
        .onRef('f.calm_uuid', '=', 's.feature_calm_uuid'),
    )
    .where('s.tenant_id', '=', filter.tenantId)
    .where('s.project_id', '=', filter.projectId);
  if (!filter.includeObsolete) query = query.where('s.obsolete', '=', 0);
  if (filter.status?.length) query = query.where('s.status', 'in', filter.status);
  if (filter.featureStatus?.length) query = query.where('f.status_code', 'in', filter.featureStatus);
  if (filter.featureId) query = query.where('f.id', '=', filter.featureId);
  if (filter.search) {
    const pattern = likePattern(filter.search.trim());
    const exact = filter.search.trim();
    query = query.where((eb) =>
      eb.or([
        sql<boolean>`lower(s.title) like ${pattern} escape '\\'`,
        sql<boolean>`lower(coalesce(s.display_id, '')) like ${pattern} escape '\\'`,
        eb('s.calm_id', '=', exact),
      ]),
    );
  }
  return query;
}

export async function countStories(db: Db, filter: StoryFilter): Promise<number> {
  const row = await filteredStories(db, filter)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface StoryWithFeature {
  story: CalmStoriesTable;
  featureId: string | null;
}

/** One page of stories, features in display id order (stories of no feature last), then `sort`. */
export async function pageStories(
  db: Db,
  filter: StoryFilter,
  page: { sort: StorySort; order: 'asc' | 'desc'; limit: number; offset: number },
): Promise<StoryWithFeature[]> {
  const dir = page.order;
  let query = filteredStories(db, filter)
    .selectAll('s')
    .select('f.id as feature_id')
    .orderBy(sql`case when f.id is null then 1 else 0 end`)
    .orderBy(sql`coalesce(f.display_id, '')`)
    .orderBy(sql`lower(coalesce(f.title, ''))`)
    .orderBy(sql`coalesce(f.id, '')`);
  switch (page.sort) {
    case 'feature':
    case 'displayId':
      query = query.orderBy(sql`coalesce(s.display_id, '')`, dir);
      break;
    case 'title':
      query = query.orderBy(sql`lower(s.title)`, dir);
      break;
    case 'status':
      query = query.orderBy('s.status', dir);
      break;
    case 'priority':
      query = query.orderBy(sql`coalesce(s.priority_id, 999)`, dir);
      break;
    case 'modifiedAt':
      query = query.orderBy('s.modified_at', dir);
      break;
  }
  const rows = await query.orderBy('s.id').limit(page.limit).offset(page.offset).execute();
  return rows.map(({ feature_id, ...story }) => ({
    story: story as CalmStoriesTable,
    featureId: feature_id,
  }));
}

export function findStory(db: Db, tenantId: string, id: string): Promise<CalmStoriesTable | undefined> {
  return db
    .selectFrom('hub_calm_stories')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function findFeature(db: Db, tenantId: string, id: string): Promise<CalmFeaturesTable | undefined> {
  return db
    .selectFrom('hub_calm_features')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function featuresByIds(db: Db, tenantId: string, ids: string[]): Promise<CalmFeaturesTable[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('hub_calm_features')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', ids)
    .execute();
}

export function featureOfStory(db: Db, story: CalmStoriesTable): Promise<CalmFeaturesTable | undefined> {
  if (!story.feature_calm_uuid) return Promise.resolve(undefined);
  return db
    .selectFrom('hub_calm_features')
    .selectAll()
    .where('tenant_id', '=', story.tenant_id)
    .where('integration_id', '=', story.integration_id)
    .where('calm_uuid', '=', story.feature_calm_uuid)
    .executeTakeFirst();
}

export function storiesOfFeature(
  db: Db,
  feature: CalmFeaturesTable,
  includeObsolete: boolean,
): Promise<CalmStoriesTable[]> {
  let query = db
    .selectFrom('hub_calm_stories')
    .selectAll()
    .where('tenant_id', '=', feature.tenant_id)
    .where('integration_id', '=', feature.integration_id)
    .where('feature_calm_uuid', '=', feature.calm_uuid);
  if (!includeObsolete) query = query.where('obsolete', '=', 0);
  return query.orderBy(sql`coalesce(display_id, '')`).orderBy('id').execute();
}

/** Transports Cloud ALM lists on a feature (not obsolete ones unless asked). */
export function transportsOfFeature(
  db: Db,
  feature: Pick<CalmFeaturesTable, 'tenant_id' | 'integration_id' | 'calm_uuid'>,
  includeObsolete: boolean,
): Promise<CalmTransportsTable[]> {
  let query = db
    .selectFrom('hub_calm_feature_transports as ft')
    .innerJoin('hub_calm_transports as t', (join) =>
      join
        .onRef('t.integration_id', '=', 'ft.integration_id')
        .onRef('t.calm_uuid', '=', 'ft.transport_calm_uuid'),
    )
    .selectAll('t')
    .where('t.tenant_id', '=', feature.tenant_id)
    .where('ft.integration_id', '=', feature.integration_id)
    .where('ft.feature_calm_uuid', '=', feature.calm_uuid);
  if (!includeObsolete) query = query.where('t.obsolete', '=', 0);
  return query.orderBy('t.transport_id').execute();
}

export function transitionsOf(
  db: Db,
  tenantId: string,
  kind: 'feature' | 'story',
  itemId: string,
): Promise<Selectable<StatusTransitionsTable>[]> {
  return db
    .selectFrom('hub_status_transitions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('item_kind', '=', kind)
    .where('item_id', '=', itemId)
    .orderBy('changed_at')
    .orderBy('id')
    .execute();
}

export async function hubFieldsOf(
  db: Db,
  tenantId: string,
  storyIds: string[],
): Promise<Map<string, StoryFieldsTable>> {
  if (storyIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('hub_story_fields')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('story_id', 'in', storyIds)
    .execute();
  return new Map(rows.map((row) => [row.story_id, row]));
}

export async function componentCounts(
  db: Db,
  tenantId: string,
  storyIds: string[],
): Promise<Map<string, number>> {
  if (storyIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('hub_story_components')
    .select(['story_id', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('tenant_id', '=', tenantId)
    .where('story_id', 'in', storyIds)
    .where('detached_at', 'is', null)
    .groupBy('story_id')
    .execute();
  return new Map(rows.map((row) => [row.story_id, Number(row.n)]));
}

/** Status and priority names of the integrations' code lists, keyed `integration|list|code`. */
export async function codeNames(db: Db, integrationIds: string[]): Promise<Map<string, string>> {
  if (integrationIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('hub_calm_code_lists')
    .selectAll()
    .where('integration_id', 'in', integrationIds)
    .execute();
  return new Map(rows.map((row) => [`${row.integration_id}|${row.list}|${row.code}`, row.name]));
}

export async function integrationsByIds(
  db: Db,
  tenantId: string,
  ids: string[],
): Promise<Map<string, { id: string; name: string; host_url: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('hub_integrations')
    .select(['id', 'name', 'host_url'])
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

export async function saveHubFields(db: Db, row: StoryFieldsTable): Promise<void> {
  await db
    .insertInto('hub_story_fields')
    .values(row)
    .onConflict((oc) =>
      oc.column('story_id').doUpdateSet({
        notes: row.notes,
        labels: row.labels,
        updated_by: row.updated_by,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}
