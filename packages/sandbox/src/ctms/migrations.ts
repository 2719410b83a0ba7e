import type { MigrationContext, MigrationSet } from '@calmhub/platform';

async function initial({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('ctms_nodes')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('forward_mode', 'text', (c) => c.notNull())
    .addColumn('upload_allowed', 'integer', (c) => c.notNull())
    .addColumn('is_virtual', 'integer', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('changed_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ctms_routes')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('source_node_id', 'integer', (c) => c.notNull().references('ctms_nodes.id'))
    .addColumn('target_node_id', 'integer', (c) => c.notNull().references('ctms_nodes.id'))
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addUniqueConstraint('ctms_routes_pair', ['source_node_id', 'target_node_id'])
    .execute();

  await db.schema
    .createTable('ctms_files')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('named_user', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ctms_transport_requests')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('storage_type', 'text', (c) => c.notNull())
    .addColumn('entries', types.json, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_by_named_user', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('abap_number', 'text')
    .addColumn('fail_status', 'text')
    .addColumn('fail_message', 'text')
    .execute();

  await db.schema
    .createTable('ctms_queue_entries')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('transport_request_id', 'integer', (c) => c.notNull().references('ctms_transport_requests.id'))
    .addColumn('node_id', 'integer', (c) => c.notNull().references('ctms_nodes.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('queued_at', types.timestamp, (c) => c.notNull())
    .addColumn('archived', 'integer', (c) => c.notNull())
    .addUniqueConstraint('ctms_queue_entries_tr_node', ['transport_request_id', 'node_id'])
    .execute();
  await db.schema
    .createIndex('ctms_queue_entries_node')
    .on('ctms_queue_entries')
    .columns(['node_id', 'position'])
    .execute();

  await db.schema
    .createTable('ctms_actions')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('node_id', 'integer', (c) => c.notNull().references('ctms_nodes.id'))
    .addColumn('triggered_by', 'text', (c) => c.notNull())
    .addColumn('triggered_by_named_user', 'text')
    .addColumn('transport_request_ids', types.json, (c) => c.notNull())
    .addColumn('started_at', types.timestamp, (c) => c.notNull())
    .addColumn('ended_at', types.timestamp)
    .execute();

  await db.schema
    .createTable('ctms_logs')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('action_id', 'integer', (c) => c.notNull().references('ctms_actions.id'))
    .addColumn('transport_request_id', 'integer', (c) => c.notNull())
    .addColumn('node_id', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ctms_logs_action').on('ctms_logs').column('action_id').execute();
  await db.schema
    .createIndex('ctms_logs_request')
    .on('ctms_logs')
    .columns(['transport_request_id', 'node_id'])
    .execute();

  await db.schema
    .createTable('ctms_abap_transports')
    .addColumn('number', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('objects', types.json, (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
}

/**
 * The ABAP system a node stands for (`S4D`, `S4Q`…): a transport released in that system is
 * exported into the queues that follow the node.
 */
async function nodeSystems({ db }: MigrationContext): Promise<void> {
  await db.schema.alterTable('ctms_nodes').addColumn('system_id', 'text').execute();
}

/** Tables of the Cloud Transport Management emulator, tracked in `calmhub_sandbox_ctms_migrations`. */
export const ctmsMigrations: MigrationSet = {
  name: 'sandbox_ctms',
  migrations: { '0001_initial': { up: initial }, '0002_node_systems': { up: nodeSystems } },
};
