import { randomUUID } from 'node:crypto';
import { AppError } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Clock } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import type { HubTables, ProjectsTable } from '../store/tables.js';
import type { Actor } from './actor.js';
import { notFound, requireProjectAction, roleInProject, visibleProjectIds } from './authorize.js';
import type { ProjectRole } from './permissions.js';
import { iso, type ProjectView, projectView } from './views.js';

type Deps = { db: Kysely<HubTables>; clock: Clock };

async function assertNameFree(deps: Deps, tenantId: string, name: string, exceptId?: string): Promise<void> {
  let query = deps.db
    .selectFrom('hub_projects')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name);
  if (exceptId) query = query.where('id', '!=', exceptId);
  if (await query.executeTakeFirst())
    throw new AppError('conflict', `A project named "${name}" already exists`, {
      details: { field: 'name' },
    });
}

export async function createProject(
  deps: Deps,
  actor: Actor,
  input: { name: string; description?: string | undefined },
  requestId?: string,
): Promise<ProjectView & { role: string }> {
  const name = input.name.trim();
  await assertNameFree(deps, actor.tenantId, name);
  const now = deps.clock.now();
  const row: ProjectsTable = {
    id: randomUUID(),
    tenant_id: actor.tenantId,
    name,
    description: input.description?.trim() ?? '',
    created_at: now,
    updated_at: now,
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('hub_projects').values(row).execute();
    await trx
      .insertInto('hub_project_members')
      .values({
        project_id: row.id,
        user_id: actor.userId,
        tenant_id: actor.tenantId,
        role: 'admin',
        created_at: now,
      })
      .execute();
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: row.id,
      occurredAt: now,
      kind: 'project.created',
      object: { kind: 'project', id: row.id, label: row.name },
      after: projectView(row),
    });
  });
  return { ...projectView(row), role: 'admin' };
}

export async function listProjects(deps: Deps, actor: Actor): Promise<Array<ProjectView & { role: string }>> {
  const visible = await visibleProjectIds(deps.db, actor);
  if (visible !== 'all' && visible.length === 0) return [];
  let query = deps.db.selectFrom('hub_projects').selectAll().where('tenant_id', '=', actor.tenantId);
  if (visible !== 'all') query = query.where('id', 'in', visible);
  const rows = await query.orderBy('name').execute();
  const roles = await deps.db
    .selectFrom('hub_project_members')
    .select(['project_id', 'role'])
    .where('user_id', '=', actor.userId)
    .execute();
  const roleOf = new Map(roles.map((r) => [r.project_id, r.role]));
  return rows.map((row) => ({
    ...projectView(row),
    role: roleOf.get(row.id) ?? (actor.tenantRole === 'admin' ? 'tenant_admin' : 'viewer'),
  }));
}

export async function getProject(
  deps: Deps,
  actor: Actor,
  id: string,
): Promise<ProjectView & { role: string }> {
  await requireProjectAction(deps.db, actor, id, 'project.read');
  const row = await deps.db
    .selectFrom('hub_projects')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return { ...projectView(row), role: (await roleInProject(deps.db, actor, id)) ?? 'viewer' };
}

export async function updateProject(
  deps: Deps,
  actor: Actor,
  id: string,
  input: { name?: string | undefined; description?: string | undefined },
  requestId?: string,
): Promise<ProjectView & { role: string }> {
  await requireProjectAction(deps.db, actor, id, 'project.update');
  if (input.name !== undefined) await assertNameFree(deps, actor.tenantId, input.name.trim(), id);
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('hub_projects')
      .selectAll()
      .where('tenant_id', '=', actor.tenantId)
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const changes = {
      ...(input.name === undefined ? {} : { name: input.name.trim() }),
      ...(input.description === undefined ? {} : { description: input.description.trim() }),
      updated_at: now,
    };
    await trx
      .updateTable('hub_projects')
      .set(changes)
      .where('tenant_id', '=', actor.tenantId)
      .where('id', '=', id)
      .execute();
    const after = { ...before, ...changes };
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: id,
      occurredAt: now,
      kind: 'project.updated',
      object: { kind: 'project', id, label: after.name },
      before: projectView(before),
      after: projectView(after),
    });
  });
  return getProject(deps, actor, id);
}

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: string;
  since: string;
}

export async function listMembers(deps: Deps, actor: Actor, projectId: string): Promise<MemberView[]> {
  await requireProjectAction(deps.db, actor, projectId, 'project.read');
  const rows = await deps.db
    .selectFrom('hub_project_members')
    .innerJoin('hub_users', 'hub_users.id', 'hub_project_members.user_id')
    .select([
      'hub_users.id',
      'hub_users.email',
      'hub_users.name',
      'hub_project_members.role',
      'hub_project_members.created_at',
    ])
    .where('hub_project_members.project_id', '=', projectId)
    .where('hub_project_members.tenant_id', '=', actor.tenantId)
    .orderBy('hub_users.email')
    .execute();
  return rows.map((row) => ({
    userId: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    since: iso(row.created_at),
  }));
}

export async function setMember(
  deps: Deps,
  actor: Actor,
  projectId: string,
  userId: string,
  role: ProjectRole,
  requestId?: string,
): Promise<MemberView> {
  await requireProjectAction(deps.db, actor, projectId, 'members.manage');
  const user = await deps.db
    .selectFrom('hub_users')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!user) throw notFound('user', userId);
  const now = deps.clock.now();
  const memberOf = async (db: Kysely<HubTables>) =>
    (await listMembers({ ...deps, db }, actor, projectId)).find((m) => m.userId === userId);
  return deps.db.transaction().execute(async (trx) => {
    // The role the actor had before this change (an admin may change their own).
    const actorRole = await roleInProject(trx, actor, projectId);
    const before = await memberOf(trx);
    await trx
      .insertInto('hub_project_members')
      .values({ project_id: projectId, user_id: userId, tenant_id: actor.tenantId, role, created_at: now })
      .onConflict((oc) => oc.columns(['project_id', 'user_id']).doUpdateSet({ role }))
      .execute();
    const after = (await memberOf(trx)) as MemberView;
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      role: actorRole ?? null,
      tenantId: actor.tenantId,
      projectId,
      occurredAt: now,
      kind: 'member.set',
      object: { kind: 'member', id: userId, label: user.email },
      before: before ?? null,
      after,
    });
    return after;
  });
}

export async function removeMember(
  deps: Deps,
  actor: Actor,
  projectId: string,
  userId: string,
  requestId?: string,
): Promise<void> {
  await requireProjectAction(deps.db, actor, projectId, 'members.manage');
  await deps.db.transaction().execute(async (trx) => {
    const actorRole = await roleInProject(trx, actor, projectId);
    const before = (await listMembers({ ...deps, db: trx }, actor, projectId)).find(
      (m) => m.userId === userId,
    );
    const result = await trx
      .deleteFrom('hub_project_members')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .where('tenant_id', '=', actor.tenantId)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('member', userId);
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      role: actorRole ?? null,
      tenantId: actor.tenantId,
      projectId,
      occurredAt: deps.clock.now(),
      kind: 'member.removed',
      object: { kind: 'member', id: userId, label: before?.email ?? null },
      before: before ?? null,
    });
  });
}
