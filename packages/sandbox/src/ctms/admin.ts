import '../shared/fastify-schema.js';
import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { SandboxContext } from '../app/context.js';
import { createCtmsServiceKey, defaultCtmsServiceKey } from './keys.js';
import { CTMS_SCOPES, ctmsSettings, FORWARD_MODES, parseId } from './model.js';
import {
  createNode,
  createRoute,
  enqueueAbapTransport,
  listAbapTransports,
  listAdminNodes,
  listRoutes,
  listTransportRequests,
  setImportFailure,
  updateNode,
  upsertAbapTransport,
} from './service.js';

const tag = { tags: ['ctms'], description: 'Requires `Authorization: Bearer <admin token>`.' };
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$' });
const System = Type.String({
  minLength: 1,
  maxLength: 40,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: 'The ABAP system behind the node (e.g. S4D): transports released there are exported from it',
});

const SettingsBody = Type.Object(
  { importDurationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })) },
  { additionalProperties: false },
);
const ClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Optional(Type.Array(Type.Union(CTMS_SCOPES.map((scope) => Type.Literal(scope))))),
  },
  { additionalProperties: false },
);
const NodeBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    contentType: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    forwardMode: Type.Optional(Type.Union(FORWARD_MODES.map((mode) => Type.Literal(mode)))),
    uploadAllowed: Type.Optional(Type.Boolean()),
    virtual: Type.Optional(Type.Boolean()),
    system: Type.Optional(System),
  },
  { additionalProperties: false },
);
const NodePatch = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    forwardMode: Type.Optional(Type.Union(FORWARD_MODES.map((mode) => Type.Literal(mode)))),
    system: Type.Optional(Type.Union([System, Type.Null()])),
  },
  { additionalProperties: false },
);
const RouteBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    sourceNode: Name,
    targetNode: Name,
  },
  { additionalProperties: false },
);
const AbapNumber = Type.String({ pattern: '^[A-Z0-9]{3}K\\d{6}$', description: 'e.g. S4DK900121' });
const AbapBody = Type.Object(
  {
    number: AbapNumber,
    description: Type.String({ minLength: 1, maxLength: 500 }),
    owner: Type.String({ minLength: 1, maxLength: 100 }),
    objects: Type.Array(
      Type.Object(
        {
          pgmid: Type.String({ minLength: 1, maxLength: 4 }),
          type: Type.String({ minLength: 1, maxLength: 4 }),
          name: Type.String({ minLength: 1, maxLength: 120 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 10000 },
    ),
  },
  { additionalProperties: false },
);
const EnqueueBody = Type.Object(
  { nodeName: Name, namedUser: Type.Optional(Type.String({ maxLength: 256 })) },
  { additionalProperties: false },
);
const FailureBody = Type.Object(
  {
    status: Type.Union([Type.Literal('error'), Type.Literal('warning'), Type.Literal('fatal')]),
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);

/** `/admin/ctms/*` (registered in a `/ctms` sub-scope of the admin scope): landscape (nodes, routes), known ABAP requests, test switches and settings. */
export function registerCtmsAdmin(scope: HttpApp, ctx: SandboxContext): void {
  scope.get('/service-key', { schema: { ...tag, summary: 'Service key of the default CTMS client' } }, () =>
    defaultCtmsServiceKey(ctx),
  );
  scope.post(
    '/clients',
    { schema: { ...tag, summary: 'Create a CTMS client; answers its service key', body: ClientBody } },
    async (request, reply) => reply.status(201).send(await createCtmsServiceKey(ctx, request.body)),
  );
  scope.get('/settings', { schema: { ...tag, summary: 'CTMS emulator settings' } }, async () => ({
    ...ctmsSettings(ctx),
  }));
  scope.patch(
    '/settings',
    { schema: { ...tag, summary: 'Change CTMS settings at runtime', body: SettingsBody } },
    async (request) => {
      const settings = ctmsSettings(ctx);
      if (request.body.importDurationMs !== undefined)
        settings.importDurationMs = request.body.importDurationMs;
      return { ...settings };
    },
  );
  scope.get('/nodes', { schema: { ...tag, summary: 'Transport nodes' } }, async () => listAdminNodes(ctx));
  scope.post(
    '/nodes',
    { schema: { ...tag, summary: 'Create a transport node', body: NodeBody } },
    async (request, reply) => reply.status(201).send(await createNode(ctx, request.body)),
  );
  scope.patch<{
    Params: { name: string };
    Body: { description?: string; forwardMode?: string; system?: string | null };
  }>(
    '/nodes/:name',
    {
      schema: {
        ...tag,
        summary: "Change a node's description, forward mode or ABAP system",
        params: Type.Object({ name: Name }),
        body: NodePatch,
      },
    },
    async (request) => updateNode(ctx, request.params.name, request.body),
  );
  scope.get('/routes', { schema: { ...tag, summary: 'Transport routes' } }, async () => listRoutes(ctx));
  scope.post(
    '/routes',
    { schema: { ...tag, summary: 'Create a transport route between two nodes', body: RouteBody } },
    async (request, reply) =>
      reply.status(201).send(
        await createRoute(ctx, {
          name: request.body.name,
          description: request.body.description,
          source: request.body.sourceNode,
          target: request.body.targetNode,
        }),
      ),
  );
  scope.get(
    '/abap-transports',
    { schema: { ...tag, summary: 'ABAP requests known to the sandbox' } },
    async () => listAbapTransports(ctx),
  );
  scope.post(
    '/abap-transports',
    {
      schema: {
        ...tag,
        summary: 'Create or replace a known ABAP request with its object list',
        body: AbapBody,
      },
    },
    async (request, reply) => reply.status(201).send(await upsertAbapTransport(ctx, request.body)),
  );
  scope.post<{ Params: { number: string }; Body: { nodeName: string; namedUser?: string } }>(
    '/abap-transports/:number/enqueue',
    {
      schema: {
        ...tag,
        summary: "Put a known ABAP request into a node's import queue",
        params: Type.Object({ number: AbapNumber }),
        body: EnqueueBody,
      },
    },
    async (request) =>
      enqueueAbapTransport(ctx, {
        number: request.params.number,
        nodeName: request.body.nodeName,
        namedUser: request.body.namedUser ?? null,
      }),
  );
  scope.get(
    '/transport-requests',
    { schema: { ...tag, summary: 'Every transport request with its queues and fault switch' } },
    async () => listTransportRequests(ctx),
  );
  scope.put<{ Params: { id: string }; Body: { status: string; message?: string } }>(
    '/transport-requests/:id/import-failure',
    {
      schema: {
        ...tag,
        summary: 'Make imports of this request end in error, warning or fatal',
        body: FailureBody,
      },
    },
    async (request) =>
      setImportFailure(ctx, parseId(request.params.id, 'Transport request ID'), request.body),
  );
  scope.delete<{ Params: { id: string } }>(
    '/transport-requests/:id/import-failure',
    { schema: { ...tag, summary: 'Let imports of this request succeed again' } },
    async (request) => setImportFailure(ctx, parseId(request.params.id, 'Transport request ID'), null),
  );
}
