import { AppError } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { HubTables } from '../store/tables.js';
import type { Actor } from './actor.js';
import {
  MEMBER_TENANT_ACTIONS,
  type ProjectAction,
  type ProjectRole,
  roleAllows,
  type TenantAction,
} from './permissions.js';

export function notFound(kind: string, id: string): AppError {
  return new AppError('not_found', `No ${kind} with id ${id}`);
}

export function forbidden(action: string, because: string): AppError {
  return new AppError('forbidden', `Not allowed to ${action}: ${because}`, { details: { action } });
}

export function requireTenantAction(actor: Actor, action: TenantAction): void {
  if (actor.tenantRole === 'admin' || MEMBER_TENANT_ACTIONS.includes(action)) return;
  throw forbidden(action, 'this needs a tenant admin');
}

/** The caller's role in a project, `tenant_admin` for tenant admins, undefined for non-members. */
export async function roleInProject(
  db: Kysely<HubTables>,
  actor: Actor,
  projectId: string,
): Promise<ProjectRole | 'tenant_admin' | undefined> {
  if (actor.tenantRole === 'admin') return 'tenant_admin';
  const member = await db
    .selectFrom('hub_project_members')
    .select('role')
    .where('project_id', '=', projectId)
    .where('user_id', '=', actor.userId)
    .where('tenant_id', '=', actor.tenantId)
    .executeTakeFirst();
  return member?.role as ProjectRole | undefined;
}

/**
 * Checks `action` in a project of the caller's tenant. A project of another tenant, or one the
 * caller is no member of, answers 404 exactly as a missing one does: no oracle for ids.
 */
export async function requireProjectAction(
  db: Kysely<HubTables>,
  actor: Actor,
  projectId: string,
  action: ProjectAction,
): Promise<void> {
  const project = await db
    .selectFrom('hub_projects')
    .select('id')
    .where('id', '=', projectId)
    .where('tenant_id', '=', actor.tenantId)
    .executeTakeFirst();
  if (!project) throw notFound('project', projectId);
  const role = await roleInProject(db, actor, projectId);
  if (role === undefined) throw notFound('project', projectId);
  if (role === 'tenant_admin' || roleAllows(role, action)) return;
  throw forbidden(action, `the role ${role} in this project does not include it`);
}

/** Project ids the caller may see: all of the tenant's for admins, else their memberships. */
export async function visibleProjectIds(db: Kysely<HubTables>, actor: Actor): Promise<string[] | 'all'> {
  if (actor.tenantRole === 'admin') return 'all';
  const rows = await db
    .selectFrom('hub_project_members')
    .select('project_id')
    .where('user_id', '=', actor.userId)
    .where('tenant_id', '=', actor.tenantId)
    .execute();
  return rows.map((row) => row.project_id);
}
