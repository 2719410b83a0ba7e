import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import { StartSyncBody, SyncRunsQuery, SyncRunView } from './schemas.js';
import { getSyncRun, listSyncRuns, startSync } from './sync-runs.js';

export function registerSyncRoutes(app: HttpApp, deps: HubDeps): void {
  app.addSchema(SyncRunView);
  const tags = ['sync'];
  app.post(
    '/api/v1/integrations/:id/sync',
    {
      config: { action: 'integrations.sync' },
      schema: {
        tags,
        summary: 'Sync User Stories: pull the linked Cloud ALM project (full by default)',
        description:
          'Queues a durable sync run and answers at once (202); a run of the same mode already queued or running is returned instead. ' +
          'Follow it at /api/v1/sync-runs/{id}.',
        params: IdParams,
        body: StartSyncBody,
        response: { 202: Type.Ref('SyncRun'), ...errors(...AUTH_ERRORS) },
      },
      // "Sync" is a button: a POST without a body is a full sync.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
    },
    async (request, reply) => {
      const { run } = await startSync(
        deps,
        request.actor,
        request.params.id,
        request.body.mode ?? 'full',
        request.id,
      );
      return reply.status(202).send(run);
    },
  );
  app.get(
    '/api/v1/integrations/:id/sync-runs',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: 'Sync history of an integration, newest first',
        params: IdParams,
        querystring: SyncRunsQuery,
        response: { 200: listOf(Type.Ref('SyncRun')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({
      items: await listSyncRuns(deps, request.actor, request.params.id, {
        limit: request.query.limit ?? 20,
        before: request.query.before,
      }),
    }),
  );
  app.get(
    '/api/v1/sync-runs/:id',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: 'One sync run, with its progress while it runs',
        params: IdParams,
        response: { 200: Type.Ref('SyncRun'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getSyncRun(deps, request.actor, request.params.id),
  );
}
