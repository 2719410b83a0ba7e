import type { MigrationContext } from '@calmhub/platform';

/**
 * Pipeline runs: where each story stands, the runs that move it into a stage, their tasks,
 * approvals, deployment records (CTMS imports, Cloud Integration backups) and the timeline every
 * view and the live stream read.
 */
export async function runTables({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_story_stages')
    .addColumn('story_id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('pipeline_id', 'text', (c) => c.notNull())
    .addColumn('pipeline_version', 'integer', (c) => c.notNull())
    .addColumn('stage_key', 'text', (c) => c.notNull())
    .addColumn('stage_index', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('hub_pipeline_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('story_id', 'text', (c) => c.notNull())
    .addColumn('pipeline_id', 'text', (c) => c.notNull())
    .addColumn('pipeline_version', 'integer', (c) => c.notNull())
    .addColumn('stage_key', 'text', (c) => c.notNull())
    .addColumn('stage_index', 'integer', (c) => c.notNull())
    .addColumn('from_stage_key', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_by_label', 'text', (c) => c.notNull())
    .addColumn('promotion_request_id', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('ended_at', types.timestamp)
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('hub_pipeline_runs_story')
    .on('hub_pipeline_runs')
    .columns(['story_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('hub_pipeline_runs_project')
    .on('hub_pipeline_runs')
    .columns(['project_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('hub_run_tasks')
    .addColumn('run_id', 'text', (c) => c.notNull().references('hub_pipeline_runs.id').onDelete('cascade'))
    .addColumn('task_key', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', types.timestamp)
    .addColumn('ended_at', types.timestamp)
    .addColumn('result', types.json)
    .addColumn('log', types.json, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_run_tasks_pk', ['run_id', 'task_key'])
    .execute();

  await db.schema
    .createTable('hub_run_approvals')
    .addColumn('run_id', 'text', (c) => c.notNull().references('hub_pipeline_runs.id').onDelete('cascade'))
    .addColumn('task_key', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('evidence', types.json, (c) => c.notNull())
    .addColumn('decided_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_run_approvals_pk', ['run_id', 'task_key', 'attempt', 'user_id'])
    .execute();

  await db.schema
    .createTable('hub_run_events')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('story_id', 'text', (c) => c.notNull())
    .addColumn('at', types.timestamp, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('stage_key', 'text', (c) => c.notNull())
    .addColumn('task_key', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('hub_run_events_project')
    .on('hub_run_events')
    .columns(['project_id', 'id'])
    .execute();
  await db.schema.createIndex('hub_run_events_run').on('hub_run_events').columns(['run_id', 'id']).execute();

  await db.schema
    .createTable('hub_cpi_backups')
    .addColumn('run_id', 'text', (c) => c.notNull().references('hub_pipeline_runs.id').onDelete('cascade'))
    .addColumn('task_key', 'text', (c) => c.notNull())
    .addColumn('artifact_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('package_id', 'text')
    .addColumn('content_base64', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_cpi_backups_pk', ['run_id', 'task_key', 'artifact_id'])
    .execute();
}
