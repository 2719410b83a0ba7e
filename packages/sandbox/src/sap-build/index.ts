export { sapBuildMigrations } from './migrations.js';
export { sapBuildModule } from './module.js';
export type { SapBuildTables } from './tables.js';
