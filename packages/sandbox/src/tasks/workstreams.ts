import { randomUUID } from 'node:crypto';
import type { SandboxContext } from '../app/context.js';
import { canSeeProject, type Principal } from '../auth/tokens.js';
import { visibleProject } from '../projects/service.js';
import { asBody, has, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { isGuid } from '../shared/ids.js';
import type { DeliverableTable, SandboxExecutor, WorkstreamTable } from '../store/tables.js';

export const toWorkstream = (row: WorkstreamTable) => ({
  id: row.id,
  name: row.name,
  isCustom: row.is_custom === 1,
});

export const toDeliverable = (row: DeliverableTable) => ({
  id: row.id,
  projectId: row.project_id,
  name: row.name,
  projectPhaseId: row.project_phase_id,
  description: row.description,
  isCustom: row.is_custom === 1,
});

function nameOnly(raw: unknown): string {
  const body = asBody(raw);
  rejectUnknown(body, ['name']);
  return requiredStr(body, 'name', 255);
}

export async function listWorkstreams(db: SandboxExecutor) {
  return (
    await db.selectFrom('sandbox_workstreams').selectAll().orderBy('is_custom').orderBy('id').execute()
  ).map(toWorkstream);
}

/**
 * Custom workstreams are one list for the whole tenant, used by tasks of every project: a client
 * restricted to some projects may read them, but creating, renaming or deleting one would change
 * the other projects too, so that needs a client with access to every project.
 */
function requireTenantWide(principal: Principal): void {
  if (principal.projectIds !== null)
    throw new CalmError(
      403,
      'Custom workstreams are shared by all projects; a client restricted to some projects cannot change them',
    );
}

export async function createWorkstream(ctx: SandboxContext, principal: Principal, raw: unknown) {
  requireTenantWide(principal);
  const row: WorkstreamTable = { id: randomUUID(), name: nameOnly(raw), is_custom: 1 };
  await ctx.db.insertInto('sandbox_workstreams').values(row).execute();
  return toWorkstream(row);
}

async function customWorkstream(ctx: SandboxContext, id: string): Promise<WorkstreamTable> {
  const row = await ctx.db
    .selectFrom('sandbox_workstreams')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound(`Workstream with id ${id} not found`);
  if (row.is_custom !== 1)
    throw badRequest(`Workstream ${id} is a standard workstream and cannot be changed`);
  return row;
}

export async function updateWorkstream(ctx: SandboxContext, principal: Principal, id: string, raw: unknown) {
  requireTenantWide(principal);
  const name = nameOnly(raw);
  const row = await customWorkstream(ctx, id);
  await ctx.db.updateTable('sandbox_workstreams').set({ name }).where('id', '=', row.id).execute();
  return toWorkstream({ ...row, name });
}

export async function deleteWorkstream(ctx: SandboxContext, principal: Principal, id: string): Promise<void> {
  requireTenantWide(principal);
  const row = await customWorkstream(ctx, id);
  await ctx.db.deleteFrom('sandbox_workstreams').where('id', '=', row.id).execute();
}

export async function listDeliverables(ctx: SandboxContext, principal: Principal, projectKey: string | null) {
  if (!projectKey) throw badRequest("Required request parameter 'projectId' is missing");
  const project = await visibleProject(ctx.db, principal, projectKey);
  const rows = await ctx.db
    .selectFrom('sandbox_deliverables')
    .selectAll()
    .where('project_id', '=', project.id)
    .orderBy('name')
    .orderBy('id')
    .execute();
  return rows.map(toDeliverable);
}

async function phaseOf(
  ctx: SandboxContext,
  projectId: string,
  phaseId: string | null | undefined,
): Promise<string | null | undefined> {
  if (phaseId === undefined || phaseId === null) return phaseId;
  if (!isGuid(phaseId)) throw badRequest(`Invalid projectPhaseId '${phaseId}': a UUID is expected`);
  const timebox = await ctx.db
    .selectFrom('sandbox_timeboxes')
    .selectAll()
    .where('id', '=', phaseId.toLowerCase())
    .executeTakeFirst();
  if (!timebox || timebox.project_id !== projectId)
    throw badRequest(`Project phase ${phaseId} does not exist in project ${projectId}`);
  return timebox.id;
}

export async function createDeliverable(ctx: SandboxContext, principal: Principal, raw: unknown) {
  const body = asBody(raw);
  rejectUnknown(body, ['projectId', 'name', 'projectPhaseId', 'description']);
  const project = await visibleProject(ctx.db, principal, requiredStr(body, 'projectId'));
  const row: DeliverableTable = {
    id: randomUUID(),
    project_id: project.id,
    name: requiredStr(body, 'name', 255),
    project_phase_id:
      (await phaseOf(ctx, project.id, str(body, 'projectPhaseId', { required: true }))) ?? null,
    description: str(body, 'description') ?? null,
    is_custom: 1,
  };
  await ctx.db.insertInto('sandbox_deliverables').values(row).execute();
  return toDeliverable(row);
}

export async function visibleDeliverable(
  ctx: SandboxContext,
  principal: Principal,
  id: string,
): Promise<DeliverableTable> {
  const row = isGuid(id)
    ? await ctx.db
        .selectFrom('sandbox_deliverables')
        .selectAll()
        .where('id', '=', id.toLowerCase())
        .executeTakeFirst()
    : undefined;
  if (!row) throw notFound(`Deliverable with id ${id} not found`);
  // The deliverable's project is not named: the caller asked for the deliverable only.
  if (!canSeeProject(principal, row.project_id))
    throw new CalmError(403, `No authorization for deliverable ${id}`);
  return row;
}

export async function updateDeliverable(ctx: SandboxContext, principal: Principal, id: string, raw: unknown) {
  const body = asBody(raw);
  rejectUnknown(body, ['name', 'projectPhaseId', 'description']);
  const row = await visibleDeliverable(ctx, principal, id);
  if (row.is_custom !== 1)
    throw badRequest(`Deliverable ${id} is a standard deliverable and cannot be changed`);
  const patch: Partial<DeliverableTable> = {};
  if (has(body, 'name')) patch.name = requiredStr(body, 'name', 255);
  const phase = await phaseOf(ctx, row.project_id, str(body, 'projectPhaseId'));
  if (phase !== undefined) patch.project_phase_id = phase;
  const description = str(body, 'description');
  if (description !== undefined) patch.description = description;
  if (Object.keys(patch).length > 0)
    await ctx.db.updateTable('sandbox_deliverables').set(patch).where('id', '=', row.id).execute();
  return toDeliverable({ ...row, ...patch });
}

export async function deleteDeliverable(
  ctx: SandboxContext,
  principal: Principal,
  id: string,
): Promise<void> {
  const row = await visibleDeliverable(ctx, principal, id);
  if (row.is_custom !== 1)
    throw badRequest(`Deliverable ${id} is a standard deliverable and cannot be deleted`);
  const used = await ctx.db
    .selectFrom('sandbox_tasks')
    .select('id')
    .where('deliverable_id', '=', row.id)
    .executeTakeFirst();
  if (used) throw new CalmError(400, `Deliverable ${id} is still assigned to tasks`);
  await ctx.db.deleteFrom('sandbox_deliverables').where('id', '=', row.id).execute();
}
