import type { MigrationContext } from '@calmhub/platform';
import { sql } from 'kysely';

/**
 * "Story A depends on story B": added in the hub (`hub`) or read from Cloud ALM's task relations
 * (`calm`, replaced on every refresh). One row per pair, whichever source saw it first.
 */
export async function dependencyTables({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_story_dependencies')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('story_id', 'text', (c) => c.notNull().references('hub_calm_stories.id').onDelete('cascade'))
    .addColumn('depends_on_story_id', 'text', (c) =>
      c.notNull().references('hub_calm_stories.id').onDelete('cascade'),
    )
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_story_dependencies_pk', ['story_id', 'depends_on_story_id'])
    .addCheckConstraint('hub_story_dependencies_not_self', sql`story_id <> depends_on_story_id`)
    .execute();
  await db.schema
    .createIndex('hub_story_dependencies_depends_on')
    .on('hub_story_dependencies')
    .column('depends_on_story_id')
    .execute();
}
