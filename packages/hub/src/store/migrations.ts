import { jobsMigrations, type MigrationContext, type MigrationSet } from '@calmhub/platform';
import { auditTables } from '../audit/migrations.js';
import { dependencyTables } from '../dependencies/migrations.js';
import {
  inboxItemIndex,
  inboxLanding,
  inboxLandingJournal,
  inboxLeanLanding,
  inboxTables,
  inboxWaitingIndex,
} from '../inbox/migrations.js';
import { pipelineTables } from '../pipelines/migrations.js';
import { runTables } from '../runs/migrations.js';
import { storiesAndComponentsTables } from '../stories/migrations.js';
import { syncTables } from '../sync/migrations.js';
import { writeBackTables } from '../writeback/migrations.js';

async function accessAndIntegrations({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('hub_tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('hub_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('hub_tenants.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tenant_role', 'text', (c) => c.notNull())
    .addColumn('sap_user_ids', types.json, (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addUniqueConstraint('hub_users_tenant_email', ['tenant_id', 'email'])
    .execute();

  await db.schema
    .createTable('hub_api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('hub_tenants.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('hub_users.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', types.timestamp)
    .addColumn('revoked_at', types.timestamp)
    .addColumn('last_used_at', types.timestamp)
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('hub_api_tokens_user').on('hub_api_tokens').column('user_id').execute();

  await db.schema
    .createTable('hub_projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('hub_tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addUniqueConstraint('hub_projects_tenant_name', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('hub_project_members')
    .addColumn('project_id', 'text', (c) => c.notNull().references('hub_projects.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('hub_users.id'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('hub_project_members_pk', ['project_id', 'user_id'])
    .execute();
  await db.schema
    .createIndex('hub_project_members_user')
    .on('hub_project_members')
    .column('user_id')
    .execute();

  await db.schema
    .createTable('hub_credentials')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('hub_tenants.id'))
    .addColumn('project_id', 'text', (c) => c.references('hub_projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('system', 'text', (c) => c.notNull())
    .addColumn('settings', types.json, (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('secret_version', 'integer', (c) => c.notNull())
    .addColumn('last_test', types.json)
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addColumn('rotated_at', types.timestamp)
    .execute();
  await db.schema.createIndex('hub_credentials_tenant').on('hub_credentials').column('tenant_id').execute();

  await db.schema
    .createTable('hub_integrations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('hub_tenants.id'))
    .addColumn('project_id', 'text', (c) => c.notNull().references('hub_projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('external_system', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull().references('hub_credentials.id'))
    .addColumn('host_url', 'text', (c) => c.notNull())
    .addColumn('calm_project_id', 'text', (c) => c.notNull())
    .addColumn('calm_project_name', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('webhook_secret_sealed', 'text', (c) => c.notNull())
    .addColumn('webhook_secret_rotated_at', types.timestamp)
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('updated_at', types.timestamp, (c) => c.notNull())
    .addUniqueConstraint('hub_integrations_project_name', ['project_id', 'name'])
    .execute();
}

/** The hub's own tables, tracked in `calmhub_hub_migrations`. Keys sort in application order. */
export const hubMigrations: MigrationSet = {
  name: 'hub',
  migrations: {
    '0001_access_credentials_integrations': { up: accessAndIntegrations },
    '0002_sync': { up: syncTables },
    '0003_stories_components': { up: storiesAndComponentsTables },
    '0004_audit': { up: auditTables },
    '0005_writeback': { up: writeBackTables },
    '0006_inbox': { up: inboxTables },
    '0007_pipelines': {
      up: async (context) => {
        await pipelineTables(context);
        await dependencyTables(context);
      },
    },
    '0008_runs': { up: runTables },
    '0009_inbox_item_index': { up: inboxItemIndex },
    '0010_inbox_waiting_index': { up: inboxWaitingIndex },
    '0011_inbox_landing': { up: inboxLanding },
    '0012_inbox_lean_landing': { up: inboxLeanLanding },
    '0013_inbox_landing_journal': { up: inboxLandingJournal },
  },
};

/** Everything a hub database needs, in order. */
export const hubMigrationSets: MigrationSet[] = [jobsMigrations, hubMigrations];
