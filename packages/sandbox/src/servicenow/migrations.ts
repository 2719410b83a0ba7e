import type { MigrationContext, MigrationSet } from '@calmhub/platform';

async function initial({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('snow_records')
    .addColumn('seq', types.serial, (c) => c.primaryKey())
    .addColumn('table_name', 'text', (c) => c.notNull())
    .addColumn('sys_id', 'text', (c) => c.notNull().unique())
    .addColumn('fields', types.json, (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('snow_records_table')
    .on('snow_records')
    .columns(['table_name', 'seq'])
    .execute();
  await db.schema
    .createTable('snow_counters')
    .addColumn('table_name', 'text', (c) => c.primaryKey())
    .addColumn('next', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('snow_users')
    .addColumn('user_name', 'text', (c) => c.primaryKey())
    .addColumn('sys_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('password_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('snow_oauth_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('snow_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('expires_at', types.timestamp, (c) => c.notNull())
    .execute();
}

/** Tables of the ServiceNow emulator (prefix `snow_`). */
export const serviceNowMigrations: MigrationSet = {
  name: 'sandbox_servicenow',
  migrations: { '0001_initial': { up: initial } },
};
