import type { MigrationContext } from '@calmhub/platform';
import { sql } from 'kysely';

/**
 * Release pipelines of a project, every saved definition kept as a version (a run keeps the
 * version it started with), and the explicit pipeline of a story. A deleted pipeline stays as a
 * stamped row, so the versions runs refer to stay readable.
 */
export async function pipelineTables({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_pipelines')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull().references('hub_projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('current_version', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addColumn('deleted_by', 'text')
    .addColumn('deleted_at', types.timestamp)
    .execute();
  // Names are unique among a project's live pipelines; a deleted one frees its name.
  await db.schema
    .createIndex('hub_pipelines_project_name')
    .on('hub_pipelines')
    .columns(['project_id', 'name'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  // At most one default per project (the operations keep it exactly one while any pipeline lives).
  await db.schema
    .createIndex('hub_pipelines_project_default')
    .on('hub_pipelines')
    .column('project_id')
    .unique()
    .where(sql.ref('is_default'), '=', 1)
    .execute();

  await db.schema
    .createTable('hub_pipeline_versions')
    .addColumn('pipeline_id', 'text', (c) => c.notNull().references('hub_pipelines.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('definition', types.json, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_pipeline_versions_pk', ['pipeline_id', 'version'])
    .execute();

  await db.schema
    .createTable('hub_story_pipelines')
    .addColumn('story_id', 'text', (c) =>
      c.primaryKey().references('hub_calm_stories.id').onDelete('cascade'),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('pipeline_id', 'text', (c) => c.notNull().references('hub_pipelines.id').onDelete('cascade'))
    .addColumn('assigned_by', 'text', (c) => c.notNull())
    .addColumn('assigned_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('hub_story_pipelines_pipeline')
    .on('hub_story_pipelines')
    .column('pipeline_id')
    .execute();
}
