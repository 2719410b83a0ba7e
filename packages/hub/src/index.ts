export { type BuildHubOptions, buildHub, type Hub, hubSqliteFile } from './app/build-hub.js';
export { hubMigrationSets, hubMigrations } from './store/migrations.js';
export { HUB_VERSION } from './version.js';
