import type { MigrationContext } from '@calmhub/platform';

/** Project teams, the roles of each team and the users staffed on each role. */
export async function projectTeamsMigration({ db, types }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('sandbox_teams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('sandbox_projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', types.timestamp, (c) => c.notNull())
    .addColumn('modified_at', types.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sandbox_teams_project').on('sandbox_teams').column('project_id').execute();

  await db.schema
    .createTable('sandbox_team_roles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('sandbox_teams.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addUniqueConstraint('sandbox_team_roles_name', ['team_id', 'name'])
    .execute();

  await db.schema
    .createTable('sandbox_team_members')
    .addColumn('role_id', 'text', (c) => c.notNull().references('sandbox_team_roles.id').onDelete('cascade'))
    .addColumn('user_email', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_team_members_pk', ['role_id', 'user_email'])
    .execute();
}
