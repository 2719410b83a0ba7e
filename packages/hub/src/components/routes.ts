import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import { attachComponent } from './attach-component.js';
import { listComponents, transportSuggestions } from './list-components.js';
import {
  AttachComponentBody,
  ComponentView,
  TransportSuggestionView,
  UpdateComponentBody,
} from './schemas.js';
import { detachComponent, updateComponent } from './update-component.js';

export function registerComponentRoutes(app: HttpApp, deps: HubDeps): void {
  app.addSchema(ComponentView);
  app.addSchema(TransportSuggestionView);
  const tags = ['components'];

  app.get(
    '/api/v1/stories/:id/components',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary: "A story's attached components",
        params: IdParams,
        response: { 200: listOf(Type.Ref('Component')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await listComponents(deps, request.actor, request.params.id) }),
  );
  app.post(
    '/api/v1/stories/:id/components',
    {
      config: { action: 'components.manage' },
      schema: {
        tags,
        summary: 'Attach a component: an ABAP transport, a CPI artifact or a deliverable',
        description:
          "A transport's blank fields are filled from the transport Cloud ALM lists under that number. A transport " +
          'attached to another open story is refused (409 naming it) unless `allowShared` is true. Objects may be ' +
          'given as a list or as an export (`objectsText`: `R3TR CLAS ZCL_FOO` lines, or JSON).',
        params: IdParams,
        body: AttachComponentBody,
        response: { 201: Type.Ref('Component'), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await attachComponent(deps, request.actor, request.params.id, request.body, request.id)),
  );
  app.patch(
    '/api/v1/components/:id',
    {
      config: { action: 'components.manage' },
      schema: {
        tags,
        summary: "Change a component's fields (of its own kind)",
        params: IdParams,
        body: UpdateComponentBody,
        response: { 200: Type.Ref('Component'), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request) => updateComponent(deps, request.actor, request.params.id, request.body, request.id),
  );
  app.delete(
    '/api/v1/components/:id',
    {
      config: { action: 'components.manage' },
      schema: {
        tags,
        summary: 'Detach a component from its story',
        params: IdParams,
        response: { 204: Type.Null(), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      await detachComponent(deps, request.actor, request.params.id, request.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/api/v1/stories/:id/transport-suggestions',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary: "Transports Cloud ALM lists on the story's feature that the story does not have yet",
        params: IdParams,
        response: { 200: listOf(Type.Ref('TransportSuggestion')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await transportSuggestions(deps, request.actor, request.params.id) }),
  );
}
