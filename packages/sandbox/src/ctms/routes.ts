import '../shared/fastify-schema.js';
import type { HttpApp } from '@calmhub/platform';
import multipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { authenticate, type Principal } from '../auth/tokens.js';
import { asBody, type Body, checkStorable, str } from '../shared/body.js';
import { badRequest, CalmError } from '../shared/errors.js';
import { hidden, searchParams } from '../shared/family.js';
import { DAY_MS, dayStart, isIsoDate, parseTimestamp } from '../shared/time.js';
import { type ErrorRenderer, useErrorShape, useFaults, useLenientJson } from './http.js';
import { ctmsDb, parseId, parseStatusFilter, toNode } from './model.js';
import {
  type Actor,
  createTransportRequest,
  getAction,
  getActionLogs,
  getTransportRequestLogs,
  listNodes,
  listQueue,
  listRoutes,
  nodeById,
  queueOperation,
  startImport,
  storeFile,
} from './service.js';

/** Largest file `POST /v2/files/upload` accepts (INFERRED; MTA archives of a sandbox are small). */
export const CTMS_MAX_FILE_BYTES = 100 * 1024 * 1024;

/** INFERRED error body: `{ errorType, errorMessage }` (no public source shows CTMS error bodies). */
export const renderCtmsError: ErrorRenderer = (reply, error) =>
  reply
    .status(error.status)
    .headers(error.headers)
    .send({ errorType: error.code, errorMessage: error.message });

const principals = new WeakMap<FastifyRequest, Principal>();

function allow(request: FastifyRequest, scope: 'ctms.read' | 'ctms.export' | 'ctms.import'): Principal {
  const principal = principals.get(request);
  if (!principal) throw new CalmError(401, 'Full authentication is required to access this resource');
  if (!principal.scopes.has(scope)) {
    throw new CalmError(403, `Insufficient scope: this operation requires ${scope}`, { code: 'FORBIDDEN' });
  }
  return principal;
}

function namedUserOf(body: Body): string | null {
  return str(body, 'namedUser', { max: 256 }) ?? null;
}

function idList(body: Body): number[] {
  const value = body.transportRequests;
  if (!Array.isArray(value)) throw badRequest("Property 'transportRequests' must be an array of IDs");
  return value.map((id) => parseId(id, 'Each transport request ID'));
}

function timeParam(params: URLSearchParams, key: string, end: boolean): number | undefined {
  const value = params.get(key);
  if (value === null || value === '') return undefined;
  if (isIsoDate(value)) return end ? dayStart(value) + DAY_MS - 1 : dayStart(value);
  const ms = parseTimestamp(value);
  if (Number.isNaN(ms))
    throw badRequest(`Parameter '${key}' must be a date (YYYY-MM-DD) or an ISO timestamp`);
  return ms;
}

async function readUpload(request: FastifyRequest) {
  if (!request.isMultipart())
    throw badRequest("Expected multipart/form-data with the parts 'file' and 'namedUser'");
  let file: { name: string; content: Buffer } | undefined;
  let namedUser: string | null = null;
  for await (const part of request.parts({
    limits: { fileSize: CTMS_MAX_FILE_BYTES, files: 1, fields: 10 },
  })) {
    if (part.type === 'file') {
      const content = await part.toBuffer();
      if (part.fieldname === 'file') file = { name: part.filename || 'upload.bin', content };
    } else if (part.fieldname === 'namedUser' && typeof part.value === 'string') {
      if (part.value.length > 256) throw badRequest('namedUser exceeds 256 characters');
      namedUser = checkStorable(part.value, 'namedUser');
    }
  }
  if (!file) throw badRequest("The multipart part 'file' is missing");
  if (file.name.length > 255) throw badRequest('The file name exceeds 255 characters');
  checkStorable(file.name, 'The file name');
  return { file, namedUser };
}

