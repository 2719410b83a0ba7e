import { randomUUID } from 'node:crypto';
import type { SandboxContext } from '../app/context.js';
import type { Principal } from '../auth/tokens.js';
import { withEvents } from '../events/events.js';
import { visibleProject } from '../projects/service.js';
import { asBody, type Body, rejectUnknown, requiredStr } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { isGuid } from '../shared/ids.js';
import type { SandboxExecutor, SolutionProcessAssignmentTable, TaskTable } from '../store/tables.js';
import { touchTask, visibleTask } from './service.js';

/**
 * One task <-> solution process link (TKM-SPEC `solutionProcessAssignments`, reference §5.1). The
 * request fields are CONFIRMED; `relationId` and `projectId` are what the service adds.
 */
export interface SolutionProcessAssignment {
  relationId: string;
  taskId: string;
  projectId: string;
  scopeId: string;
  solutionScenarioVersionId: string;
  solutionProcessId: string;
}

const FIELDS = ['taskId', 'scopeId', 'solutionScenarioVersionId', 'solutionProcessId'] as const;
/** One request changes at most this many links, so a single call cannot hold the writer for long. */
const MAX_ITEMS = 1000;

export const toSolutionProcessAssignment = (
  row: SolutionProcessAssignmentTable,
): SolutionProcessAssignment => ({
  relationId: row.relation_id,
  taskId: row.task_id,
  projectId: row.project_id,
  scopeId: row.scope_id,
  solutionScenarioVersionId: row.solution_scenario_version_id,
  solutionProcessId: row.solution_process_id,
});

interface LinkInput {
  taskId: string;
  scopeId: string;
  solutionScenarioVersionId: string;
  solutionProcessId: string;
}

function items(raw: unknown): unknown[] {
  if (!Array.isArray(raw)) throw badRequest('The request body must be a JSON array');
  if (raw.length === 0) throw badRequest('The request body must contain at least one assignment');
  if (raw.length > MAX_ITEMS) throw badRequest(`At most ${MAX_ITEMS} assignments per request`);
  return raw;
}

function guid(body: Body, key: string, what: string): string {
  const value = requiredStr(body, key, 36);
  if (!isGuid(value)) throw badRequest(`Invalid ${key} '${value}' in ${what}: a UUID is expected`);
  return value.toLowerCase();
}

/** The four link fields; ids of the process catalogue are opaque strings (their format is not public). */
function linkInput(body: Body, what: string): LinkInput {
  return {
    taskId: guid(body, 'taskId', what),
    scopeId: guid(body, 'scopeId', what),
    solutionScenarioVersionId: requiredStr(body, 'solutionScenarioVersionId', 255),
    solutionProcessId: requiredStr(body, 'solutionProcessId', 255),
  };
}

const linkKey = (link: LinkInput) =>
  [link.taskId, link.scopeId, link.solutionScenarioVersionId, link.solutionProcessId].join('\u0000');

async function findLink(
  db: SandboxExecutor,
  link: LinkInput,
): Promise<SolutionProcessAssignmentTable | undefined> {
  return db
    .selectFrom('sandbox_solution_process_assignments')
    .selectAll()
    .where('task_id', '=', link.taskId)
    .where('scope_id', '=', link.scopeId)
    .where('solution_scenario_version_id', '=', link.solutionScenarioVersionId)
    .where('solution_process_id', '=', link.solutionProcessId)
    .executeTakeFirst();
}

function nonNegative(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > 2_147_483_647)
    throw badRequest(`Invalid ${name} '${raw}': an integer >= ${min} is expected`);
  return value;
}

/**
 * `GET /tasks/solutionProcessAssignments?projectId=&taskId=&offset=&limit=`: `projectId` is required
 * as on `/tasks`; `taskId` may repeat (`taskId=a&taskId=b`, also as `taskId[]=`) or hold a
 * comma-separated list.
 */
export async function listSolutionProcessAssignments(
  ctx: SandboxContext,
  principal: Principal,
  params: URLSearchParams,
): Promise<SolutionProcessAssignment[]> {
  const projectKey = params.get('projectId');
  if (!projectKey) throw badRequest("Required request parameter 'projectId' is missing");
  if (!isGuid(projectKey)) throw badRequest(`Invalid projectId '${projectKey}': a UUID is expected`);
  const project = await visibleProject(ctx.db, principal, projectKey);
  let query = ctx.db
    .selectFrom('sandbox_solution_process_assignments')
    .selectAll()
    .where('project_id', '=', project.id);
  const taskIds = [...params.getAll('taskId'), ...params.getAll('taskId[]')]
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (taskIds.length > 0) {
    for (const id of taskIds) {
      if (!isGuid(id)) throw badRequest(`Invalid taskId '${id}': a UUID is expected`);
    }
    query = query.where(
      'task_id',
      'in',
      taskIds.map((id) => id.toLowerCase()),
    );
  }
  const offsetRaw = params.get('offset');
  const limitRaw = params.get('limit');
  const offset = offsetRaw === null ? 0 : nonNegative('offset', offsetRaw, 0);
  query = query.orderBy('created_at').orderBy('relation_id');
  if (limitRaw !== null) query = query.limit(nonNegative('limit', limitRaw, 1));
  else if (offset > 0) query = query.limit(Number.MAX_SAFE_INTEGER);
  if (offset > 0) query = query.offset(offset);
  return (await query.execute()).map(toSolutionProcessAssignment);
}

