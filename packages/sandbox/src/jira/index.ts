export { jiraMigrations } from './migrations.js';
export { jiraModule } from './module.js';
export type { JiraTables } from './tables.js';
