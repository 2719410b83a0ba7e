import type { HttpApp } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { requireScope } from '../auth/tokens.js';
import { badRequest, CalmError } from '../shared/errors.js';
import { hidden, principalOf, registerCalmService, searchParams } from '../shared/family.js';
import { sendJsonArray } from '../shared/json-stream.js';
import { addWarnings } from '../shared/warnings.js';
import {
  addComment,
  addReference,
  deleteComment,
  deleteReference,
  featureAssignments,
  listComments,
  listReferences,
  updateComment,
  updateReference,
} from './children.js';
import { warnUnknownTaskParams } from './query-params.js';
import { registerTaskRelationRoutes } from './relations.js';
import {
  createTask,
  deleteTask,
  listTasks,
  taskWithDescription,
  toTasks,
  updateTask,
  visibleTask,
} from './service.js';
import {
  createSolutionProcessAssignments,
  deleteSolutionProcessAssignments,
  listSolutionProcessAssignments,
} from './solution-processes.js';
import {
  createDeliverable,
  createWorkstream,
  deleteDeliverable,
  deleteWorkstream,
  listDeliverables,
  listWorkstreams,
  toDeliverable,
  updateDeliverable,
  updateWorkstream,
  visibleDeliverable,
} from './workstreams.js';

type Id = { Params: { id: string } };

export const TASKS_PREFIX = '/api/calm-tasks/v1';

