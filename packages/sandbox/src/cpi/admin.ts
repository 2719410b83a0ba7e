import '../shared/fastify-schema.js';
import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { SandboxContext } from '../app/context.js';
import { createUser, deleteUser, listUsers } from './auth.js';
import { createCpiServiceKey, defaultCpiServiceKey } from './keys.js';
import { CPI_SCOPES, cpiSettings, setDeployFailure } from './service.js';

const tag = { tags: ['cpi'], description: 'Requires `Authorization: Bearer <admin token>`.' };

const SettingsBody = Type.Object(
  {
    deployDurationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    sessionTtlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
const ClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Optional(Type.Array(Type.Union(CPI_SCOPES.map((scope) => Type.Literal(scope))))),
  },
  { additionalProperties: false },
);
const UserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.@-]+$' }),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
  },
  { additionalProperties: false },
);
const FailureBody = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 4000 }),
    version: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'Only deployments of this version fail' }),
    ),
  },
  { additionalProperties: false },
);

/** `/admin/cpi/*` (registered in a `/cpi` sub-scope of the admin scope): keys, Basic users, deployment faults and settings. */
export function registerCpiAdmin(scope: HttpApp, ctx: SandboxContext): void {
  scope.get(
    '/service-key',
    { schema: { ...tag, summary: 'Service key of the default Cloud Integration client' } },
    () => defaultCpiServiceKey(ctx),
  );
  scope.post(
    '/clients',
    {
      schema: {
        ...tag,
        summary: 'Create a Cloud Integration client; answers its service key',
        body: ClientBody,
      },
    },
    async (request, reply) => reply.status(201).send(await createCpiServiceKey(ctx, request.body)),
  );
  scope.get('/users', { schema: { ...tag, summary: 'Basic-auth users of the tenant' } }, async () =>
    listUsers(ctx),
  );
  scope.post(
    '/users',
    {
      schema: {
        ...tag,
        summary: 'Create a Basic-auth user (password generated unless given)',
        body: UserBody,
      },
    },
    async (request, reply) => reply.status(201).send(await createUser(ctx, request.body)),
  );
  scope.delete<{ Params: { name: string } }>(
    '/users/:name',
    { schema: { ...tag, summary: 'Delete a Basic-auth user and its sessions' } },
    async (request, reply) => {
      await deleteUser(ctx, request.params.name);
      return reply.status(204).send();
    },
  );
  scope.get(
    '/settings',
    { schema: { ...tag, summary: 'Cloud Integration emulator settings' } },
    async () => ({
      ...cpiSettings(ctx),
    }),
  );
  scope.patch(
    '/settings',
    { schema: { ...tag, summary: 'Change Cloud Integration settings at runtime', body: SettingsBody } },
    async (request) => {
      const settings = cpiSettings(ctx);
      if (request.body.deployDurationMs !== undefined)
        settings.deployDurationMs = request.body.deployDurationMs;
      if (request.body.sessionTtlSeconds !== undefined)
        settings.sessionTtlSeconds = request.body.sessionTtlSeconds;
      return { ...settings };
    },
  );
  scope.put<{ Params: { id: string }; Body: { message: string; version?: string } }>(
    '/artifacts/:id/deploy-failure',
    {
      schema: {
        ...tag,
        summary: 'Make deployments of this artifact fail with this error text',
        body: FailureBody,
      },
    },
    async (request) =>
      setDeployFailure(ctx, request.params.id, request.body.message, request.body.version ?? null),
  );
  scope.delete<{ Params: { id: string } }>(
    '/artifacts/:id/deploy-failure',
    { schema: { ...tag, summary: 'Let deployments of this artifact succeed again' } },
    async (request) => setDeployFailure(ctx, request.params.id, null),
  );
}
