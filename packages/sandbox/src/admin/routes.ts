import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { SandboxContext } from '../app/context.js';
import {
  buildServiceKey,
  clientSecret,
  createClient,
  deleteClient,
  getClient,
  listClients,
  rotateClientSecret,
  type TechnicalClient,
  updateClient,
} from '../auth/clients.js';
import { readEvents, withEvents } from '../events/events.js';
import {
  DEFAULT_FEATURE_CREATE_STATUSES,
  DEFAULT_FEATURE_TRANSITIONS,
  FEATURE_STATUS_CODES,
  statusName,
} from '../features/catalog.js';
import { emitFeature, featureRow } from '../features/service.js';
import { actionsFor, applyLifecycleAction, LIFECYCLE_ACTIONS } from '../lifecycle/actions.js';
import { seedDemo, seedLarge } from '../seed/seed.js';
import { CalmError } from '../shared/errors.js';
import { registerAdminScope } from './admin-scope.js';
import { registerServiceKeyRoute } from './service-key-route.js';
import '../shared/fastify-schema.js';
import { registerTeamAdminRoutes } from '../projects/teams.js';
import { isGuid } from '../shared/ids.js';
import { setMeta } from '../store/meta.js';
import type { SandboxExecutor } from '../store/tables.js';
import {
  createTransport,
  listTransports,
  releaseTransport,
  TransportCreateBody,
  TransportPatchBody,
  updateTransport,
} from '../transports/release.js';
import {
  ClientPatchBody,
  ClientSchema,
  EventsQuery,
  FaultRuleBody,
  NewClientBody,
  SeedBody,
  ServiceKeySchema,
  SettingsPatch,
  SettingsSchema,
  TransitionsSchema,
} from './schemas.js';

export interface AdminOptions {
  adminToken: string;
  tenantId: string;
}

// Every admin route wants `Authorization: Bearer <admin token>`; the shared OpenAPI setup has no
// security scheme to reference, so the requirement is stated in each description.
const tag = (name: string) => ({
  tags: [name],
  description: 'Requires `Authorization: Bearer <admin token>`.',
});
const ClientParams = Type.Object({ clientId: Type.String() });
const FeatureParams = Type.Object({ uuid: Type.String() });

