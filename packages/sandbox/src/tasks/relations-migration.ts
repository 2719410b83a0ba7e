import type { MigrationContext } from '@calmhub/platform';

/** Directed task-to-task links (`/tasks/{id}/relations`). */
export async function taskRelationsMigration({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('sandbox_task_relations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('sandbox_projects.id'))
    .addColumn('source_task_id', 'text', (c) =>
      c.notNull().references('sandbox_tasks.id').onDelete('cascade'),
    )
    .addColumn('target_task_id', 'text', (c) =>
      c.notNull().references('sandbox_tasks.id').onDelete('cascade'),
    )
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    // The same link twice is one link.
    .addUniqueConstraint('sandbox_task_relations_link', ['source_task_id', 'target_task_id', 'type'])
    .execute();
  await db.schema
    .createIndex('sandbox_task_relations_source')
    .on('sandbox_task_relations')
    .columns(['source_task_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('sandbox_task_relations_target')
    .on('sandbox_task_relations')
    .columns(['target_task_id', 'created_at'])
    .execute();
}
