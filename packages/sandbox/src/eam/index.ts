export {
  BUILT_IN_MAPPINGS,
  type BuiltInMapping,
  EVENT_SITUATION_TO_SERVICENOW,
  TASK_TO_SERVICENOW,
} from './builtin/index.js';
export type { ConsoleAttempt, ConsoleDelivery } from './console.js';
export { AUTHENTICATION_TYPES, type AuthenticationType, type DestinationJson } from './destinations.js';
export type { Mapping, MappingVersion } from './mappings.js';
export { eamMigrations } from './migrations.js';
export { eamModule } from './module.js';
export type { ChangeEnvelope, DeliveryState, Outcome } from './push/engine.js';
export { DEFAULT_EAM_SETTINGS, type EamSettings } from './runtime.js';
export type { EventAction, Situation } from './situations.js';
export {
  PROJECT_ITEM_TYPES,
  type ProjectAssignment,
  type ProjectItemType,
  SUBSCRIPTION_RESOURCE_TYPES,
  type Subscription,
} from './subscriptions.js';
export type { EamTables } from './tables.js';
export type { Webhook } from './webhooks.js';
