export type { SandboxContext, SandboxSettings } from './app/context.js';
export type { SandboxModule } from './app/module.js';
export {
  DEFAULT_SANDBOX_PORT,
  DEFAULT_SETTINGS,
  DEFAULT_XSAPPNAME,
  SANDBOX_VERSION,
  type Sandbox,
  type SandboxOptions,
  sandboxMigrationSets,
  startSandbox,
} from './app/start-sandbox.js';
export type { ServiceKey, TechnicalClient } from './auth/clients.js';
export { ALL_SCOPES } from './auth/scopes.js';
export { type CpiServiceKey, defaultCpiServiceKey } from './cpi/keys.js';
export { cpiMigrations } from './cpi/migrations.js';
export { cpiModule } from './cpi/module.js';
export { CPI_SCOPES, type CpiSettings, cpiSettings } from './cpi/service.js';
export { buildIflowZip, type IflowContent, readArtifactContent } from './cpi/zip.js';
export { type CtmsServiceKey, defaultCtmsServiceKey } from './ctms/keys.js';
export { ctmsMigrations } from './ctms/migrations.js';
export {
  CTMS_SCOPES,
  type CtmsSettings,
  ctmsSettings,
  FORWARD_MODES,
  IMPORTABLE,
  QUEUE_STATUSES,
  type QueueStatus,
  STATUS_CODES,
} from './ctms/model.js';
export { ctmsModule } from './ctms/module.js';
export {
  type EventQuery,
  type EventType,
  type ResourceType,
  readEvents,
  type SandboxEvent,
} from './events/events.js';
export {
  type FaultKind,
  type FaultRule,
  type FaultRuleInput,
  validateFaultRule,
} from './faults/fault-injector.js';
export { DEFAULT_FEATURE_TRANSITIONS, FEATURE_PRIORITIES, FEATURE_STATUSES } from './features/catalog.js';
export { LIFECYCLE_ACTIONS, type LifecycleAction } from './lifecycle/actions.js';
export {
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  type LargeSeedOptions,
  type SeedResult,
  seedDemo,
  seedLarge,
} from './seed/seed.js';
export { sandboxMigrations } from './store/migrations.js';
export type { SandboxTables } from './store/tables.js';
