import type { Generated, Kysely } from 'kysely';

export type SnRecordTable = {
  seq: Generated<number>;
  table_name: string;
  sys_id: string;
  /** Every field as a string, as ServiceNow stores and returns them. */
  fields: unknown;
  created_at: number;
};

export type SnCounterTable = { table_name: string; next: number };

export type SnUserTable = {
  user_name: string;
  sys_id: string;
  name: string;
  password_sealed: string;
  created_at: number;
};

export type SnOAuthClientTable = {
  client_id: string;
  name: string;
  secret_sealed: string;
  /** The "OAuth Application User" that client-credentials tokens act as. */
  user_name: string;
  created_at: number;
};

export type SnTokenTable = {
  token_hash: string;
  kind: string;
  client_id: string;
  user_name: string;
  expires_at: number;
};

export type SnTables = {
  snow_records: SnRecordTable;
  snow_counters: SnCounterTable;
  snow_users: SnUserTable;
  snow_oauth_clients: SnOAuthClientTable;
  snow_tokens: SnTokenTable;
};

export type SnDb = Kysely<SnTables>;
