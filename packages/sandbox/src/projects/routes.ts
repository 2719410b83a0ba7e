import { randomUUID } from 'node:crypto';
import type { HttpApp } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { getClient, updateClient } from '../auth/clients.js';
import { requireScope } from '../auth/tokens.js';
import { badRequest } from '../shared/errors.js';
import { hidden, principalOf, registerCalmService } from '../shared/family.js';
import { warnUnknownRouteParams } from '../shared/warnings.js';
import {
  createProject,
  listProjects,
  parseProjectCreate,
  parseTimeboxCreate,
  parseTimeboxPatch,
  toProject,
  toTimebox,
  visibleProject,
  visibleTimebox,
} from './service.js';
import { registerTeamRoutes } from './teams.js';

type IdParams = { Params: { id: string } };

/** `/api/calm-projects/v1`: plain REST, bare arrays, `{ message }` errors (reference §3). */
export async function registerProjectRoutes(app: HttpApp, ctx: SandboxContext): Promise<void> {
  await registerCalmService(app, ctx, { prefix: '/api/calm-projects/v1', family: 'rest' }, (scope) => {
    // Unknown query parameters are ignored, as on a tenant, but named in a Warning header.
    scope.addHook('preHandler', async (request, reply) =>
      warnUnknownRouteParams(request, reply, '/api/calm-projects/v1', {
        '/projects': [],
        '/projects/:id': [],
        '/projects/:id/timeboxes': [],
        '/timeboxes/:id': [],
        '/projects/:id/teams': [],
        '/teams/:id': [],
        '/teams/:id/roles': [],
      }),
    );
    scope.get('/projects', hidden, async (request) => {
      const principal = principalOf(request);
      requireScope(principal, 'projects.read');
      return listProjects(ctx.db, principal);
    });

    scope.get<IdParams>('/projects/:id', hidden, async (request) => {
      const principal = principalOf(request);
      requireScope(principal, 'projects.read');
      return toProject(await visibleProject(ctx.db, principal, request.params.id));
    });

    scope.post('/projects', hidden, async (request, reply) => {
      const principal = principalOf(request);
      requireScope(principal, 'projects.write');
      const input = parseProjectCreate(request.body);
      const row = await createProject(ctx, ctx.db, input);
      // A client restricted to some projects still sees the ones it creates.
      if (principal.projectIds !== null) {
        const client = await getClient(ctx.db, principal.clientId);
        if (client?.projectIds)
          await updateClient(ctx, client.clientId, { projectIds: [...client.projectIds, row.id] });
      }
      return reply.status(201).send(toProject(row));
    });

    scope.get<IdParams>('/projects/:id/timeboxes', hidden, async (request) => {
      const principal = principalOf(request);
      requireScope(principal, 'projects.read');
      const project = await visibleProject(ctx.db, principal, request.params.id);
      const rows = await ctx.db
        .selectFrom('sandbox_timeboxes')
        .selectAll()
        .where('project_id', '=', project.id)
        .orderBy('start_date')
        .orderBy('id')
        .execute();
      return rows.map(toTimebox);
    });

    scope.post<IdParams>('/projects/:id/timeboxes', hidden, async (request, reply) => {
      const principal = principalOf(request);
      requireScope(principal, 'projects.write');
      const project = await visibleProject(ctx.db, principal, request.params.id);
      const row = { id: randomUUID(), project_id: project.id, ...parseTimeboxCreate(request.body) };
      await ctx.db.insertInto('sandbox_timeboxes').values(row).execute();
      return reply.status(201).send(toTimebox(row));
    });

    scope.get<IdParams>('/timeboxes/:id', hidden, async (request) => {
      const principal = principalOf(request);
      requireScope(principal, 'projects.read');
      return toTimebox(await visibleTimebox(ctx.db, principal, request.params.id));
    });

    scope.patch<IdParams>('/timeboxes/:id', hidden, async (request) => {
      const principal = principalOf(request);
      requireScope(principal, 'projects.write');
      const row = await visibleTimebox(ctx.db, principal, request.params.id);
      const patch = parseTimeboxPatch(request.body);
      const next = { ...row, ...patch };
      if (next.start_date && next.end_date && next.end_date < next.start_date) {
        throw badRequest('endDate must not be before startDate');
      }
      if (Object.keys(patch).length > 0)
        await ctx.db.updateTable('sandbox_timeboxes').set(patch).where('id', '=', row.id).execute();
      return toTimebox(next);
    });

    registerTeamRoutes(scope, ctx);

    scope.delete<IdParams>('/timeboxes/:id', hidden, async (request, reply) => {
      const principal = principalOf(request);
      requireScope(principal, 'projects.write');
      const row = await visibleTimebox(ctx.db, principal, request.params.id);
      await ctx.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('sandbox_tasks')
          .set({ timebox_id: null })
          .where('timebox_id', '=', row.id)
          .execute();
        await trx.deleteFrom('sandbox_timeboxes').where('id', '=', row.id).execute();
      });
      return reply.status(204).send();
    });
  });
}
