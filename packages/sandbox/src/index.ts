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
export {
  type EventQuery,
  type EventType,
  type ResourceType,
  readEvents,
  type SandboxEvent,
} from './events/events.js';
export type { FaultKind, FaultRule, FaultRuleInput } from './faults/fault-injector.js';
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
