import type { Kysely } from 'kysely';

export type SapBuildClientTable = {
  client_id: string;
  name: string;
  secret_sealed: string;
  created_at: number;
};

export type SapBuildTokenTable = {
  token_hash: string;
  client_id: string;
  expires_at: number;
};

export type SapBuildInstanceTable = {
  id: string;
  definition_id: string;
  definition_version: string;
  subject: string;
  status: string;
  business_key: string;
  project_id: string;
  project_version: string;
  context: unknown;
  /** `null` until the instance completes (or an admin sets outputs). */
  outputs: unknown;
  started_at: number;
  started_by: string;
  completed_at: number | null;
};

export type SapBuildTables = {
  sapbuild_clients: SapBuildClientTable;
  sapbuild_tokens: SapBuildTokenTable;
  sapbuild_instances: SapBuildInstanceTable;
};

export type SapBuildDb = Kysely<SapBuildTables>;
