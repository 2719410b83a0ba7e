import { randomUUID } from 'node:crypto';
import type { HttpApp } from '@calmhub/platform';
import type { FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { canSeeProject, type Principal } from '../auth/tokens.js';
import { withEvents } from '../events/events.js';
import { asBody, rejectUnknown, requiredStr } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { hidden } from '../shared/family.js';
import { isGuid } from '../shared/ids.js';
import type { SandboxExecutor, TaskRelationTable, TaskTable } from '../store/tables.js';
import { touchTask } from './service.js';

/**
 * Kinds of task-to-task links. `DEPENDS_ON`: the source can only be done after the target
 * (story dependencies); `BLOCKS`: the source holds the target up; `RELATES_TO`: an undirected
 * "see also". The type list is INFERRED: the public specs name the resource, not its codes.
 */
export const RELATION_TYPES = ['DEPENDS_ON', 'RELATES_TO', 'BLOCKS'] as const;
export type RelationType = (typeof RELATION_TYPES)[number];

/** A relation as `/tasks/{id}/relations` answers it (shape INFERRED). */
export interface TaskRelation {
  id: string;
  sourceTaskId: string;
  targetTaskId: string;
  type: string;
}

export const toRelation = (row: TaskRelationTable): TaskRelation => ({
  id: row.id,
  sourceTaskId: row.source_task_id,
  targetTaskId: row.target_task_id,
  type: row.type,
});

/** A task the caller may see; another project's task gets the same 404 as a missing one. */
async function taskFor(db: SandboxExecutor, principal: Principal, id: string): Promise<TaskTable> {
  const row = isGuid(id)
    ? await db.selectFrom('sandbox_tasks').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst()
    : undefined;
  if (!row || !canSeeProject(principal, row.project_id)) throw notFound(`Task with id ${id} not found`);
  return row;
}

/** `GET /tasks/{id}/relations`: every relation the task is the source or the target of. */
export async function listRelations(
  ctx: SandboxContext,
  principal: Principal,
  taskId: string,
): Promise<TaskRelation[]> {
  const task = await taskFor(ctx.db, principal, taskId);
  const rows = await ctx.db
    .selectFrom('sandbox_task_relations')
    .selectAll()
    .where((eb) => eb.or([eb('source_task_id', '=', task.id), eb('target_task_id', '=', task.id)]))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toRelation);
}

function relationInput(raw: unknown): { targetTaskId: string; type: RelationType } {
  const body = asBody(raw);
  rejectUnknown(body, ['targetTaskId', 'type']);
  const targetTaskId = requiredStr(body, 'targetTaskId', 100);
  const type = requiredStr(body, 'type', 40);
  if (!(RELATION_TYPES as readonly string[]).includes(type)) {
    throw badRequest(`Invalid relation type '${type}'; use ${RELATION_TYPES.join(', ')}`);
  }
  return { targetTaskId, type: type as RelationType };
}

/**
 * `POST /tasks/{id}/relations` `{targetTaskId, type}` → 201 with the relation. Both tasks must
 * be in the same project; the same link twice is a 409. The source task changes (its
 * `lastChangedTimestamp` and a TASK.UPDATED event), as with comments and references.
 */
export async function createRelation(
  ctx: SandboxContext,
  principal: Principal,
  taskId: string,
  raw: unknown,
): Promise<TaskRelation> {
  const input = relationInput(raw);
  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    const source = await taskFor(trx, principal, taskId);
    const target = await taskFor(trx, principal, input.targetTaskId);
    if (source.id === target.id) throw badRequest('A task cannot be related to itself');
    if (source.project_id !== target.project_id) {
      throw badRequest('Tasks of different projects cannot be related');
    }
    const existing = await trx
      .selectFrom('sandbox_task_relations')
      .select('id')
      .where('source_task_id', '=', source.id)
      .where('target_task_id', '=', target.id)
      .where('type', '=', input.type)
      .executeTakeFirst();
    if (existing) {
      throw new CalmError(409, `Task ${source.id} already has a ${input.type} relation to task ${target.id}`);
    }
    const row: TaskRelationTable = {
      id: randomUUID(),
      project_id: source.project_id,
      source_task_id: source.id,
      target_task_id: target.id,
      type: input.type,
      created_by: principal.clientId,
      created_at: ctx.now(),
    };
    await trx.insertInto('sandbox_task_relations').values(row).execute();
    await touchTask(ctx, trx, emit, source);
    return toRelation(row);
  });
}

