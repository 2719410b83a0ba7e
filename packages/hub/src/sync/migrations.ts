import type { MigrationContext } from '@calmhub/platform';

/**
 * The hub's copy of the linked Cloud ALM project (features, user stories, transports and their
 * links, code lists), the status transitions recorded from it, and the sync bookkeeping.
 * Items gone from Cloud ALM are marked obsolete, never deleted: hub-side data hangs off them.
 */
export async function syncTables({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_calm_features')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('calm_uuid', 'text', (c) => c.notNull())
    .addColumn('display_id', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('status_code', 'text', (c) => c.notNull())
    .addColumn('priority_code', 'integer')
    .addColumn('responsible_id', 'text')
    .addColumn('modified_at', types.timestamp, (c) => c.notNull())
    .addColumn('raw', types.json, (c) => c.notNull())
    .addColumn('obsolete', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('obsolete_at', types.timestamp)
    .addColumn('synced_at', types.timestamp, (c) => c.notNull())
    .addUniqueConstraint('hub_calm_features_item', ['integration_id', 'calm_uuid'])
    .execute();

  await db.schema
    .createTable('hub_calm_stories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('calm_id', 'text', (c) => c.notNull())
    .addColumn('feature_calm_uuid', 'text')
    .addColumn('display_id', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('sub_status', 'text')
    .addColumn('priority_id', 'integer')
    .addColumn('assignee_id', 'text')
    .addColumn('modified_at', types.timestamp, (c) => c.notNull())
    .addColumn('raw', types.json, (c) => c.notNull())
    .addColumn('obsolete', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('obsolete_at', types.timestamp)
    .addColumn('synced_at', types.timestamp, (c) => c.notNull())
    .addColumn('link_synced_at', types.timestamp)
    .addUniqueConstraint('hub_calm_stories_item', ['integration_id', 'calm_id'])
    .execute();
  await db.schema
    .createIndex('hub_calm_stories_feature')
    .on('hub_calm_stories')
    .columns(['integration_id', 'feature_calm_uuid'])
    .execute();

  await db.schema
    .createTable('hub_calm_transports')
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('calm_uuid', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('transport_id', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('owner', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('source_system', 'text')
    .addColumn('target_system', 'text')
    .addColumn('modified_at', types.timestamp, (c) => c.notNull())
    .addColumn('raw', types.json, (c) => c.notNull())
    .addColumn('obsolete', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('synced_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_calm_transports_pk', ['integration_id', 'calm_uuid'])
    .execute();

  await db.schema
    .createTable('hub_calm_feature_transports')
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('feature_calm_uuid', 'text', (c) => c.notNull())
    .addColumn('transport_calm_uuid', 'text', (c) => c.notNull())
    .addColumn('synced_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_calm_feature_transports_pk', [
      'integration_id',
      'feature_calm_uuid',
      'transport_calm_uuid',
    ])
    .execute();

  await db.schema
    .createTable('hub_calm_code_lists')
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('list', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_calm_code_lists_pk', ['integration_id', 'list', 'code'])
    .execute();

  await db.schema
    .createTable('hub_status_transitions')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('item_kind', 'text', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('calm_id', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('changed_at', types.timestamp, (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('recorded_at', types.timestamp, (c) => c.notNull())
    .addUniqueConstraint('hub_status_transitions_once', [
      'integration_id',
      'item_kind',
      'calm_id',
      'to_status',
      'changed_at',
    ])
    .execute();
  await db.schema
    .createIndex('hub_status_transitions_item')
    .on('hub_status_transitions')
    .column('item_id')
    .execute();

  await db.schema
    .createTable('hub_sync_state')
    .addColumn('integration_id', 'text', (c) =>
      c.primaryKey().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('features_watermark', types.timestamp)
    .addColumn('tasks_watermark', types.timestamp)
    .addColumn('transports_watermark', types.timestamp)
    .addColumn('last_full_at', types.timestamp)
    .addColumn('last_delta_at', types.timestamp)
    .addColumn('last_sweep_at', types.timestamp)
    .execute();

  await db.schema
    .createTable('hub_sync_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('integration_id', 'text', (c) =>
      c.notNull().references('hub_integrations.id').onDelete('cascade'),
    )
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('progress', types.json, (c) => c.notNull())
    .addColumn('counts', types.json, (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('started_at', types.timestamp)
    .addColumn('ended_at', types.timestamp)
    .execute();
  await db.schema
    .createIndex('hub_sync_runs_integration')
    .on('hub_sync_runs')
    .columns(['integration_id', 'created_at'])
    .execute();
}
