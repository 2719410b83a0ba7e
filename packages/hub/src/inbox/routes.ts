import type { IncomingHttpHeaders } from 'node:http';
import { AppError, addRawRoute, type HttpApp, type RawReply } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { invalidField } from '../credentials/credential-input.js';
import { AUTH_ERRORS, errors, IdParams, listOf } from '../http/schemas.js';
import {
  checklist,
  getDelivery,
  getStatusActions,
  listDeliveries,
  replayDelivery,
  selfTest,
  setStatusActions,
  setWebhookBasicAuth,
  webhookStatus,
} from './inbox.js';
import { type IngestResult, ingestDelivery } from './ingest-delivery.js';
import {
  AcceptedDelivery,
  BasicAuthBody,
  Checklist,
  DeliveryView,
  InboxQuery,
  SelfTestResult,
  StatusActionRule,
  StatusActionsBody,
  WebhookStatusView,
} from './schemas.js';

/** Deliveries larger than this are refused (413) before they are read. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export const WEBHOOK_PATH =
  '/ratesaptms/webhook/tenant/:tenantId/project/:projectId/calm/pmsint/:integrationId/sync';

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

type Accepted = { id: string; outcome: 'accepted' | 'duplicate' };

const NOT_FOUND = 'Not found';

/** The answer to a delivery: 202 with its id, or the error it is. */
function answer(result: IngestResult | Error, reply: RawReply): void {
  if (result instanceof Error) reply.fail(result);
  else if (result.outcome === 'accepted' || result.outcome === 'duplicate')
    reply.send(202, { id: result.id, outcome: result.outcome } satisfies Accepted);
  else if (result.outcome === 'malformed') reply.fail(new AppError('bad_request', result.message));
  // One body for every mismatch: no oracle for which of the ids or the key was wrong.
  else reply.fail(new AppError('not_found', NOT_FOUND));
}

/**
 * One delivery, as either way of serving the endpoint (below) hands it over. Built as one object
 * literal of a fixed shape and answered with no promise of its own: every delivery of a burst
 * takes this path.
 */
function receiveWebhook(
  deps: HubDeps,
  params: {
    tenantId?: string | undefined;
    projectId?: string | undefined;
    integrationId?: string | undefined;
  },
  secretKey: string | undefined,
  headers: IncomingHttpHeaders,
  body: Buffer,
  reply: RawReply,
): void {
  ingestDelivery(
    deps,
    {
      tenantId: params.tenantId ?? '',
      projectId: params.projectId ?? '',
      integrationId: params.integrationId ?? '',
      secretKey,
      authorization: header(headers.authorization),
      webhookId: header(headers['webhook-id']),
      headers,
      body,
      selfTest: header(headers['x-calmhub-self-test']) === '1',
    },
    (result) => answer(result, reply),
  );
}

/**
 * The webhook endpoint. Served on node:http ahead of Fastify (addRawRoute): under a burst
 * Fastify's per-request work cost more than storing the delivery. It is registered in Fastify as
 * well, in its own scope keeping the raw body whatever the content type: the OpenAPI documents it
 * from there, and `inject` and encoded paths reach it there.
 */
function registerWebhookEndpoint(app: HttpApp, deps: HubDeps): void {
  addRawRoute(app, {
    method: 'POST',
    path: WEBHOOK_PATH,
    bodyLimit: WEBHOOK_BODY_LIMIT,
    handler: (request, reply) => {
      const keys = request.query.getAll('secretKey');
      receiveWebhook(
        deps,
        request.params,
        keys.length === 1 ? keys[0] : undefined,
        request.headers,
        request.body,
        reply,
      );
      return undefined;
    },
  });
  app.register(async (plain) => {
    const scope = plain as unknown as HttpApp;
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      WEBHOOK_PATH,
      {
        config: { action: 'public' },
        bodyLimit: WEBHOOK_BODY_LIMIT,
        // Every delivery is recorded in the inbox (and its processing in the audit log); two access
        // log lines per delivery would cost more than the delivery itself under a burst.
        logLevel: 'warn',
        schema: {
          tags: ['webhook'],
          summary: "Cloud ALM's push: stored durably, then processed (the path of ReleaseOwl's integration)",
          description:
            'The key is `secretKey` in the query (Cloud ALM webhook paths carry it). Any wrong tenant, project, integration, ' +
            'key or Basic credential answers the same 404. Accepted and duplicate deliveries answer 202.',
          params: Type.Object({
            tenantId: Type.String(),
            projectId: Type.String(),
            integrationId: Type.String(),
          }),
          response: { 202: AcceptedDelivery, ...errors(400, 404, 413) },
        },
      },
      async (request, reply) => {
        const query = request.query as Record<string, unknown>;
        const secretKey = typeof query.secretKey === 'string' ? query.secretKey : undefined;
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return new Promise<Accepted>((resolve, reject) =>
          receiveWebhook(deps, request.params, secretKey, request.headers, body, {
            send: (_status, accepted) => resolve(accepted as Accepted),
            fail: reject,
          }),
        ).then((accepted) => reply.status(202).send(accepted));
      },
    );
  });
}