/** `DELETE /tasks/relations/{relationId}` → 204; the source task changes. */
export async function deleteRelation(ctx: SandboxContext, principal: Principal, relationId: string) {
  await withEvents(ctx, principal.clientId, async (trx, emit) => {
    const row = isGuid(relationId)
      ? await trx
          .selectFrom('sandbox_task_relations')
          .selectAll()
          .where('id', '=', relationId.toLowerCase())
          .executeTakeFirst()
      : undefined;
    if (!row || !canSeeProject(principal, row.project_id)) {
      throw notFound(`Relation with id ${relationId} not found`);
    }
    await trx.deleteFrom('sandbox_task_relations').where('id', '=', row.id).execute();
    const source = await trx
      .selectFrom('sandbox_tasks')
      .selectAll()
      .where('id', '=', row.source_task_id)
      .executeTakeFirstOrThrow();
    await touchTask(ctx, trx, emit, source);
  });
}

type Access = (request: FastifyRequest) => Principal;

/** Registers the relation routes in the Tasks service scope (scopes: tasks.read / tasks.write). */
export function registerTaskRelationRoutes(
  scope: HttpApp,
  ctx: SandboxContext,
  access: { read: Access; write: Access },
): void {
  scope.get<{ Params: { id: string } }>('/tasks/:id/relations', hidden, async (request) =>
    listRelations(ctx, access.read(request), request.params.id),
  );
  scope.post<{ Params: { id: string } }>('/tasks/:id/relations', hidden, async (request, reply) =>
    reply.status(201).send(await createRelation(ctx, access.write(request), request.params.id, request.body)),
  );
  scope.delete<{ Params: { id: string } }>('/tasks/relations/:id', hidden, async (request, reply) => {
    await deleteRelation(ctx, access.write(request), request.params.id);
    return reply.status(204).send();
  });
}

/** Demo story dependencies: pairs of story titles in the demo project, source first. */
export const DEMO_RELATIONS: readonly [string, string, RelationType][] = [
  ['Period-end job chain for accruals', 'Open and close posting periods by company code', 'DEPENDS_ON'],
  ['Close cockpit task list', 'Period-end job chain for accruals', 'DEPENDS_ON'],
  ['Automatic elimination postings', 'Matching rules for IC open items', 'DEPENDS_ON'],
  ['Reconciliation report per partner', 'Matching rules for IC open items', 'DEPENDS_ON'],
  ['Transfer accumulated depreciation', 'Load asset master data', 'DEPENDS_ON'],
  ['Search strings for clearing', 'CAMT.053 import', 'DEPENDS_ON'],
  ['Currency translation method', 'Validation rules', 'BLOCKS'],
  ['Depreciation run scheduling', 'Transfer accumulated depreciation', 'RELATES_TO'],
];

/** Adds the demo relations (fixed ids, no randomness) inside the demo seed's transaction. */
export async function seedDemoRelations(db: SandboxExecutor, projectId: string, at: number): Promise<number> {
  const stories = await db
    .selectFrom('sandbox_tasks')
    .select(['id', 'title'])
    .where('project_id', '=', projectId)
    .where('type', '=', 'CALMUS')
    .execute();
  const byTitle = new Map(stories.map((story) => [story.title, story.id]));
  const rows: TaskRelationTable[] = [];
  for (const [index, [source, target, type]] of DEMO_RELATIONS.entries()) {
    const sourceId = byTitle.get(source);
    const targetId = byTitle.get(target);
    if (!sourceId || !targetId) continue;
    rows.push({
      id: `5e1a7100-0000-4000-8000-${String(index + 1).padStart(12, '0')}`,
      project_id: projectId,
      source_task_id: sourceId,
      target_task_id: targetId,
      type,
      created_by: 'sandbox-seed',
      created_at: at + index * 60_000,
    });
  }
  if (rows.length > 0) await db.insertInto('sandbox_task_relations').values(rows).execute();
  return rows.length;
}
