import type { MigrationContext, MigrationSet } from '@calmhub/platform';

async function initial({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('cpi_packages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('short_text', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('vendor', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('supported_platform', 'text', (c) => c.notNull())
    .addColumn('products', 'text', (c) => c.notNull())
    .addColumn('keywords', 'text', (c) => c.notNull())
    .addColumn('countries', 'text', (c) => c.notNull())
    .addColumn('industries', 'text', (c) => c.notNull())
    .addColumn('line_of_business', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('creation_date', types.timestamp, (c) => c.notNull())
    .addColumn('modified_by', 'text')
    .addColumn('modified_date', types.timestamp)
    .execute();

  await db.schema
    .createTable('cpi_artifacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('package_id', 'text', (c) => c.notNull().references('cpi_packages.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('receiver', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('modified_by', 'text')
    .addColumn('modified_at', types.timestamp)
    .addColumn('fail_deploy_message', 'text')
    .execute();
  await db.schema.createIndex('cpi_artifacts_package').on('cpi_artifacts').column('package_id').execute();

  await db.schema
    .createTable('cpi_configurations')
    .addColumn('artifact_id', 'text', (c) => c.notNull())
    .addColumn('parameter_key', 'text', (c) => c.notNull())
    .addColumn('parameter_value', 'text', (c) => c.notNull())
    .addColumn('data_type', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('cpi_configurations_pk', ['artifact_id', 'parameter_key'])
    .execute();

  await db.schema
    .createTable('cpi_deploy_tasks')
    .addColumn('task_id', 'text', (c) => c.primaryKey())
    .addColumn('artifact_id', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('ended_at', types.timestamp)
    .execute();

  await db.schema
    .createTable('cpi_runtime_artifacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('deployed_by', 'text', (c) => c.notNull())
    .addColumn('deployed_on', types.timestamp, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_information', 'text')
    .addColumn('task_id', 'text')
    .execute();

  await db.schema
    .createTable('cpi_users')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('password_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('cpi_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('expires_at', types.timestamp, (c) => c.notNull())
    .execute();
}

/** Tables of the Cloud Integration emulator, tracked in `calmhub_sandbox_cpi_migrations`. */
export const cpiMigrations: MigrationSet = {
  name: 'sandbox_cpi',
  migrations: {
    '0001_initial': { up: initial },
    // A failure switch may name the version it fails: a rollback to another version then deploys.
    '0002_deploy_failure_version': {
      up: ({ db }) =>
        db.schema.alterTable('cpi_artifacts').addColumn('fail_deploy_version', 'text').execute(),
    },
  },
};
