import type { HttpApp } from '@calmhub/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { useFaults } from '../faults/hook.js';
import { unstorablePath } from '../shared/storable.js';
import { authenticate, OAuthError, tokenGrant } from './auth.js';
import { SnError } from './errors.js';
import { applyQuery, parseEncodedQuery } from './query.js';
import {
  deleteRecord,
  getRecord,
  insertRecord,
  listRecords,
  type RenderOptions,
  renderRecord,
  updateRecord,
} from './records.js';
import { instanceUrl, type SnRuntime } from './runtime.js';

type Query = Record<string, string | undefined>;

/** ServiceNow's own wording for the statuses fault rules inject. */
const SN_FAULT_MESSAGES: Record<number, string> = {
  429: 'Rate limit exceeded',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function bool(value: string | undefined): boolean {
  return value === 'true';
}

function renderOptions(runtime: SnRuntime, query: Query): RenderOptions {
  const display = query.sysparm_display_value;
  return {
    baseUrl: instanceUrl(runtime.ctx),
    fields: query.sysparm_fields
      ? query.sysparm_fields
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean)
      : undefined,
    displayValue: display === 'true' || display === 'all' ? display : 'false',
    excludeReferenceLink: bool(query.sysparm_exclude_reference_link),
  };
}

function intParam(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new SnError(400, `Invalid ${name}`, `${name} must be a non-negative integer`);
  return parsed;
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new SnError(400, 'Exception while reading request', 'The payload is not valid JSON.');
  const bad = unstorablePath(body);
  if (bad)
    throw new SnError(
      400,
      'Exception while reading request',
      `The value of ${bad} contains characters that cannot be stored (NUL or an unpaired surrogate).`,
    );
  return body as Record<string, unknown>;
}

function linkHeader(
  runtime: SnRuntime,
  table: string,
  query: Query,
  offset: number,
  limit: number,
  total: number,
): string {
  const base = `${instanceUrl(runtime.ctx)}/api/now/table/${table}`;
  const page = (start: number) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined && key !== 'sysparm_offset' && key !== 'sysparm_limit') params.set(key, value);
    params.set('sysparm_limit', String(limit));
    params.set('sysparm_offset', String(start));
    return `${base}?${params.toString()}`;
  };
  const last = limit === 0 ? 0 : Math.max(0, Math.floor((total - 1) / limit) * limit);
  const links = [`<${page(0)}>;rel="first"`];
  if (offset > 0) links.push(`<${page(Math.max(0, offset - limit))}>;rel="prev"`);
  if (limit > 0 && offset + limit < total) links.push(`<${page(offset + limit)}>;rel="next"`);
  links.push(`<${page(last)}>;rel="last"`);
  return links.join(',');
}

