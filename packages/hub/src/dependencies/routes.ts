import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams } from '../http/schemas.js';
import { addDependency } from './add-dependency.js';
import { listDependencies } from './list-dependencies.js';
import { removeDependency } from './remove-dependency.js';
import { AddDependencyBody, DependencyList, DependencyParams, DependencyView } from './schemas.js';

export function registerDependencyRoutes(app: HttpApp, deps: HubDeps): void {
  app.addSchema(DependencyView);
  const tags = ['dependencies'];

  app.get(
    '/api/v1/stories/:id/dependencies',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary: 'The stories this story depends on, Cloud ALM task relations read first',
        description:
          "Cloud ALM's relations are read on every call (DEPENDS_ON from this story, BLOCKS onto it); when Cloud " +
          'ALM cannot be reached, the stored ones are answered and `calm.refreshed` is false.',
        params: IdParams,
        response: { 200: DependencyList, ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => listDependencies(deps, request.actor, request.params.id),
  );
  app.post(
    '/api/v1/stories/:id/dependencies',
    {
      config: { action: 'stories.edit' },
      schema: {
        tags,
        summary: 'Record that this story depends on another story of the tenant',
        description: 'The same pair twice, or a pair that would close a cycle, answers 409.',
        params: IdParams,
        body: AddDependencyBody,
        response: { 201: Type.Ref('StoryDependency'), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await addDependency(deps, request.actor, request.params.id, request.body, request.id)),
  );
  app.delete(
    '/api/v1/stories/:id/dependencies/:dependsOnId',
    {
      config: { action: 'stories.edit' },
      schema: {
        tags,
        summary: 'Remove a dependency added in the hub',
        description: 'A Cloud ALM relation answers 409: remove it in Cloud ALM.',
        params: DependencyParams,
        response: { 204: Type.Null(), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) => {
      await removeDependency(deps, request.actor, request.params.id, request.params.dependsOnId, request.id);
      return reply.status(204).send(null);
    },
  );
}
