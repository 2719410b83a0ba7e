import type { Generated, Kysely, Transaction } from 'kysely';

// Timestamps are epoch milliseconds; booleans are 0/1 integers; JSON columns hold text on SQLite.

export type CtmsNodeTable = {
  id: Generated<number>;
  name: string;
  description: string;
  content_type: string;
  forward_mode: string;
  upload_allowed: number;
  is_virtual: number;
  created_at: number;
  changed_at: number;
  /** The ABAP system behind the node (e.g. `S4D`): releases there are exported from this node. */
  system_id: string | null;
};

export type CtmsRouteTable = {
  id: Generated<number>;
  name: string;
  description: string;
  source_node_id: number;
  target_node_id: number;
  created_at: number;
};

export type CtmsFileTable = {
  id: Generated<number>;
  file_name: string;
  /** The uploaded bytes, base64 (files are small in a sandbox; one column type on both engines). */
  content: string;
  size: number;
  named_user: string | null;
  created_by: string;
  created_at: number;
};

export type CtmsTransportRequestTable = {
  id: Generated<number>;
  description: string;
  content_type: string;
  storage_type: string;
  /** `[{ id, uri, fileName }]`: one entry per transported file or ABAP request. */
  entries: unknown;
  created_by: string;
  created_by_named_user: string | null;
  created_at: number;
  /** Name of the node the request entered the landscape at. */
  origin: string;
  /** The ABAP request number when the content is an ABAP transport. */
  abap_number: string | null;
  /** Test switch (admin API): imports end in this status (`error`, `warning`, `fatal`). */
  fail_status: string | null;
  fail_message: string | null;
};

export type CtmsQueueEntryTable = {
  id: Generated<number>;
  transport_request_id: number;
  node_id: number;
  status: string;
  position: number;
  queued_at: number;
  archived: number;
};

export type CtmsActionTable = {
  id: Generated<number>;
  type: string;
  status: string;
  node_id: number;
  triggered_by: string;
  triggered_by_named_user: string | null;
  /** Transport request ids in import order. */
  transport_request_ids: unknown;
  started_at: number;
  ended_at: number | null;
};

export type CtmsLogTable = {
  id: Generated<number>;
  action_id: number;
  transport_request_id: number;
  node_id: number;
  /** Status of the request at the end of this action. */
  status: string;
  severity: string;
  message_id: string;
  message: string;
  created_at: number;
};

export type CtmsAbapTransportTable = {
  number: string;
  description: string;
  owner: string;
  /** `[{ pgmid, type, name }]`, the object list as SE09 shows it. */
  objects: unknown;
  created_at: number;
};

export type CtmsTables = {
  ctms_nodes: CtmsNodeTable;
  ctms_routes: CtmsRouteTable;
  ctms_files: CtmsFileTable;
  ctms_transport_requests: CtmsTransportRequestTable;
  ctms_queue_entries: CtmsQueueEntryTable;
  ctms_actions: CtmsActionTable;
  ctms_logs: CtmsLogTable;
  ctms_abap_transports: CtmsAbapTransportTable;
};

export type CtmsDb = Kysely<CtmsTables>;
export type CtmsExecutor = Kysely<CtmsTables> | Transaction<CtmsTables>;
