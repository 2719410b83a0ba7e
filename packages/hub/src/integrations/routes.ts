import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import {
  createIntegration,
  deleteIntegration,
  getIntegration,
  getWebhook,
  listCalmProjects,
  listIntegrations,
  rotateWebhookSecret,
  updateIntegration,
} from './integrations.js';
import {
  CalmProjectList,
  CalmProjectsQuery,
  CreateIntegrationBody,
  IntegrationView,
  UpdateIntegrationBody,
  WebhookView,
} from './schemas.js';

/** Answers that may come from Cloud ALM being unreachable or refusing the credential. */
const REMOTE_ERRORS = [502, 503, 504] as const;

export function registerIntegrationRoutes(app: HttpApp, deps: HubDeps): void {
  app.addSchema(WebhookView);
  app.addSchema(IntegrationView);
  const tags = ['integrations'];

  app.get(
    '/api/v1/projects/:id/calm-projects',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: "Cloud ALM projects the credential's client sees (the integration form's project picker)",
        params: IdParams,
        querystring: CalmProjectsQuery,
        response: { 200: CalmProjectList, ...errors(...AUTH_ERRORS, ...REMOTE_ERRORS) },
      },
    },
    async (request) => listCalmProjects(deps, request.actor, request.params.id, request.query),
  );
  app.get(
    '/api/v1/projects/:id/integrations',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: "The project's ALM integrations",
        params: IdParams,
        response: { 200: listOf(Type.Ref('Integration')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await listIntegrations(deps, request.actor, request.params.id) }),
  );
  app.post(
    '/api/v1/projects/:id/integrations',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: 'Link the project to a Cloud ALM project (Project Settings → ALM Integrations → Add)',
        description:
          'The Cloud ALM project is checked against the live API. The answer carries the webhook URL and its ' +
          'generated secret key, to paste into Cloud ALM.',
        params: IdParams,
        body: CreateIntegrationBody,
        response: { 201: Type.Ref('Integration'), ...errors(...AUTH_ERRORS, 409, ...REMOTE_ERRORS) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await createIntegration(deps, request.actor, request.params.id, request.body, request.id)),
  );
  app.get(
    '/api/v1/integrations/:id',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: 'One integration',
        params: IdParams,
        response: { 200: Type.Ref('Integration'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getIntegration(deps, request.actor, request.params.id),
  );
  app.patch(
    '/api/v1/integrations/:id',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: 'Change an integration (a new credential, host or Cloud ALM project is checked live)',
        params: IdParams,
        body: UpdateIntegrationBody,
        response: { 200: Type.Ref('Integration'), ...errors(...AUTH_ERRORS, 409, ...REMOTE_ERRORS) },
      },
    },
    async (request) => updateIntegration(deps, request.actor, request.params.id, request.body, request.id),
  );
  app.delete(
    '/api/v1/integrations/:id',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: 'Delete an integration',
        params: IdParams,
        response: { 204: Type.Null(), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      await deleteIntegration(deps, request.actor, request.params.id, request.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/api/v1/integrations/:id/webhook',
    {
      config: { action: 'integrations.read_secret' },
      schema: {
        tags,
        summary: 'The webhook URL and secret key to paste into Cloud ALM',
        params: IdParams,
        response: { 200: Type.Ref('Webhook'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getWebhook(deps, request.actor, request.params.id),
  );
  app.post(
    '/api/v1/integrations/:id/webhook/rotate',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: 'Generate a new webhook secret key (the old one stops working)',
        params: IdParams,
        response: { 200: Type.Ref('Webhook'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => rotateWebhookSecret(deps, request.actor, request.params.id, request.id),
  );
}
