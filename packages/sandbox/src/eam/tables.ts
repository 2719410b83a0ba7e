import type { Generated, Kysely, Transaction } from 'kysely';
import type { SandboxTables } from '../store/tables.js';

// Timestamps are epoch milliseconds; booleans are 0/1 integers; JSON columns go through readJson/writeJson.

export type EamDestinationTable = {
  name: string;
  description: string | null;
  type: string;
  url: string;
  proxy_type: string;
  authentication: string;
  /** Non-secret BTP keys (User, clientId, tokenServiceURL, URL.headers.*, ...), as a JSON object. */
  properties: unknown;
  /** Secret keys (Password, clientSecret, ...) as sealed JSON; never returned by the API. */
  secrets_sealed: string;
  created_at: number;
  updated_at: number;
};

export type EamCertificateTable = {
  name: string;
  /** PEM (certificates and, for key stores, the private key), sealed. */
  content_sealed: string;
  kind: string;
  subject: string | null;
  not_after: string | null;
  created_at: number;
};

export type EamWebhookTable = {
  id: string;
  name: string;
  description: string | null;
  destination_name: string;
  path: string;
  destination_type: string;
  external_resource_type: string;
  created_at: number;
  updated_at: number;
};

export type EamMappingTable = {
  id: string;
  name: string;
  description: string | null;
  content: string;
  format: string;
  version: number;
  copied_from: string | null;
  created_at: number;
  updated_at: number;
};

export type EamMappingVersionTable = {
  mapping_id: string;
  version: number;
  name: string;
  content: string;
  created_at: number;
};

export type EamSubscriptionTable = {
  id: string;
  name: string;
  description: string | null;
  type: string;
  resource_type: string;
  webhook_id: string;
  mapping_id: string | null;
  user_variables: unknown;
  active: number;
  created_at: number;
  updated_at: number;
};

export type EamProjectSubscriptionTable = {
  project_id: string;
  item_type: string;
  subscription_id: string;
  created_at: number;
};

export type EamLinkTable = {
  subscription_id: string;
  resource_id: string;
  resource_type: string;
  external_id: string | null;
  fields: unknown;
  updated_at: number;
};

export type EamDeliveryTable = {
  id: string;
  subscription_id: string;
  event_id: string | null;
  event_seq: number | null;
  resource_type: string;
  event_type: string;
  resource_id: string;
  message: unknown;
  state: string;
  attempts: number;
  last_outcome: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
};

export type EamAttemptTable = {
  id: Generated<number>;
  delivery_id: string;
  subscription_id: string;
  event_id: string | null;
  resource_type: string;
  event_type: string;
  resource_id: string;
  attempt: number;
  started_at: number;
  method: string | null;
  url: string | null;
  request_headers: unknown;
  request_body: string | null;
  response_status: number | null;
  response_headers: unknown;
  response_body: string | null;
  duration_ms: number;
  outcome: string;
  error: string | null;
  external_id: string | null;
  mapped: unknown;
};

export type EamSituationTable = {
  id: string;
  status: string;
  subject: string;
  body: string;
  rating: string;
  event_name: string;
  event_type: string;
  event_sub_type: string;
  service_id: string | null;
  service_name: string | null;
  tags: unknown;
  work_notes: string;
  occurrences: number;
  subscription_ids: unknown;
  start_time: number;
  update_time: number;
  close_time: number | null;
  timestamp: number;
};

export type EamEventActionTable = {
  id: string;
  event_name: string | null;
  event_type: string | null;
  action: string;
  subscription_id: string;
  created_at: number;
};

export type EamWorkflowSettingTable = {
  project_id: string;
  workflow_type: string;
  subscription_id: string;
  created_at: number;
};

export type EamWorkflowTable = {
  id: string;
  workflow_type: string;
  project_id: string;
  item_id: string;
  /** The item as the change messages carry it under `item`, frozen at start. */
  item: unknown;
  triggered_by: string;
  subscription_id: string;
  /** RUNNING until canceled here (CANCELED); the external outcome lives on the link. */
  status: string;
  created_at: number;
  updated_at: number;
  canceled_at: number | null;
};

export type EamStateTable = { key: string; value: string };

export type EamTables = {
  eam_destinations: EamDestinationTable;
  eam_certificates: EamCertificateTable;
  eam_webhooks: EamWebhookTable;
  eam_mappings: EamMappingTable;
  eam_mapping_versions: EamMappingVersionTable;
  eam_subscriptions: EamSubscriptionTable;
  eam_project_subscriptions: EamProjectSubscriptionTable;
  eam_links: EamLinkTable;
  eam_deliveries: EamDeliveryTable;
  eam_attempts: EamAttemptTable;
  eam_situations: EamSituationTable;
  eam_event_actions: EamEventActionTable;
  eam_state: EamStateTable;
  eam_workflow_settings: EamWorkflowSettingTable;
  eam_workflows: EamWorkflowTable;
};

/** The module's tables plus the Cloud ALM core it reads (events, projects, features, tasks). */
export type EamAllTables = EamTables & SandboxTables;
export type EamDb = Kysely<EamAllTables>;
export type EamExecutor = Kysely<EamAllTables> | Transaction<EamAllTables>;