/** `/api/calm-tasks/v1`: plain REST (reference §5): bare arrays, offset/limit, no `$` options. */
export async function registerTaskRoutes(app: HttpApp, ctx: SandboxContext): Promise<void> {
  await registerCalmService(app, ctx, { prefix: TASKS_PREFIX, family: 'rest' }, (scope) => {
    // The Tasks service refuses OData options everywhere, not only on the list.
    scope.addHook('preHandler', async (request, reply) => {
      for (const key of searchParams(request).keys()) {
        if (key.startsWith('$')) throw badRequest(`Query option ${key} is not supported yet`);
      }
      // Other unknown parameters are ignored, as on a tenant, but named in a Warning header.
      warnUnknownTaskParams(request, reply, TASKS_PREFIX);
    });
    const read = (request: Parameters<typeof principalOf>[0]) => {
      const principal = principalOf(request);
      requireScope(principal, 'tasks.read');
      return principal;
    };
    const write = (request: Parameters<typeof principalOf>[0]) => {
      const principal = principalOf(request);
      requireScope(principal, 'tasks.write');
      return principal;
    };

    // Streamed in chunks: an unlimited list of a large project would hold the event loop otherwise.
    scope.get('/tasks', hidden, async (request, reply) =>
      sendJsonArray(reply, await listTasks(ctx.db, read(request), searchParams(request))),
    );

    // Static paths win over `/tasks/:id` in Fastify's router whatever the registration order, so
    // `solutionProcessAssignments` is never taken for a task id.
    scope.get('/tasks/solutionProcessAssignments', hidden, async (request) =>
      listSolutionProcessAssignments(ctx, read(request), searchParams(request)),
    );
    scope.post('/tasks/solutionProcessAssignments', hidden, async (request, reply) => {
      // TKM-SPEC asks for tasks.write and processmanagement.write (reference §5.1).
      const principal = write(request);
      requireScope(principal, 'processmanagement.write');
      return reply.status(201).send(await createSolutionProcessAssignments(ctx, principal, request.body));
    });
    scope.delete('/tasks/solutionProcessAssignments', hidden, async (request, reply) => {
      // The operations table names no scope for DELETE; §1.4 lists processmanagement.delete for
      // the solution-process assignment operations, so both are asked for.
      const principal = write(request);
      requireScope(principal, 'processmanagement.delete');
      await deleteSolutionProcessAssignments(ctx, principal, request.body);
      return reply.status(204).send();
    });
    scope.patch('/tasks/solutionProcessAssignments', hidden, async () => {
      throw new CalmError(405, 'Solution process assignments are created and deleted, not changed', {
        headers: { allow: 'GET, POST, DELETE' },
      });
    });
    scope.post('/tasks', hidden, async (request, reply) => {
      const warnings: string[] = [];
      const task = await createTask(ctx, write(request), request.body, warnings);
      addWarnings(request, reply, warnings);
      return reply.status(201).send(task);
    });
    scope.get<Id>('/tasks/:id', hidden, async (request) => {
      const row = await visibleTask(ctx.db, read(request), request.params.id);
      return taskWithDescription(ctx.db, row);
    });
    scope.patch<Id>('/tasks/:id', hidden, async (request) => {
      const principal = write(request);
      return updateTask(ctx, principal, principal.clientId, request.params.id, request.body);
    });
    scope.delete<Id>('/tasks/:id', hidden, async (request, reply) => {
      await deleteTask(ctx, write(request), request.params.id);
      return reply.status(204).send();
    });
    scope.get<Id>('/tasks/:id/subTasks', hidden, async (request) => {
      const task = await visibleTask(ctx.db, read(request), request.params.id);
      const rows = await ctx.db
        .selectFrom('sandbox_tasks')
        .selectAll()
        .where('parent_id', '=', task.id)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return toTasks(ctx.db, rows);
    });
    scope.get<Id>('/tasks/:id/featureAssignments', hidden, async (request) =>
      featureAssignments(ctx, read(request), request.params.id),
    );
    registerTaskRelationRoutes(scope, ctx, { read, write });

    scope.get<Id>('/tasks/:id/comments', hidden, async (request) =>
      listComments(ctx, read(request), request.params.id),
    );
    scope.post<Id>('/tasks/:id/comments', hidden, async (request, reply) => {
      const principal = write(request);
      return reply
        .status(201)
        .send(await addComment(ctx, principal, principal.clientId, request.params.id, request.body));
    });
    // The spec lists tasks.read for comment changes; the sandbox asks for tasks.write so a hub
    // never relies on that spec oddity.
    scope.patch<Id>('/tasks/comments/:id', hidden, async (request) =>
      updateComment(ctx, write(request), request.params.id, request.body),
    );
    scope.delete<Id>('/tasks/comments/:id', hidden, async (request, reply) => {
      await deleteComment(ctx, write(request), request.params.id);
      return reply.status(204).send();
    });

    scope.get<Id>('/tasks/:id/references', hidden, async (request) =>
      listReferences(ctx, read(request), request.params.id),
    );
    scope.post<Id>('/tasks/:id/references', hidden, async (request, reply) =>
      reply.status(201).send(await addReference(ctx, write(request), request.params.id, request.body)),
    );
    scope.patch<Id>('/tasks/references/:id', hidden, async (request) =>
      updateReference(ctx, write(request), request.params.id, request.body),
    );
    scope.delete<Id>('/tasks/references/:id', hidden, async (request, reply) => {
      await deleteReference(ctx, write(request), request.params.id);
      return reply.status(204).send();
    });

    scope.get('/workstreams', hidden, async (request) => {
      read(request);
      return listWorkstreams(ctx.db);
    });
    scope.post('/workstreams', hidden, async (request, reply) => {
      return reply.status(201).send(await createWorkstream(ctx, write(request), request.body));
    });
    scope.patch<Id>('/workstreams/:id', hidden, async (request) => {
      return updateWorkstream(ctx, write(request), request.params.id, request.body);
    });
    scope.delete<Id>('/workstreams/:id', hidden, async (request, reply) => {
      await deleteWorkstream(ctx, write(request), request.params.id);
      return reply.status(204).send();
    });

    scope.get('/deliverables', hidden, async (request) =>
      listDeliverables(ctx, read(request), searchParams(request).get('projectId')),
    );
    scope.post('/deliverables', hidden, async (request, reply) =>
      reply.status(201).send(await createDeliverable(ctx, write(request), request.body)),
    );
    scope.get<Id>('/deliverables/:id', hidden, async (request) =>
      toDeliverable(await visibleDeliverable(ctx, read(request), request.params.id)),
    );
    scope.patch<Id>('/deliverables/:id', hidden, async (request) =>
      updateDeliverable(ctx, write(request), request.params.id, request.body),
    );
    scope.delete<Id>('/deliverables/:id', hidden, async (request, reply) => {
      await deleteDeliverable(ctx, write(request), request.params.id);
      return reply.status(204).send();
    });
  });
}
