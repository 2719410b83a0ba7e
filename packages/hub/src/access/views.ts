import { readJson } from '@calmhub/platform';
import type { ProjectsTable, UsersTable } from '../store/tables.js';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export interface UserView {
  id: string;
  email: string;
  name: string;
  tenantRole: 'admin' | 'member';
  sapUserIds: string[];
  createdAt: string;
}

export function userView(row: UsersTable): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    tenantRole: row.tenant_role,
    sapUserIds: readJson<string[]>(row.sap_user_ids),
    createdAt: iso(row.created_at),
  };
}

export interface ProjectView {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

export function projectView(row: ProjectsTable): ProjectView {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    description: row.description,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}
