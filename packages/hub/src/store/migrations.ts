import { jobsMigrations, type MigrationSet } from '@calmhub/platform';

/** The hub's own tables; domains add their migrations here as they arrive. */
export const hubMigrations: MigrationSet = {
  name: 'hub',
  migrations: {},
};

/** Everything a hub database needs, in order. */
export const hubMigrationSets: MigrationSet[] = [jobsMigrations, hubMigrations];