/** The emulated instance under `/servicenow`: Table API and `oauth_token.do` (reference §8). */
export async function registerServiceNowRoutes(app: HttpApp, runtime: SnRuntime): Promise<void> {
  const { ctx, db } = runtime;
  await app.register(
    async (plain) => {
      const scope = plain as unknown as HttpApp;
      scope.addHook('onRequest', async () => {
        runtime.stats.requests++;
      });
      useFaults(scope, runtime.faults, {
        pathOf: (path) => path.replace(/^\/servicenow/, '') || '/',
        render: (reply, fault) =>
          reply
            .status(fault.status)
            .headers(fault.headers)
            .send(
              fault.status === 401
                ? new SnError(401, 'User is not authenticated', 'Required to provide Auth information').body()
                : new SnError(
                    fault.status,
                    SN_FAULT_MESSAGES[fault.status] ?? fault.message,
                    fault.status === 429 ? 'Maximum per hour rate limit exceeded' : null,
                  ).body(),
            ),
      });
      scope.setErrorHandler(
        (error: Error & { statusCode?: number }, _request: FastifyRequest, reply: FastifyReply) => {
          if (error instanceof SnError)
            return reply.status(error.status).headers(error.headers).send(error.body());
          if (error instanceof OAuthError) return reply.status(error.status).send(error.body);
          const status = error.statusCode ?? 500;
          if (status >= 400 && status < 500) {
            const mediaType = status === 415;
            return reply
              .status(mediaType ? 415 : 400)
              .send(
                new SnError(
                  400,
                  mediaType ? 'Requested media type is not supported' : 'Exception while reading request',
                  mediaType ? null : 'The payload is not valid JSON.',
                ).body(),
              );
          }
          ctx.logger.error({ err: error }, 'servicenow emulator error');
          return reply.status(500).send(new SnError(500, 'Internal Server Error', null).body());
        },
      );
      scope.setNotFoundHandler((_request, reply) =>
        reply
          .status(400)
          .send(new SnError(400, 'Requested URI does not represent any resource', null).body()),
      );

      scope.post('/oauth_token.do', { schema: { hide: true } }, async (request, reply) => {
        const form = (request.body ?? {}) as Record<string, unknown>;
        if (typeof form !== 'object')
          throw new OAuthError(400, { error: 'invalid_request', error_description: 'form body required' });
        const token = await tokenGrant(
          ctx,
          db,
          form,
          request.headers.authorization,
          runtime.settings.accessTokenLifetimeSeconds,
        );
        runtime.stats.tokensIssued++;
        return reply.header('cache-control', 'no-store').send(token);
      });

      type TableParams = { Params: { table: string; sysId?: string; version?: string } };
      const tablePaths = ['/api/now/table/:table', '/api/now/:version/table/:table'];
      const recordPaths = tablePaths.map((path) => `${path}/:sysId`);
      const actor = (request: FastifyRequest) => authenticate(ctx, db, request.headers.authorization);
      const send = async (
        request: FastifyRequest,
        reply: FastifyReply,
        status: number,
        table: string,
        record: Record<string, string>,
      ) => {
        if (request.headers['x-no-response-body'] === 'true')
          return reply.status(status === 201 ? 201 : 204).send();
        const query = request.query as Query;
        return reply
          .status(status)
          .send({ result: await renderRecord(db, table, record, renderOptions(runtime, query)) });
      };

      for (const path of tablePaths) {
        scope.get<TableParams>(path, { schema: { hide: true } }, async (request, reply) => {
          await actor(request);
          const query = request.query as Query;
          const table = request.params.table;
          const records = applyQuery(await listRecords(db, table), parseEncodedQuery(query.sysparm_query));
          const limit = intParam(query.sysparm_limit, 'sysparm_limit', runtime.settings.defaultLimit);
          const offset = intParam(query.sysparm_offset, 'sysparm_offset', 0);
          const page = records.slice(offset, offset + limit);
          const options = renderOptions(runtime, query);
          if (!bool(query.sysparm_no_count)) reply.header('x-total-count', String(records.length));
          if (!bool(query.sysparm_suppress_pagination_header))
            reply.header('link', linkHeader(runtime, table, query, offset, limit, records.length));
          const result = [];
          for (const [index, record] of page.entries()) {
            result.push(await renderRecord(db, table, record, options));
            // Long pages (the default limit is 10,000) leave the event loop to other requests now and then.
            if (index % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
          }
          return reply.send({ result });
        });
        scope.post<TableParams>(path, { schema: { hide: true } }, async (request, reply) => {
          const who = await actor(request);
          const record = await insertRecord(
            db,
            request.params.table,
            bodyObject(request.body),
            who,
            ctx.now(),
          );
          reply.header(
            'location',
            `${instanceUrl(ctx)}/api/now/table/${request.params.table}/${record.sys_id}`,
          );
          return send(request, reply, 201, request.params.table, record);
        });
      }
      for (const path of recordPaths) {
        scope.get<TableParams>(path, { schema: { hide: true } }, async (request, reply) => {
          await actor(request);
          const record = await getRecord(db, request.params.table, request.params.sysId ?? '');
          return send(request, reply, 200, request.params.table, record);
        });
        const update = async (request: FastifyRequest<TableParams>, reply: FastifyReply) => {
          const who = await actor(request);
          const record = await updateRecord(
            db,
            request.params.table,
            request.params.sysId ?? '',
            bodyObject(request.body),
            who,
            ctx.now(),
          );
          return send(request, reply, 200, request.params.table, record);
        };
        scope.patch<TableParams>(path, { schema: { hide: true } }, update);
        scope.put<TableParams>(path, { schema: { hide: true } }, update);
        scope.delete<TableParams>(path, { schema: { hide: true } }, async (request, reply) => {
          await actor(request);
          await deleteRecord(db, request.params.table, request.params.sysId ?? '');
          return reply.status(204).send();
        });
      }
    },
    { prefix: '/servicenow' },
  );
}
