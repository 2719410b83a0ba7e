import type { MigrationContext, MigrationSet } from '@calmhub/platform';
import { projectTeamsMigration } from '../projects/teams-migration.js';
import { taskRelationsMigration } from '../tasks/relations-migration.js';
import { transportObjectsMigration } from '../transports/migration.js';

async function initial({ db, dialect, types }: MigrationContext): Promise<void> {
  const real = dialect === 'postgres' ? 'double precision' : 'real';

  await db.schema
    .createTable('sandbox_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('scopes', types.json, (c) => c.notNull())
    .addColumn('project_ids', types.json)
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('number', 'integer', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('feature_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('modified_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_timeboxes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('sandbox_projects.id'))
    .addColumn('type', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('start_date', 'text')
    .addColumn('end_date', 'text')
    .addColumn('closed', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('sandbox_timeboxes_project')
    .on('sandbox_timeboxes')
    .column('project_id')
    .execute();

  await db.schema
    .createTable('sandbox_features')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('sandbox_projects.id'))
    .addColumn('display_id', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('status_code', 'text', (c) => c.notNull())
    .addColumn('priority_code', 'integer')
    .addColumn('release_id', 'text')
    .addColumn('scope_id', 'text')
    .addColumn('responsible_id', 'text')
    .addColumn('workstream_id', 'text')
    .addColumn('type', 'text')
    .addColumn('tags', types.json, (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('modified_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sandbox_features_project')
    .on('sandbox_features')
    .columns(['project_id', 'uuid'])
    .execute();
  await db.schema
    .createIndex('sandbox_features_modified')
    .on('sandbox_features')
    .columns(['modified_at', 'uuid'])
    .execute();

  await db.schema
    .createTable('sandbox_url_references')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('parent_uuid', 'text', (c) => c.notNull().references('sandbox_features.uuid'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sandbox_url_references_parent')
    .on('sandbox_url_references')
    .column('parent_uuid')
    .execute();

  await db.schema
    .createTable('sandbox_external_references')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('parent_uuid', 'text', (c) => c.notNull().references('sandbox_features.uuid'))
    .addColumn('name', 'text')
    .addColumn('url', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_external_references_pk', ['id', 'parent_uuid'])
    .execute();
  await db.schema
    .createIndex('sandbox_external_references_parent')
    .on('sandbox_external_references')
    .column('parent_uuid')
    .execute();

  await db.schema
    .createTable('sandbox_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('sandbox_projects.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('sub_status', 'text')
    .addColumn('external_id', 'text')
    .addColumn('start_date', 'text')
    .addColumn('due_date', 'text')
    .addColumn('priority_id', 'integer')
    .addColumn('assignee_id', 'text')
    .addColumn('approval_state', 'text')
    .addColumn('parent_id', 'text')
    .addColumn('assigned_role_id', 'text')
    .addColumn('scope_id', 'text')
    .addColumn('story_points', real)
    .addColumn('effort', real)
    .addColumn('obsolete', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('workstream', 'text')
    .addColumn('deliverable_id', 'text')
    .addColumn('involved_parties', 'text')
    .addColumn('timebox_id', 'text')
    .addColumn('description', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('last_changed_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sandbox_tasks_project')
    .on('sandbox_tasks')
    .columns(['project_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('sandbox_tasks_parent').on('sandbox_tasks').column('parent_id').execute();

  await db.schema
    .createTable('sandbox_comments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull().references('sandbox_tasks.id').onDelete('cascade'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('changed_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sandbox_comments_task').on('sandbox_comments').column('task_id').execute();

  await db.schema
    .createTable('sandbox_references')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull().references('sandbox_tasks.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sandbox_references_task').on('sandbox_references').column('task_id').execute();

  await db.schema
    .createTable('sandbox_task_assignments')
    .addColumn('parent_uuid', 'text', (c) => c.notNull().references('sandbox_features.uuid'))
    .addColumn('task_id', 'text', (c) => c.notNull().references('sandbox_tasks.id').onDelete('cascade'))
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_task_assignments_pk', ['parent_uuid', 'task_id'])
    .execute();
  await db.schema
    .createIndex('sandbox_task_assignments_task')
    .on('sandbox_task_assignments')
    .column('task_id')
    .execute();

  await db.schema
    .createTable('sandbox_transports')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('transport_id', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('owner', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('source_system', 'text')
    .addColumn('target_system', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('modified_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_transport_references')
    .addColumn('parent_uuid', 'text', (c) => c.notNull().references('sandbox_features.uuid'))
    .addColumn('transport_uuid', 'text', (c) => c.notNull().references('sandbox_transports.uuid'))
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_transport_references_pk', ['parent_uuid', 'transport_uuid'])
    .execute();

  await db.schema
    .createTable('sandbox_workstreams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_custom', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_deliverables')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('sandbox_projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('project_phase_id', 'text')
    .addColumn('description', 'text')
    .addColumn('is_custom', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_events')
    .addColumn('seq', types.serial, (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('actor', 'text')
    .addColumn('resource', types.json, (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sandbox_events_resource')
    .on('sandbox_events')
    .columns(['resource_id', 'seq'])
    .execute();
}

/** Links of tasks to solution processes (`/tasks/solutionProcessAssignments`, reference §5.1). */
async function solutionProcessAssignments({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('sandbox_solution_process_assignments')
    .addColumn('relation_id', 'text', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull().references('sandbox_tasks.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.notNull().references('sandbox_projects.id'))
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('solution_scenario_version_id', 'text', (c) => c.notNull())
    .addColumn('solution_process_id', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    // The same process assigned twice to a task is one link.
    .addUniqueConstraint('sandbox_solution_process_assignments_link', [
      'task_id',
      'scope_id',
      'solution_scenario_version_id',
      'solution_process_id',
    ])
    .execute();
  await db.schema
    .createIndex('sandbox_solution_process_assignments_project')
    .on('sandbox_solution_process_assignments')
    .columns(['project_id', 'created_at', 'relation_id'])
    .execute();
}

/** Tags of tasks (`tags` on the task object and the `tags` list filter), in the order they were set. */
async function taskTags({ db }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('sandbox_task_tags')
    .addColumn('task_id', 'text', (c) => c.notNull().references('sandbox_tasks.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_task_tags_pk', ['task_id', 'tag'])
    .execute();
  await db.schema
    .createIndex('sandbox_task_tags_tag')
    .on('sandbox_task_tags')
    .columns(['tag', 'task_id'])
    .execute();
}

/**
 * Runtime settings changed over the admin API (settings, status matrix, fault rules, module
 * settings), one JSON document per section, so they survive a restart (`settings/persisted.ts`).
 */
async function settings({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('sandbox_settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();
}

/** The sandbox's tables; every name starts with `sandbox_` so it can share a database with the hub. */
export const sandboxMigrations: MigrationSet = {
  name: 'sandbox',
  migrations: {
    '0001_initial': { up: initial },
    '0002_solution_process_assignments': { up: solutionProcessAssignments },
    '0003_task_tags': { up: taskTags },
    '0004_transport_objects': { up: transportObjectsMigration },
    '0005_task_relations': { up: taskRelationsMigration },
    '0006_project_teams': { up: projectTeamsMigration },
    '0007_settings': { up: settings },
  },
};
