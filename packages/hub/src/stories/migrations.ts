import type { MigrationContext } from '@calmhub/platform';
import { sql } from 'kysely';

/**
 * Hub-side data hanging off the synced user stories: the fields people edit in the hub (notes,
 * labels) and the components attached to a story. Kept apart from `hub_calm_stories`, which the
 * sync engine owns as a mirror of Cloud ALM.
 */
export async function storiesAndComponentsTables({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_story_fields')
    .addColumn('story_id', 'text', (c) =>
      c.primaryKey().references('hub_calm_stories.id').onDelete('cascade'),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('labels', types.json, (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('hub_story_components')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('story_id', 'text', (c) => c.notNull().references('hub_calm_stories.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('transport_id', 'text')
    .addColumn('details', types.json, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addColumn('detached_by', 'text')
    .addColumn('detached_at', types.timestamp)
    .execute();
  await db.schema
    .createIndex('hub_story_components_story')
    .on('hub_story_components')
    .column('story_id')
    .execute();
  // One attachment of a transport per story (the API answers 409 first; this holds under races).
  await db.schema
    .createIndex('hub_story_components_story_transport')
    .on('hub_story_components')
    .columns(['story_id', 'transport_id'])
    .unique()
    .where(sql.ref('detached_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('hub_story_components_transport')
    .on('hub_story_components')
    .columns(['tenant_id', 'transport_id'])
    .execute();
}