export function registerInboxRoutes(app: HttpApp, deps: HubDeps): void {
  app.addSchema(DeliveryView);
  app.addSchema(WebhookStatusView);
  registerWebhookEndpoint(app, deps);
  const tags = ['webhook'];

  app.get(
    '/api/v1/integrations/:id/inbox',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: 'Webhook deliveries received for an integration, newest first',
        params: IdParams,
        querystring: InboxQuery,
        response: { 200: listOf(Type.Ref('WebhookDelivery')), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({
      items: await listDeliveries(deps, request.actor, request.params.id, {
        state: request.query.state,
        limit: request.query.limit ?? 50,
        before: request.query.before,
      }),
    }),
  );
  app.get(
    '/api/v1/inbox/:id',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: 'One delivery',
        params: IdParams,
        response: { 200: Type.Ref('WebhookDelivery'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getDelivery(deps, request.actor, request.params.id),
  );
  app.post(
    '/api/v1/inbox/:id/replay',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: 'Process a stored delivery again',
        params: IdParams,
        response: { 200: Type.Ref('WebhookDelivery'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => replayDelivery(deps, request.actor, request.params.id),
  );
  app.get(
    '/api/v1/integrations/:id/webhook/status',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: 'Last event received, or waiting for the first real event',
        params: IdParams,
        response: { 200: Type.Ref('WebhookStatus'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => {
      await getStatusActions(deps, request.actor, request.params.id);
      return webhookStatus(deps, request.params.id);
    },
  );
  app.post(
    '/api/v1/integrations/:id/webhook/self-test',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: 'The hub calls its own public webhook URL with the key (proves routing and key)',
        params: IdParams,
        response: { 200: SelfTestResult, ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => selfTest(deps, request.actor, request.params.id),
  );
  app.get(
    '/api/v1/integrations/:id/webhook/checklist',
    {
      config: { action: 'integrations.read_secret' },
      schema: {
        tags,
        summary:
          'Setup checklist: BTP destination, webhook path, subscription, project opt-in; and which steps are proven',
        params: IdParams,
        response: { 200: Checklist, ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => checklist(deps, request.actor, request.params.id),
  );
  app.put(
    '/api/v1/integrations/:id/webhook/basic-auth',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary:
          'Require HTTP Basic on the webhook as well (a BTP destination with BasicAuthentication); user null turns it off',
        params: IdParams,
        body: BasicAuthBody,
        response: { 200: Type.Ref('WebhookStatus'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const { user, password } = request.body;
      if (user !== null && !password) throw invalidField('password', 'is required with a user');
      return setWebhookBasicAuth(
        deps,
        request.actor,
        request.params.id,
        user === null ? null : { user, password: password as string },
      );
    },
  );
  app.get(
    '/api/v1/integrations/:id/status-actions',
    {
      config: { action: 'integrations.read' },
      schema: {
        tags,
        summary: 'The status → action map (defaults: IN_REALIZATION guard, IN_TESTING promote to test)',
        params: IdParams,
        response: { 200: listOf(StatusActionRule), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => ({ items: await getStatusActions(deps, request.actor, request.params.id) }),
  );
  app.put(
    '/api/v1/integrations/:id/status-actions',
    {
      config: { action: 'integrations.manage' },
      schema: {
        tags,
        summary: 'Replace the status → action map',
        params: IdParams,
        body: StatusActionsBody,
        response: { 200: listOf(StatusActionRule), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => {
      const seen = new Set<string>();
      for (const [index, rule] of request.body.items.entries()) {
        if (seen.has(rule.statusCode))
          throw invalidField(`items/${index}/statusCode`, `repeats ${rule.statusCode}`);
        seen.add(rule.statusCode);
        if (rule.action === 'promote' && !rule.targetStage)
          throw invalidField(`items/${index}/targetStage`, 'is required to promote');
      }
      return { items: await setStatusActions(deps, request.actor, request.params.id, request.body.items) };
    },
  );
}
