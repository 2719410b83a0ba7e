import type { MigrationContext, MigrationSet } from '@calmhub/platform';

async function initial({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('jira_projects')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('next_number', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('jira_issues')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('project_key', 'text', (c) => c.notNull())
    .addColumn('fields', types.json, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('jira_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('next', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('jira_users')
    .addColumn('email', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('token_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
}

/** Tables of the Jira emulator (prefix `jira_`). */
export const jiraMigrations: MigrationSet = {
  name: 'sandbox_jira',
  migrations: { '0001_initial': { up: initial } },
};
