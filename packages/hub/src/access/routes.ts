import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { userAudit } from '../audit/record-audit.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import { requireTenantAction } from './authorize.js';
import {
  createProject,
  getProject,
  listMembers,
  listProjects,
  removeMember,
  setMember,
  updateProject,
} from './projects.js';
import {
  CreatedToken,
  CreateProjectBody,
  CreateTokenBody,
  CreateUserBody,
  MemberParams,
  MemberView,
  MeView,
  ProjectView,
  SetMemberBody,
  TokenView,
  UpdateProjectBody,
  UpdateUserBody,
  UserView,
} from './schemas.js';
import { issueToken, listTokens, revokeToken } from './tokens.js';
import { createUser, getUser, listUsers, updateUser } from './users.js';

const DAY_MS = 86_400_000;

export function registerAccessRoutes(app: HttpApp, deps: HubDeps): void {
  for (const schema of [UserView, TokenView, ProjectView, MemberView]) app.addSchema(schema);
  const tags = ['access'];

  app.get(
    '/api/v1/me',
    {
      config: { action: 'self' },
      schema: { tags, summary: 'Who the token belongs to', response: { 200: MeView, ...errors(401) } },
    },
    async (request) => {
      const user = await getUser(deps, request.actor, request.actor.userId);
      const tenant = await deps.db
        .selectFrom('hub_tenants')
        .select(['id', 'name'])
        .where('id', '=', request.actor.tenantId)
        .executeTakeFirstOrThrow();
      return { user, tenant, tokenId: request.actor.tokenId };
    },
  );

  app.get(
    '/api/v1/users',
    {
      config: { action: 'tenant.read' },
      schema: {
        tags,
        summary: "The tenant's users",
        response: { 200: listOf(Type.Ref('User')), ...errors(401, 403) },
      },
    },
    async (request) => ({ items: await listUsers(deps, request.actor) }),
  );
  app.post(
    '/api/v1/users',
    {
      config: { action: 'users.manage' },
      schema: {
        tags,
        summary: 'Add a user to the tenant',
        body: CreateUserBody,
        response: { 201: Type.Ref('User'), ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await createUser(deps, request.actor.tenantId, request.body, userAudit(request.actor, request.id)),
        ),
  );
  app.get(
    '/api/v1/users/:id',
    {
      config: { action: 'tenant.read' },
      schema: {
        tags,
        summary: 'One user',
        params: IdParams,
        response: { 200: Type.Ref('User'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getUser(deps, request.actor, request.params.id),
  );
  app.patch(
    '/api/v1/users/:id',
    {
      config: { action: 'users.manage' },
      schema: {
        tags,
        summary: "Change a user's name, tenant role or SAP user ids",
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: Type.Ref('User'), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request) => updateUser(deps, request.actor, request.params.id, request.body, request.id),
  );

  app.get(
    '/api/v1/tokens',
    {
      config: { action: 'self' },
      schema: {
        tags,
        summary: "The caller's API tokens",
        response: { 200: listOf(Type.Ref('ApiToken')), ...errors(401) },
      },
    },
    async (request) => ({ items: await listTokens(deps, request.actor) }),
  );
  app.post(
    '/api/v1/tokens',
    {
      config: { action: 'self' },
      schema: {
        tags,
        summary: 'Create an API token (shown once)',
        description: 'For the caller, or for another user of the tenant when a tenant admin names `userId`.',
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { actor } = request;
      const userId = request.body.userId ?? actor.userId;
      if (userId !== actor.userId) {
        requireTenantAction(actor, 'users.manage');
        await getUser(deps, actor, userId);
      }
      const expiresAt =
        request.body.expiresInDays === undefined
          ? null
          : deps.clock.now() + request.body.expiresInDays * DAY_MS;
      const { token, view } = await issueToken(
        deps,
        { tenantId: actor.tenantId, userId, name: request.body.name.trim(), expiresAt },
        userAudit(actor, request.id),
      );
      return reply.status(201).send({ token, apiToken: view });
    },
  );
  app.delete(
    '/api/v1/tokens/:id',
    {
      config: { action: 'self' },
      schema: {
        tags,
        summary: 'Revoke an API token',
        params: IdParams,
        response: { 200: Type.Ref('ApiToken'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => revokeToken(deps, request.actor, request.params.id, request.id),
  );

  app.get(
    '/api/v1/projects',
    {
      config: { action: 'tenant.read' },
      schema: {
        tags,
        summary: 'Projects the caller can see',
        response: { 200: listOf(Type.Ref('Project')), ...errors(401) },
      },
    },
    async (request) => ({ items: await listProjects(deps, request.actor) }),
  );
  app.post(
    '/api/v1/projects',
    {
      config: { action: 'projects.create' },
      schema: {
        tags,
        summary: 'Create a project',
        body: CreateProjectBody,
        response: { 201: Type.Ref('Project'), ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createProject(deps, request.actor, request.body, request.id)),
  );
  app.get(
    '/api/v1/projects/:id',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary: 'One project',
        params: IdParams,
        response: { 200: Type.Ref('Project'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getProject(deps, request.actor, request.params.id),
  );
  app.patch(
    '/api/v1/projects/:id',
    {
      config: { action: 'project.update' },
      schema: {
        tags,
        summary: 'Rename or describe a project',
        params: IdParams,
        body: UpdateProjectBody,
        response: { 200: Type.Ref('Project'), ...errors(...AUTH_ERRORS, 409) },
      },
    },
    async (request) => updateProject(deps, request.actor, request.params.id, request.body, request.id),
  );
  app.get(
    '/api/v1/projects/:id/members',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary: "A project's members and their roles",
        params: IdParams,
        response: { 200: listOf(Type.Ref('ProjectMember')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await listMembers(deps, request.actor, request.params.id) }),
  );
  app.put(
    '/api/v1/projects/:id/members/:userId',
    {
      config: { action: 'members.manage' },
      schema: {
        tags,
        summary: 'Give a user a role in the project (admin, release_manager, developer, approver, viewer)',
        params: MemberParams,
        body: SetMemberBody,
        response: { 200: Type.Ref('ProjectMember'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) =>
      setMember(deps, request.actor, request.params.id, request.params.userId, request.body.role, request.id),
  );
  app.delete(
    '/api/v1/projects/:id/members/:userId',
    {
      config: { action: 'members.manage' },
      schema: {
        tags,
        summary: 'Remove a user from the project',
        params: MemberParams,
        response: { 204: Type.Null(), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request, reply) => {
      await removeMember(deps, request.actor, request.params.id, request.params.userId, request.id);
      return reply.status(204).send(null);
    },
  );
}