/** `/admin/*`: what the real product does in its UI (clients, links, lifecycle) plus sandbox controls. */
export async function registerAdminRoutes(
  app: HttpApp,
  ctx: SandboxContext,
  options: AdminOptions,
): Promise<void> {
  const serviceKeyOf = async (client: TechnicalClient) => {
    const secret = await clientSecret(ctx, client.clientId);
    if (secret === undefined) {
      throw new CalmError(
        409,
        'The secret of this client was sealed with another master key; rotate it with POST /admin/clients/{clientId}/secret',
      );
    }
    return buildServiceKey(ctx, client, secret, options.tenantId);
  };
  const clientOr404 = async (clientId: string) => {
    const client = await getClient(ctx.db, clientId);
    if (!client) throw new CalmError(404, `No technical client ${clientId}`);
    return client;
  };

  const settingsView = () => ({
    pageSize: ctx.settings.pageSize,
    tokenLifetimeSeconds: ctx.settings.tokenLifetimeSeconds,
    featurePatchStatus: ctx.settings.featurePatchStatus,
    emitTaskDeleted: ctx.settings.emitTaskDeleted,
    featureCreateStatuses: [...(ctx.settings.featureCreateStatuses ?? DEFAULT_FEATURE_CREATE_STATUSES)],
  });

  await registerAdminScope(app, options.adminToken, async (scope) => {
    scope.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
      // The document platform serves at /api/openapi.json holds only the admin API (Cloud ALM routes are hidden).
      const document = await app.inject({ method: 'GET', url: '/api/openapi.json' });
      return reply.type('application/json').send(document.body);
    });

    registerServiceKeyRoute(scope, ctx, options.tenantId);
    scope.get(
      '/info',
      { schema: { ...tag('sandbox'), summary: 'Base URLs and version of this sandbox' } },
      async () => ({
        url: ctx.publicUrl(),
        apiUrl: `${ctx.publicUrl()}/api`,
        tokenUrl: `${ctx.publicUrl()}/oauth/token`,
        uiUrl: `${ctx.publicUrl()}/ui`,
        xsappname: ctx.xsappname,
        store: ctx.store.dialect,
        services: {
          projects: `${ctx.publicUrl()}/api/calm-projects/v1`,
          tasks: `${ctx.publicUrl()}/api/calm-tasks/v1`,
          features: `${ctx.publicUrl()}/api/calm-features/v1`,
        },
      }),
    );

    // Technical clients (BTP: service instance + service key)
    scope.get(
      '/clients',
      {
        schema: {
          ...tag('clients'),
          summary: 'List technical clients',
          response: { 200: Type.Array(ClientSchema) },
        },
      },
      async () => listClients(ctx.db),
    );
    scope.post(
      '/clients',
      {
        schema: {
          ...tag('clients'),
          summary: 'Create a technical client; answers its service key (with the secret)',
          body: NewClientBody,
          response: { 201: ServiceKeySchema },
        },
      },
      async (request, reply) => {
        const { client, secret } = await createClient(ctx, {
          name: request.body.name,
          scopes: request.body.scopes ? [...new Set(request.body.scopes)] : undefined,
          projectIds:
            request.body.projectIds === undefined
              ? undefined
              : (request.body.projectIds?.map((id) => id.toLowerCase()) ?? null),
        });
        return reply.status(201).send(buildServiceKey(ctx, client, secret, options.tenantId));
      },
    );
    scope.get<{ Params: { clientId: string } }>(
      '/clients/:clientId',
      {
        schema: {
          ...tag('clients'),
          summary: 'One technical client',
          params: ClientParams,
          response: { 200: ClientSchema },
        },
      },
      async (request) => clientOr404(request.params.clientId),
    );
    scope.patch(
      '/clients/:clientId',
      {
        schema: {
          ...tag('clients'),
          summary: 'Change name, scopes or visible projects (scopes apply to new tokens)',
          params: ClientParams,
          body: ClientPatchBody,
          response: { 200: ClientSchema },
        },
      },
      async (request) => {
        await clientOr404(request.params.clientId);
        const updated = await updateClient(ctx, request.params.clientId, {
          name: request.body.name,
          scopes: request.body.scopes ? [...new Set(request.body.scopes)] : undefined,
          projectIds:
            request.body.projectIds === undefined
              ? undefined
              : (request.body.projectIds?.map((id) => id.toLowerCase()) ?? null),
        });
        return updated as TechnicalClient;
      },
    );
    scope.delete(
      '/clients/:clientId',
      {
        schema: {
          ...tag('clients'),
          summary: 'Delete a technical client; its tokens stop working',
          params: ClientParams,
        },
      },
      async (request, reply) => {
        if (!(await deleteClient(ctx, request.params.clientId)))
          throw new CalmError(404, `No technical client ${request.params.clientId}`);
        return reply.status(204).send();
      },
    );
    scope.get(
      '/clients/:clientId/service-key',
      {
        schema: {
          ...tag('clients'),
          summary: 'Download the service key JSON',
          params: ClientParams,
          response: { 200: ServiceKeySchema },
        },
      },
      async (request) => serviceKeyOf(await clientOr404(request.params.clientId)),
    );
    scope.post(
      '/clients/:clientId/secret',
      {
        schema: {
          ...tag('clients'),
          summary: 'Rotate the client secret; answers the new service key',
          params: ClientParams,
          response: { 200: ServiceKeySchema },
        },
      },
      async (request) => {
        const client = await clientOr404(request.params.clientId);
        const secret = (await rotateClientSecret(ctx, client.clientId)) as string;
        return buildServiceKey(ctx, client, secret, options.tenantId);
      },
    );
    scope.post(
      '/tokens/expire',
      {
        schema: {
          ...tag('clients'),
          summary: 'Expire every token issued so far (or those of one client)',
          body: Type.Object({ clientId: Type.Optional(Type.String()) }, { additionalProperties: false }),
        },
        // The body is optional: no body means every client.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request) => {
        const key = request.body.clientId ?? '*';
        // Expiring an unknown client would answer 200 and change nothing the caller meant.
        if (key !== '*') await clientOr404(key);
        ctx.tokenNotBefore.set(key, ctx.now() + 1);
        await setMeta(ctx.db, 'token_not_before', JSON.stringify(Object.fromEntries(ctx.tokenNotBefore)));
        return { expired: key };
      },
    );

    // Settings for INFERRED behaviour
    scope.get(
      '/settings',
      { schema: { ...tag('settings'), summary: 'Current settings', response: { 200: SettingsSchema } } },
      async () => settingsView(),
    );
    scope.patch(
      '/settings',
      {
        schema: {
          ...tag('settings'),
          summary: 'Change settings at runtime',
          body: SettingsPatch,
          response: { 200: SettingsSchema },
        },
      },
      async (request) => {
        for (const code of request.body.featureCreateStatuses ?? []) {
          if (!FEATURE_STATUS_CODES.includes(code))
            throw new CalmError(400, `Unknown feature status code ${code}`);
        }
        Object.assign(ctx.settings, request.body);
        return settingsView();
      },
    );
    scope.get(
      '/feature-status-transitions',
      {
        schema: {
          ...tag('settings'),
          summary: 'The feature status-transition matrix',
          response: { 200: TransitionsSchema },
        },
      },
      async () => ctx.settings.featureTransitions,
    );
    scope.put(
      '/feature-status-transitions',
      {
        schema: {
          ...tag('settings'),
          summary: 'Replace the matrix (send {} to restore the default)',
          body: TransitionsSchema,
          response: { 200: TransitionsSchema },
        },
      },
      async (request) => {
        const matrix = request.body;
        for (const [from, targets] of Object.entries(matrix)) {
          for (const code of [from, ...targets]) {
            if (!FEATURE_STATUS_CODES.includes(code))
              throw new CalmError(400, `Unknown feature status code ${code}`);
          }
        }
        ctx.settings.featureTransitions =
          Object.keys(matrix).length === 0 ? structuredClone(DEFAULT_FEATURE_TRANSITIONS) : matrix;
        return ctx.settings.featureTransitions;
      },
    );

    // Lifecycle actions (UI buttons)
    scope.get(
      '/lifecycle/actions',
      { schema: { ...tag('lifecycle'), summary: 'The feature lifecycle actions the UI offers' } },
      async () => LIFECYCLE_ACTIONS,
    );
    scope.post(
      '/features/:uuid/actions/:action',
      {
        schema: {
          ...tag('lifecycle'),
          summary: 'Apply a lifecycle action (same effect and event as a statusCode PATCH)',
          params: Type.Object({ uuid: Type.String(), action: Type.String() }),
        },
      },
      async (request) => applyLifecycleAction(ctx, request.params.uuid, request.params.action),
    );
    scope.get(
      '/overview',
      {
        schema: {
          ...tag('lifecycle'),
          summary: 'Projects with their features, user stories and available actions (for the sandbox UI)',
          querystring: Type.Object({
            projectId: Type.Optional(Type.String()),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000, default: 200 })),
          }),
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 200;
        let projectsQuery = ctx.db.selectFrom('sandbox_projects').selectAll().orderBy('number');
        if (request.query.projectId)
          projectsQuery = projectsQuery.where('id', '=', request.query.projectId.toLowerCase());
        const projects = await projectsQuery.execute();
        const result = [];
        for (const project of projects) {
          const features = await ctx.db
            .selectFrom('sandbox_features')
            .selectAll()
            .where('project_id', '=', project.id)
            .orderBy('created_at')
            .orderBy('uuid')
            .limit(limit)
            .execute();
          const uuids = features.map((feature) => feature.uuid);
          const stories = uuids.length
            ? await ctx.db
                .selectFrom('sandbox_task_assignments as a')
                .innerJoin('sandbox_tasks as t', 't.id', 'a.task_id')
                .select(['a.parent_uuid', 't.id', 't.title', 't.type', 't.status'])
                .where('a.parent_uuid', 'in', uuids)
                .orderBy('t.created_at')
                .execute()
            : [];
          const total = await ctx.db
            .selectFrom('sandbox_features')
            .select((eb) => eb.fn.countAll<number>().as('count'))
            .where('project_id', '=', project.id)
            .executeTakeFirst();
          result.push({
            id: project.id,
            name: project.name,
            status: project.status,
            featureCount: Number(total?.count ?? 0),
            features: features.map((feature) => ({
              uuid: feature.uuid,
              displayId: feature.display_id,
              title: feature.title,
              statusCode: feature.status_code,
              statusName: statusName(feature.status_code),
              actions: actionsFor(ctx, feature.status_code).map((action) => ({
                id: action.id,
                label: action.label,
              })),
              tasks: stories
                .filter((story) => story.parent_uuid === feature.uuid)
                .map((story) => ({
                  id: story.id,
                  title: story.title,
                  type: story.type,
                  status: story.status,
                })),
            })),
          });
        }
        return { projects: result };
      },
    );

    // Links the Cloud ALM UI makes and the public API cannot: task assignments and transports
    const linkChange = async (
      uuid: string,
      change: (trx: SandboxExecutor, featureUuid: string) => Promise<void>,
    ) => {
      if (!isGuid(uuid)) throw new CalmError(404, `Feature ${uuid} not found`);
      return withEvents(ctx, 'sandbox-admin', async (trx, emit) => {
        const feature = await featureRow(trx, uuid.toLowerCase());
        if (!feature) throw new CalmError(404, `Feature ${uuid} not found`);
        await change(trx, feature.uuid);
        await trx
          .updateTable('sandbox_features')
          .set({ modified_at: Math.max(ctx.now(), feature.modified_at + 1) })
          .where('uuid', '=', feature.uuid)
          .execute();
        return emitFeature(trx, emit, 'FEATURE.UPDATED', feature.uuid);
      });
    };
    scope.post(
      '/features/:uuid/task-assignments',
      {
        schema: {
          ...tag('links'),
          summary: 'Assign a task (user story, requirement, defect...) to a feature',
          params: FeatureParams,
          body: Type.Object({ taskId: Type.String() }, { additionalProperties: false }),
        },
      },
      async (request, reply) => {
        const taskId = request.body.taskId.toLowerCase();
        await linkChange(request.params.uuid, async (trx, featureUuid) => {
          const task = await trx
            .selectFrom('sandbox_tasks')
            .select(['id'])
            .where('id', '=', taskId)
            .executeTakeFirst();
          if (!task) throw new CalmError(404, `Task ${request.body.taskId} not found`);
          await trx
            .insertInto('sandbox_task_assignments')
            .values({ parent_uuid: featureUuid, task_id: task.id, created_at: ctx.now() })
            .onConflict((oc) => oc.columns(['parent_uuid', 'task_id']).doNothing())
            .execute();
        });
        return reply.status(201).send({ parentUuid: request.params.uuid.toLowerCase(), taskId });
      },
    );
    scope.delete(
      '/features/:uuid/task-assignments/:taskId',
      {
        schema: {
          ...tag('links'),
          summary: 'Remove a task assignment',
          params: Type.Object({ uuid: Type.String(), taskId: Type.String() }),
        },
      },
      async (request, reply) => {
        await linkChange(request.params.uuid, async (trx, featureUuid) => {
          const result = await trx
            .deleteFrom('sandbox_task_assignments')
            .where('parent_uuid', '=', featureUuid)
            .where('task_id', '=', request.params.taskId.toLowerCase())
            .executeTakeFirst();
          if (Number(result.numDeletedRows) === 0) throw new CalmError(404, 'No such task assignment');
        });
        return reply.status(204).send();
      },
    );
    // Transports as CTS/cTMS registers them; a release also reaches the modules (CTMS export).
    scope.get(
      '/transports',
      { schema: { ...tag('links'), summary: 'List transports with their object lists' } },
      async () => listTransports(ctx.db),
    );
    scope.post(
      '/transports',
      {
        schema: {
          ...tag('links'),
          summary: 'Register a transport (as CTS/cTMS would); status released releases it at once',
          body: TransportCreateBody,
        },
      },
      async (request, reply) => reply.status(201).send(await createTransport(ctx, request.body)),
    );
    scope.patch(
      '/transports/:uuid',
      {
        schema: {
          ...tag('links'),
          summary: 'Change a transport; status released releases it (exported to CTMS)',
          params: FeatureParams,
          body: TransportPatchBody,
        },
      },
      async (request) => updateTransport(ctx, request.params.uuid, request.body),
    );
    scope.post(
      '/transports/:uuid/release',
      {
        schema: {
          ...tag('links'),
          summary:
            'Release a transport as its ABAP system would: attached features change, CTMS queues it in the node after the source system',
          params: FeatureParams,
        },
      },
      async (request) => releaseTransport(ctx, request.params.uuid),
    );
    scope.post(
      '/features/:uuid/transports',
      {
        schema: {
          ...tag('links'),
          summary: 'Attach a transport to a feature',
          params: FeatureParams,
          body: Type.Object({ transportUuid: Type.String() }, { additionalProperties: false }),
        },
      },
      async (request, reply) => {
        const transportUuid = request.body.transportUuid.toLowerCase();
        await linkChange(request.params.uuid, async (trx, featureUuid) => {
          const transport = await trx
            .selectFrom('sandbox_transports')
            .select('uuid')
            .where('uuid', '=', transportUuid)
            .executeTakeFirst();
          if (!transport) throw new CalmError(404, `Transport ${request.body.transportUuid} not found`);
          await trx
            .insertInto('sandbox_transport_references')
            .values({ parent_uuid: featureUuid, transport_uuid: transport.uuid, created_at: ctx.now() })
            .onConflict((oc) => oc.columns(['parent_uuid', 'transport_uuid']).doNothing())
            .execute();
        });
        return reply.status(201).send({ parentUuid: request.params.uuid.toLowerCase(), transportUuid });
      },
    );
    scope.delete(
      '/features/:uuid/transports/:transportUuid',
      {
        schema: {
          ...tag('links'),
          summary: 'Detach a transport from a feature',
          params: Type.Object({ uuid: Type.String(), transportUuid: Type.String() }),
        },
      },
      async (request, reply) => {
        await linkChange(request.params.uuid, async (trx, featureUuid) => {
          const result = await trx
            .deleteFrom('sandbox_transport_references')
            .where('parent_uuid', '=', featureUuid)
            .where('transport_uuid', '=', request.params.transportUuid.toLowerCase())
            .executeTakeFirst();
          if (Number(result.numDeletedRows) === 0) throw new CalmError(404, 'No such transport reference');
        });
        return reply.status(204).send();
      },
    );

    // Project teams and their roles (made in the Cloud ALM UI; read and staffed through the API)
    registerTeamAdminRoutes(scope, ctx);

    // Change events
    scope.get(
      '/events',
      {
        schema: {
          ...tag('events'),
          summary: 'Read the durable change-event stream in seq order',
          querystring: EventsQuery,
        },
      },
      async (request) => {
        const events = await readEvents(ctx.db, request.query);
        return { events, nextAfter: events.at(-1)?.seq ?? request.query.after ?? 0 };
      },
    );

    // Fault injection
    scope.get(
      '/faults',
      { schema: { ...tag('faults'), summary: 'Active fault rules with their counters' } },
      async () => ({ rules: ctx.faults.list() }),
    );
    scope.post(
      '/faults',
      { schema: { ...tag('faults'), summary: 'Add a fault rule', body: FaultRuleBody } },
      async (request, reply) => {
        try {
          return reply.status(201).send(ctx.faults.add(request.body));
        } catch (error) {
          throw new CalmError(400, (error as Error).message);
        }
      },
    );
    scope.put(
      '/faults',
      { schema: { ...tag('faults'), summary: 'Replace all fault rules', body: Type.Array(FaultRuleBody) } },
      async (request) => {
        try {
          return { rules: ctx.faults.replace(request.body) };
        } catch (error) {
          throw new CalmError(400, (error as Error).message);
        }
      },
    );
    scope.delete(
      '/faults',
      { schema: { ...tag('faults'), summary: 'Remove every fault rule' } },
      async (_request, reply) => {
        ctx.faults.clear();
        return reply.status(204).send();
      },
    );
    scope.delete(
      '/faults/:id',
      {
        schema: {
          ...tag('faults'),
          summary: 'Remove one fault rule',
          params: Type.Object({ id: Type.String() }),
        },
      },
      async (request, reply) => {
        if (!ctx.faults.remove(request.params.id))
          throw new CalmError(404, `No fault rule ${request.params.id}`);
        return reply.status(204).send();
      },
    );

    // Seeding
    scope.post(
      '/seed',
      {
        schema: {
          ...tag('sandbox'),
          summary: 'Seed the demo tenant and/or a large tenant (idempotent)',
          body: SeedBody,
        },
      },
      async (request) => {
        const result: Record<string, unknown> = {};
        if (request.body.demo) result.demo = await seedDemo(ctx.db);
        if (request.body.features || request.body.stories) {
          result.large = await seedLarge(ctx.db, {
            features: request.body.features ?? 0,
            stories: request.body.stories ?? 0,
            ...(request.body.seed === undefined ? {} : { seed: request.body.seed }),
          });
        }
        return result;
      },
    );
  });
}
