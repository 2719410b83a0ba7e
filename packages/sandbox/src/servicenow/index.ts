export { serviceNowMigrations } from './migrations.js';
export { serviceNowModule } from './module.js';
export { parseEncodedQuery } from './query.js';
export { priorityOf, TABLES as SERVICENOW_TABLES } from './records.js';
export type { SnSettings } from './runtime.js';
export type { SnTables } from './tables.js';
