import type { Kysely } from 'kysely';
import type { DependencySource, HubTables, StoryDependenciesTable } from '../store/tables.js';

type Db = Kysely<HubTables>;

/** A dependency with the story it points at. */
export interface DependencyRow extends StoryDependenciesTable {
  project_id: string;
  display_id: string | null;
  title: string;
  status: string;
  obsolete: number;
}

/** What a story depends on, with those stories' fields; oldest first. */
export function dependenciesOf(db: Db, tenantId: string, storyId: string): Promise<DependencyRow[]> {
  return db
    .selectFrom('hub_story_dependencies as d')
    .innerJoin('hub_calm_stories as s', 's.id', 'd.depends_on_story_id')
    .selectAll('d')
    .select(['s.project_id', 's.display_id', 's.title', 's.status', 's.obsolete'])
    .where('d.tenant_id', '=', tenantId)
    .where('s.tenant_id', '=', tenantId)
    .where('d.story_id', '=', storyId)
    .orderBy('d.created_at')
    .orderBy('s.display_id')
    .orderBy('s.id')
    .execute();
}

export function findDependency(
  db: Db,
  tenantId: string,
  storyId: string,
  dependsOnId: string,
): Promise<StoryDependenciesTable | undefined> {
  return db
    .selectFrom('hub_story_dependencies')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('story_id', '=', storyId)
    .where('depends_on_story_id', '=', dependsOnId)
    .executeTakeFirst();
}

/** Stories the given ones depend on directly (one step of a walk along dependencies). */
export async function dependedOnBy(db: Db, tenantId: string, storyIds: string[]): Promise<string[]> {
  if (storyIds.length === 0) return [];
  const rows = await db
    .selectFrom('hub_story_dependencies')
    .select('depends_on_story_id')
    .where('tenant_id', '=', tenantId)
    .where('story_id', 'in', storyIds)
    .execute();
  return rows.map((row) => row.depends_on_story_id);
}

/**
 * Makes the story's `source` rows exactly `dependsOn`: removes the others of that source, adds the
 * missing pairs (a pair another source already holds stays as it is).
 */
export async function replaceDependencies(
  db: Db,
  row: { tenantId: string; storyId: string; source: DependencySource; createdBy: string; createdAt: number },
  dependsOn: string[],
): Promise<void> {
  let stale = db
    .deleteFrom('hub_story_dependencies')
    .where('tenant_id', '=', row.tenantId)
    .where('story_id', '=', row.storyId)
    .where('source', '=', row.source);
  if (dependsOn.length > 0) stale = stale.where('depends_on_story_id', 'not in', dependsOn);
  await stale.execute();
  if (dependsOn.length === 0) return;
  await db
    .insertInto('hub_story_dependencies')
    .values(
      dependsOn.map((id) => ({
        tenant_id: row.tenantId,
        story_id: row.storyId,
        depends_on_story_id: id,
        source: row.source,
        created_by: row.createdBy,
        created_at: row.createdAt,
      })),
    )
    .onConflict((conflict) => conflict.columns(['story_id', 'depends_on_story_id']).doNothing())
    .execute();
}