/** CTMS REST API v2 (reference §3a) under `/ctms/v2`; the service key's `uri` is `<base>/ctms`. */
export async function registerCtmsRoutes(app: HttpApp, ctx: SandboxContext): Promise<void> {
  await app.register(
    async (plain) => {
      const scope = plain as unknown as HttpApp;
      useLenientJson(scope);
      await scope.register(multipart);
      useFaults(scope, ctx, renderCtmsError);
      scope.addHook('onRequest', async (request) => {
        principals.set(request, await authenticate(ctx, request.headers.authorization));
        // A NUL in the URL (path or query) could only end as a database error.
        if (/%00/.test(request.url)) throw badRequest('The request URL contains a NUL character');
      });
      useErrorShape(scope, renderCtmsError);

      const actor = (principal: Principal, body: Body): Actor => ({
        clientId: principal.clientId,
        namedUser: namedUserOf(body),
      });

      scope.get('/v2/nodes', hidden, async (request) => {
        allow(request, 'ctms.read');
        return { nodes: await listNodes(ctx) };
      });
      scope.get<{ Params: { nodeId: string } }>('/v2/nodes/:nodeId', hidden, async (request) => {
        allow(request, 'ctms.read');
        return toNode(await nodeById(ctmsDb(ctx), parseId(request.params.nodeId, 'Node ID')));
      });
      scope.get('/v2/routes', hidden, async (request) => {
        allow(request, 'ctms.read');
        return { routes: await listRoutes(ctx) };
      });

      scope.post('/v2/files/upload', hidden, async (request, reply: FastifyReply) => {
        const principal = allow(request, 'ctms.export');
        const { file, namedUser } = await readUpload(request);
        const stored = await storeFile(ctx, {
          fileName: file.name,
          content: file.content,
          namedUser,
          clientId: principal.clientId,
        });
        return reply.status(201).send(stored);
      });

      for (const mode of ['upload', 'export'] as const) {
        scope.post(`/v2/nodes/${mode}`, hidden, async (request) => {
          const principal = allow(request, 'ctms.export');
          const body = asBody(request.body);
          const entries = body.entries;
          if (!Array.isArray(entries) || entries.length === 0) {
            throw badRequest("Property 'entries' must be a non-empty array of { uri: <fileId> }");
          }
          const uris = entries.map((entry) => {
            const item = asBody(entry, 'entry');
            const uri = item.uri;
            if (typeof uri !== 'string' && typeof uri !== 'number')
              throw badRequest("Each entry needs a 'uri'");
            return String(uri);
          });
          return createTransportRequest(
            ctx,
            actor(principal, body),
            {
              contentType: str(body, 'contentType', { max: 40 }) ?? 'MTA',
              storageType: str(body, 'storageType', { max: 40 }) ?? 'FILE',
              nodeName: str(body, 'nodeName', { required: true, max: 100 }) as string,
              description: str(body, 'description', { max: 1000 }) ?? undefined,
              namedUser: namedUserOf(body),
              entries: uris,
            },
            mode,
          );
        });
      }

      scope.get<{ Params: { nodeId: string } }>(
        '/v2/nodes/:nodeId/transportRequests',
        hidden,
        async (request) => {
          allow(request, 'ctms.read');
          const params = searchParams(request);
          const statuses = params.getAll('status');
          if (statuses.length === 0) throw badRequest("The query parameter 'status' is required");
          const owner = params.get('owner');
          return listQueue(ctx, parseId(request.params.nodeId, 'Node ID'), {
            statuses: parseStatusFilter(statuses),
            createdAtFrom: timeParam(params, 'createdAtFrom', false),
            createdAtTo: timeParam(params, 'createdAtTo', true),
            queuedAtFrom: timeParam(params, 'queuedAtFrom', false),
            queuedAtTo: timeParam(params, 'queuedAtTo', true),
            owner: owner === null || owner === '' ? undefined : owner,
          });
        },
      );

      scope.post<{ Params: { nodeId: string } }>(
        '/v2/nodes/:nodeId/transportRequests/import',
        hidden,
        async (request) => {
          const principal = allow(request, 'ctms.import');
          const body = asBody(request.body);
          return startImport(
            ctx,
            actor(principal, body),
            parseId(request.params.nodeId, 'Node ID'),
            idList(body),
          );
        },
      );
      scope.post<{ Params: { nodeId: string } }>(
        '/v2/nodes/:nodeId/transportRequests/importAll',
        hidden,
        async (request) => {
          const principal = allow(request, 'ctms.import');
          const body = request.body === undefined ? {} : asBody(request.body);
          return startImport(ctx, actor(principal, body), parseId(request.params.nodeId, 'Node ID'), 'all');
        },
      );
      for (const operation of ['forward', 'reset', 'remove'] as const) {
        scope.post<{ Params: { nodeId: string } }>(
          `/v2/nodes/:nodeId/transportRequests/${operation}`,
          hidden,
          async (request) => {
            const principal = allow(request, 'ctms.import');
            const body = asBody(request.body);
            return queueOperation(
              ctx,
              actor(principal, body),
              parseId(request.params.nodeId, 'Node ID'),
              idList(body),
              operation,
            );
          },
        );
      }
      scope.get<{ Params: { nodeId: string; trId: string } }>(
        '/v2/nodes/:nodeId/transportRequests/:trId/logs',
        hidden,
        async (request) => {
          allow(request, 'ctms.read');
          return getTransportRequestLogs(
            ctx,
            parseId(request.params.nodeId, 'Node ID'),
            parseId(request.params.trId, 'Transport request ID'),
          );
        },
      );

      scope.get<{ Params: { actionId: string } }>('/v2/actions/:actionId', hidden, async (request) => {
        allow(request, 'ctms.read');
        return getAction(ctx, parseId(request.params.actionId, 'Action ID'));
      });
      scope.get<{ Params: { actionId: string } }>('/v2/actions/:actionId/logs', hidden, async (request) => {
        allow(request, 'ctms.read');
        return getActionLogs(ctx, parseId(request.params.actionId, 'Action ID'));
      });
    },
    { prefix: '/ctms' },
  );
}
