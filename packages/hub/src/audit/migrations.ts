import type { MigrationContext } from '@calmhub/platform';

/**
 * The audit log: append-only, so no foreign keys (an entry outlives the object it names) and no
 * update or delete anywhere in the code.
 */
export async function auditTables({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_audit_log')
    .addColumn('id', types.serial, (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('occurred_at', types.timestamp, (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_label', 'text', (c) => c.notNull())
    .addColumn('role', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('object_kind', 'text', (c) => c.notNull())
    .addColumn('object_id', 'text', (c) => c.notNull())
    .addColumn('object_label', 'text')
    .addColumn('before', types.json)
    .addColumn('after', types.json)
    .addColumn('request_id', 'text')
    .execute();
  await db.schema
    .createIndex('hub_audit_log_tenant')
    .on('hub_audit_log')
    .columns(['tenant_id', 'id'])
    .execute();
  await db.schema
    .createIndex('hub_audit_log_project')
    .on('hub_audit_log')
    .columns(['project_id', 'id'])
    .execute();
  await db.schema
    .createIndex('hub_audit_log_object')
    .on('hub_audit_log')
    .columns(['tenant_id', 'object_id'])
    .execute();
}
