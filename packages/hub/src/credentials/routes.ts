import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import {
  createCredential,
  deleteCredential,
  getCredential,
  listCredentials,
  rotateCredential,
  testCredential,
  updateCredential,
} from './credentials.js';
import {
  CreateCredentialBody,
  CredentialView,
  ListCredentialsQuery,
  RotateCredentialBody,
  TestResult,
  UpdateCredentialBody,
} from './schemas.js';

export function registerCredentialRoutes(app: HttpApp, deps: HubDeps): void {
  app.addSchema(TestResult);
  app.addSchema(CredentialView);
  const tags = ['credentials'];
  const one = { 200: Type.Ref('Credential'), ...errors(...AUTH_ERRORS) };

  app.get(
    '/api/v1/credentials',
    {
      config: { action: 'tenant.read' },
      schema: {
        tags,
        summary: "The tenant's global credentials and those of the caller's projects (secrets masked)",
        querystring: ListCredentialsQuery,
        response: { 200: listOf(Type.Ref('Credential')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await listCredentials(deps, request.actor, request.query) }),
  );
  app.post(
    '/api/v1/credentials',
    {
      config: { action: 'credentials.manage' },
      schema: {
        tags,
        summary: 'Register a credential (SAP Cloud ALM, OAuth2 client credentials or HTTP Basic)',
        description:
          'Global to the tenant (tenant admins), or private to `projectId` (its admins). For SAP Cloud ALM give ' +
          '`clientId`, `clientSecret` and `url` (the token URL is `url` + `/oauth/token`), or paste the BTP ' +
          '`serviceKey` as is. Secrets are write-only.',
        body: CreateCredentialBody,
        response: { 201: Type.Ref('Credential'), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createCredential(deps, request.actor, request.body, request.id)),
  );
  app.get(
    '/api/v1/credentials/:id',
    {
      config: { action: 'credentials.read' },
      schema: { tags, summary: 'One credential', params: IdParams, response: one },
    },
    async (request) => getCredential(deps, request.actor, request.params.id),
  );
  app.patch(
    '/api/v1/credentials/:id',
    {
      config: { action: 'credentials.manage' },
      schema: {
        tags,
        summary: "Rename or change a credential's non-secret settings",
        params: IdParams,
        body: UpdateCredentialBody,
        response: { ...one, ...errors(409) },
      },
    },
    async (request) => updateCredential(deps, request.actor, request.params.id, request.body, request.id),
  );
  app.post(
    '/api/v1/credentials/:id/rotate',
    {
      config: { action: 'credentials.manage' },
      schema: {
        tags,
        summary: 'Replace the secret (or the whole service key)',
        params: IdParams,
        body: RotateCredentialBody,
        response: one,
      },
    },
    async (request) => rotateCredential(deps, request.actor, request.params.id, request.body, request.id),
  );
  app.post(
    '/api/v1/credentials/:id/test',
    {
      config: { action: 'credentials.test' },
      schema: {
        tags,
        summary: 'Fetch a token (or call the URL) and report success or the remote error verbatim',
        params: IdParams,
        response: { 200: Type.Ref('CredentialTestResult'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => testCredential(deps, request.actor, request.params.id, request.id),
  );
  app.delete(
    '/api/v1/credentials/:id',
    {
      config: { action: 'credentials.manage' },
      schema: {
        tags,
        summary: 'Delete a credential no integration uses',
        params: IdParams,
        response: { 204: Type.Null(), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) => {
      await deleteCredential(deps, request.actor, request.params.id, request.id);
      return reply.status(204).send(null);
    },
  );
}
