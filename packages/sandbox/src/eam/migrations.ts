import type { MigrationContext, MigrationSet } from '@calmhub/platform';

async function initial({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('eam_destinations')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('proxy_type', 'text', (c) => c.notNull())
    .addColumn('authentication', 'text', (c) => c.notNull())
    .addColumn('properties', types.json, (c) => c.notNull())
    .addColumn('secrets_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('eam_certificates')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('content_sealed', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('not_after', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('eam_webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('destination_name', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('destination_type', 'text', (c) => c.notNull())
    .addColumn('external_resource_type', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('eam_mappings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('copied_from', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('eam_mapping_versions')
    .addColumn('mapping_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('eam_mapping_versions_pk', ['mapping_id', 'version'])
    .execute();

  await db.schema
    .createTable('eam_subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('mapping_id', 'text')
    .addColumn('user_variables', types.json, (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('eam_project_subscriptions')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('item_type', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('eam_project_subscriptions_pk', ['project_id', 'item_type', 'subscription_id'])
    .execute();

  await db.schema
    .createTable('eam_links')
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('fields', types.json, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('eam_links_pk', ['subscription_id', 'resource_id'])
    .execute();

  await db.schema
    .createTable('eam_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text')
    .addColumn('event_seq', types.timestamp)
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    // Text, not jsonb: PostgreSQL would reorder the envelope's keys.
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_outcome', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('eam_deliveries_created')
    .on('eam_deliveries')
    .columns(['created_at', 'id'])
    .execute();

  await db.schema
    .createTable('eam_attempts')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text')
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', types.timestamp, (c) => c.notNull())
    .addColumn('method', 'text')
    .addColumn('url', 'text')
    .addColumn('request_headers', types.json, (c) => c.notNull())
    .addColumn('request_body', 'text')
    .addColumn('response_status', 'integer')
    .addColumn('response_headers', types.json, (c) => c.notNull())
    .addColumn('response_body', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('external_id', 'text')
    .addColumn('mapped', types.json)
    .execute();
  await db.schema.createIndex('eam_attempts_started').on('eam_attempts').column('started_at').execute();
  await db.schema.createIndex('eam_attempts_delivery').on('eam_attempts').column('delivery_id').execute();

  await db.schema
    .createTable('eam_situations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('rating', 'text', (c) => c.notNull())
    .addColumn('event_name', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('event_sub_type', 'text', (c) => c.notNull())
    .addColumn('service_id', 'text')
    .addColumn('service_name', 'text')
    .addColumn('tags', types.json, (c) => c.notNull())
    .addColumn('work_notes', 'text', (c) => c.notNull())
    .addColumn('occurrences', 'integer', (c) => c.notNull())
    .addColumn('subscription_ids', types.json, (c) => c.notNull())
    .addColumn('start_time', types.timestamp, (c) => c.notNull())
    .addColumn('update_time', types.timestamp, (c) => c.notNull())
    .addColumn('close_time', types.timestamp)
    .addColumn('timestamp', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('eam_event_actions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_name', 'text')
    .addColumn('event_type', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('eam_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

/** Workflow simulator (reference §1, §4.3, §10 item 2): per-project workflow settings and the workflows. */
async function workflows({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('eam_workflow_settings')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('workflow_type', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('eam_workflow_settings_pk', ['project_id', 'workflow_type'])
    .execute();

  await db.schema
    .createTable('eam_workflows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_type', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('item', types.json, (c) => c.notNull())
    .addColumn('triggered_by', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addColumn('canceled_at', types.timestamp)
    .execute();
  await db.schema.createIndex('eam_workflows_item').on('eam_workflows').columns(['item_id']).execute();
}

/** Tables of External API Management and the event-situation emulator (prefix `eam_`). */
export const eamMigrations: MigrationSet = {
  name: 'sandbox_eam',
  migrations: { '0001_initial': { up: initial }, '0002_workflows': { up: workflows } },
};