/**
 * `POST /tasks/solutionProcessAssignments` with an array of links: all or nothing, 201 with the
 * created links. Like comments and references, a link is a change of its task, so each affected
 * task gets its `lastChangedTimestamp` bumped and one TASK.UPDATED.
 */
export async function createSolutionProcessAssignments(
  ctx: SandboxContext,
  principal: Principal,
  raw: unknown,
): Promise<SolutionProcessAssignment[]> {
  const inputs = items(raw).map((item, index) => {
    const what = `assignment ${index + 1}`;
    const body = asBody(item, what);
    rejectUnknown(body, FIELDS, what);
    return linkInput(body, what);
  });
  const keys = new Set(inputs.map(linkKey));
  if (keys.size !== inputs.length) throw badRequest('The same assignment is listed more than once');
  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    const tasks = new Map<string, TaskTable>();
    const created: SolutionProcessAssignmentTable[] = [];
    for (const input of inputs) {
      const task = tasks.get(input.taskId) ?? (await visibleTask(trx, principal, input.taskId));
      tasks.set(task.id, task);
      if (await findLink(trx, input)) {
        throw new CalmError(
          409,
          `Task ${task.id} is already assigned to solution process ${input.solutionProcessId} (scope ${input.scopeId}, scenario version ${input.solutionScenarioVersionId})`,
        );
      }
      const row: SolutionProcessAssignmentTable = {
        relation_id: randomUUID(),
        task_id: task.id,
        project_id: task.project_id,
        scope_id: input.scopeId,
        solution_scenario_version_id: input.solutionScenarioVersionId,
        solution_process_id: input.solutionProcessId,
        created_at: ctx.now(),
      };
      await trx.insertInto('sandbox_solution_process_assignments').values(row).execute();
      created.push(row);
    }
    for (const task of tasks.values()) await touchTask(ctx, trx, emit, task);
    return created.map(toSolutionProcessAssignment);
  });
}

/**
 * `DELETE /tasks/solutionProcessAssignments` with an array body. The spec does not show the item
 * shape, so each item may be a `relationId` string, `{ relationId }`, or the four link fields as
 * posted. All or nothing: an unknown link is a 404 and nothing is deleted.
 */
export async function deleteSolutionProcessAssignments(
  ctx: SandboxContext,
  principal: Principal,
  raw: unknown,
): Promise<void> {
  const targets = items(raw).map((item, index): { relationId: string } | LinkInput => {
    const what = `assignment ${index + 1}`;
    if (typeof item === 'string') {
      if (!isGuid(item)) throw badRequest(`Invalid relationId '${item}' in ${what}: a UUID is expected`);
      return { relationId: item.toLowerCase() };
    }
    const body = asBody(item, what);
    if (Object.hasOwn(body, 'relationId')) {
      rejectUnknown(body, ['relationId', 'projectId', ...FIELDS], what);
      return { relationId: guid(body, 'relationId', what) };
    }
    rejectUnknown(body, ['projectId', ...FIELDS], what);
    return linkInput(body, what);
  });
  await withEvents(ctx, principal.clientId, async (trx, emit) => {
    const tasks = new Map<string, TaskTable>();
    for (const target of targets) {
      const row =
        'relationId' in target
          ? await trx
              .selectFrom('sandbox_solution_process_assignments')
              .selectAll()
              .where('relation_id', '=', target.relationId)
              .executeTakeFirst()
          : await findLink(trx, target);
      // A link listed twice is found the first time only: the second is a 404 like any unknown one.
      if (!row) {
        throw notFound(
          'relationId' in target
            ? `Solution process assignment ${target.relationId} not found`
            : `Task ${target.taskId} is not assigned to solution process ${target.solutionProcessId}`,
        );
      }
      const task = tasks.get(row.task_id) ?? (await visibleTask(trx, principal, row.task_id));
      tasks.set(task.id, task);
      await trx
        .deleteFrom('sandbox_solution_process_assignments')
        .where('relation_id', '=', row.relation_id)
        .execute();
    }
    for (const task of tasks.values()) await touchTask(ctx, trx, emit, task);
  });
}
