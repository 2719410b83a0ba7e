import type { MigrationContext } from '@calmhub/platform';

/**
 * The write-back outbox: one row per write the hub owes Cloud ALM (a story comment, a dated line
 * under a feature's description, an external reference on a feature), and the per-integration
 * switches. A row commits with the action that caused it; the flush job writes it exactly once.
 */
export async function writeBackTables({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_writebacks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('target_kind', 'text', (c) => c.notNull())
    .addColumn('target_calm_id', 'text', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull().references('hub_calm_stories.id').onDelete('cascade'))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('marker', 'text', (c) => c.notNull().unique())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('batch_key', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('remote_id', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addColumn('written_at', types.timestamp)
    .execute();
  await db.schema
    .createIndex('hub_writebacks_batch')
    .on('hub_writebacks')
    .columns(['batch_key', 'state'])
    .execute();
  await db.schema.createIndex('hub_writebacks_item').on('hub_writebacks').column('item_id').execute();

  await db.schema
    .createTable('hub_writeback_settings')
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_writeback_settings_pk', ['integration_id', 'kind'])
    .execute();
}
