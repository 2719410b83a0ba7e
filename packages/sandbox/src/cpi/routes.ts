import '../shared/fastify-schema.js';
import type { HttpApp } from '@calmhub/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../app/context.js';
import { type ErrorRenderer, useErrorShape, useFaults, useLenientJson } from '../ctms/http.js';
import { asBody, type Body, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { hidden, searchParams } from '../shared/family.js';
import { applyCsrf, authenticateCpi, type CpiPrincipal, CSRF_FAILED } from './auth.js';
import {
  artifactEntity,
  artifactsOfPackage,
  type CpiScope,
  cpiDb,
  createArtifact,
  createPackage,
  deleteArtifact,
  deployArtifact,
  deployStatus,
  getArtifact,
  getPackage,
  getRuntime,
  listConfigurations,
  listPackages,
  listRuntime,
  packageEntity,
  runtimeEntity,
  undeploy,
  updateArtifact,
  updateConfiguration,
} from './service.js';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * OData v2 error envelope; the CSRF rejection is SAP's plain-text 403 with `x-csrf-token: Required`.
 */
export const renderCpiError: ErrorRenderer = (reply, error) => {
  if (error.code === CSRF_FAILED) {
    return reply.status(403).headers(error.headers).type('text/plain; charset=utf-8').send(error.message);
  }
  return reply
    .status(error.status)
    .headers(error.headers)
    .send({
      error: {
        code: REASONS[error.status] ?? String(error.status),
        message: { lang: 'en', value: error.message },
      },
    });
};

const principals = new WeakMap<FastifyRequest, CpiPrincipal>();

function allow(request: FastifyRequest, scope: CpiScope): CpiPrincipal {
  const principal = principals.get(request);
  if (!principal) throw new CalmError(401, 'Authentication is required');
  if (!principal.scopes.has(scope)) {
    throw new CalmError(403, `Forbidden: this operation requires the role ${scope.slice(4)}`);
  }
  return principal;
}

/** Splits an OData resource path on `/`, keeping slashes inside quoted key values. */
function splitPath(path: string): string[] {
  const segments: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of path) {
    if (char === "'") quoted = !quoted;
    if (char === '/' && !quoted) {
      segments.push(current);
      current = '';
    } else current += char;
  }
  segments.push(current);
  return segments.filter((segment) => segment !== '');
}

interface Segment {
  name: string;
  /** Key predicate: `('X')` gives `{ '': 'X' }`, `(Id='X',Version='Y')` gives `{ Id, Version }`. */
  keys: Record<string, string> | undefined;
}

const STRING = /^'((?:[^']|'')*)'$/;

function literal(value: string): string {
  const match = STRING.exec(value.trim());
  if (!match || match[1] === undefined) throw badRequest(`Key value ${value} must be a quoted string`);
  return match[1].replaceAll("''", "'");
}

function parseSegment(raw: string): Segment {
  const open = raw.indexOf('(');
  if (open < 0) return { name: raw, keys: undefined };
  if (!raw.endsWith(')')) throw badRequest(`Malformed resource segment '${raw}'`);
  const inner = raw.slice(open + 1, -1);
  const keys: Record<string, string> = {};
  if (STRING.test(inner.trim())) {
    keys[''] = literal(inner);
  } else {
    const parts: string[] = [];
    let current = '';
    let quoted = false;
    for (const char of inner) {
      if (char === "'") quoted = !quoted;
      if (char === ',' && !quoted) {
        parts.push(current);
        current = '';
      } else current += char;
    }
    parts.push(current);
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw badRequest(`Malformed key predicate '(${inner})'`);
      keys[part.slice(0, eq).trim()] = literal(part.slice(eq + 1));
    }
  }
  return { name: raw.slice(0, open), keys };
}

function singleKey(segment: Segment, name: string): string {
  const value = segment.keys?.[''] ?? segment.keys?.[name];
  if (value === undefined) throw badRequest(`${segment.name} needs a key, e.g. ${segment.name}('<${name}>')`);
  return value;
}

function artifactKey(segment: Segment): { id: string; version: string } {
  const id = segment.keys?.Id;
  const version = segment.keys?.Version;
  if (id === undefined || version === undefined) {
    throw badRequest("IntegrationDesigntimeArtifacts needs the key (Id='<id>',Version='<version>')");
  }
  return { id, version };
}

/** `Id='X'` in the deploy call's query; quotes are optional for lenient clients. */
function queryLiteral(params: URLSearchParams, key: string): string | undefined {
  const value = params.get(key);
  if (value === null) return undefined;
  return STRING.test(value) ? literal(value) : value;
}

function runtimeFilter(params: URLSearchParams): Record<string, string> {
  const filter = params.get('$filter');
  if (filter === null || filter.trim() === '') return {};
  const result: Record<string, string> = {};
  for (const clause of filter.trim().split(/\s+and\s+/i)) {
    const match = /^(\w+)\s+eq\s+('(?:[^']|'')*')$/.exec(clause.trim());
    if (!match?.[1] || !match[2]) {
      throw badRequest(`Unsupported $filter '${filter}'; use <Property> eq '<value>' joined by and`);
    }
    result[match[1]] = literal(match[2]);
  }
  return result;
}

function requiredString(body: Body, key: string, max = 1000): string {
  return str(body, key, { required: true, max }) as string;
}

function optionalString(body: Body, key: string, max = 4000): string | undefined {
  return str(body, key, { max }) ?? undefined;
}

/** Cloud Integration OData v2 API (reference §3b) under `/cpi/api/v1`; the key's `oauth.url` is `<base>/cpi`. */
export async function registerCpiRoutes(app: HttpApp, ctx: SandboxContext): Promise<void> {
  await app.register(
    async (plain) => {
      const scope = plain as unknown as HttpApp;
      useLenientJson(scope);
      useFaults(scope, ctx, renderCpiError);
      scope.addHook('onRequest', async (request, reply) => {
        const principal = await authenticateCpi(ctx, request.headers.authorization);
        principals.set(request, principal);
        await applyCsrf(ctx, request, reply, principal);
        // A NUL in the URL (path or query) could only end as a database error.
        if (/%00/.test(request.url)) throw badRequest('The request URL contains a NUL character');
      });
      useErrorShape(scope, renderCpiError);

      const handler = async (request: FastifyRequest, reply: FastifyReply) => {
        const base = `${ctx.publicUrl()}/cpi/api/v1`;
        const rawPath = (request.url.split('?')[0] ?? '').replace(/^\/cpi\/api\/v1\/?/, '');
        let path: string;
        try {
          path = decodeURIComponent(rawPath);
        } catch {
          throw badRequest('The resource path is not valid percent-encoding');
        }
        if (path.includes('\u0000')) throw badRequest('The resource path contains a NUL character');
        const segments = splitPath(path).map(parseSegment);
        const params = searchParams(request);
        const method = request.method === 'HEAD' ? 'GET' : request.method;
        const [first, second, third] = segments;
        const body = () => asBody(request.body);

        if (!first) {
          allow(request, 'cpi.WorkspacePackagesRead');
          return {
            d: {
              EntitySets: [
                'IntegrationPackages',
                'IntegrationDesigntimeArtifacts',
                'IntegrationRuntimeArtifacts',
                'BuildAndDeployStatus',
              ],
            },
          };
        }

        switch (first.name) {
          case 'IntegrationPackages': {
            if (!first.keys && !second) {
              if (method === 'GET') {
                allow(request, 'cpi.WorkspacePackagesRead');
                return { d: { results: (await listPackages(ctx)).map((row) => packageEntity(base, row)) } };
              }
              if (method === 'POST') {
                const principal = allow(request, 'cpi.WorkspacePackagesEdit');
                const input = body();
                const row = await createPackage(ctx, principal.user, {
                  Id: requiredString(input, 'Id', 100),
                  Name: requiredString(input, 'Name', 200),
                  Description: optionalString(input, 'Description'),
                  ShortText: optionalString(input, 'ShortText', 400),
                  Version: optionalString(input, 'Version', 40),
                  Vendor: optionalString(input, 'Vendor', 200),
                  Products: optionalString(input, 'Products'),
                  Keywords: optionalString(input, 'Keywords'),
                  Countries: optionalString(input, 'Countries'),
                  Industries: optionalString(input, 'Industries'),
                  LineOfBusiness: optionalString(input, 'LineOfBusiness'),
                });
                return reply.status(201).send({ d: packageEntity(base, row) });
              }
              break;
            }
            const id = singleKey(first, 'Id');
            if (!second && method === 'GET') {
              allow(request, 'cpi.WorkspacePackagesRead');
              return { d: packageEntity(base, await getPackage(cpiDb(ctx), id)) };
            }
            if (second?.name === 'IntegrationDesigntimeArtifacts' && !third && method === 'GET') {
              allow(request, 'cpi.WorkspacePackagesRead');
              const rows = await artifactsOfPackage(ctx, id);
              return { d: { results: rows.map((row) => artifactEntity(base, row)) } };
            }
            break;
          }

          case 'IntegrationDesigntimeArtifacts': {
            if (!first.keys) {
              if (!second && method === 'POST') {
                const principal = allow(request, 'cpi.WorkspacePackagesEdit');
                const input = body();
                const row = await createArtifact(ctx, principal.user, {
                  Id: requiredString(input, 'Id', 100),
                  Name: requiredString(input, 'Name', 200),
                  PackageId: requiredString(input, 'PackageId', 100),
                  ArtifactContent: requiredString(input, 'ArtifactContent', 200 * 1024 * 1024),
                  Description: optionalString(input, 'Description'),
                });
                return reply.status(201).send({ d: artifactEntity(base, row) });
              }
              break;
            }
            const { id, version } = artifactKey(first);
            if (!second) {
              if (method === 'GET') {
                allow(request, 'cpi.WorkspacePackagesRead');
                return { d: artifactEntity(base, await getArtifact(cpiDb(ctx), id, version)) };
              }
              if (method === 'PUT') {
                const principal = allow(request, 'cpi.WorkspacePackagesEdit');
                const input = body();
                await updateArtifact(ctx, principal.user, id, version, {
                  Name: optionalString(input, 'Name', 200),
                  Description: optionalString(input, 'Description'),
                  ArtifactContent: optionalString(input, 'ArtifactContent', 200 * 1024 * 1024),
                });
                return reply.status(200).send();
              }
              if (method === 'DELETE') {
                allow(request, 'cpi.WorkspacePackagesEdit');
                await deleteArtifact(ctx, id, version);
                return reply.status(200).send();
              }
              break;
            }
            if (second.name === '$value' && !third && method === 'GET') {
              allow(request, 'cpi.WorkspacePackagesRead');
              const row = await getArtifact(cpiDb(ctx), id, version);
              return reply
                .header('content-type', 'application/zip')
                .header('content-disposition', `attachment; filename=${row.id}.zip`)
                .send(Buffer.from(row.content, 'base64'));
            }
            if (second.name === 'Configurations' && !third) {
              if (!second.keys && method === 'GET') {
                allow(request, 'cpi.WorkspacePackagesRead');
                const rows = await listConfigurations(ctx, id, version);
                const uri = `${base}/IntegrationDesigntimeArtifacts(Id='${id}',Version='${version}')`;
                return {
                  d: {
                    results: rows.map((row) => ({
                      __metadata: {
                        id: `${uri}/Configurations('${row.parameter_key}')`,
                        uri: `${uri}/Configurations('${row.parameter_key}')`,
                        type: 'com.sap.hci.api.Configuration',
                      },
                      ParameterKey: row.parameter_key,
                      ParameterValue: row.parameter_value,
                      DataType: row.data_type,
                    })),
                  },
                };
              }
              if (second.keys && method === 'PUT') {
                allow(request, 'cpi.WorkspacePackagesEdit');
                const input = body();
                await updateConfiguration(ctx, {
                  id,
                  version,
                  key: singleKey(second, 'ParameterKey'),
                  value: str(input, 'ParameterValue', { max: 4000 }) ?? '',
                  dataType: optionalString(input, 'DataType', 40),
                });
                return reply.status(202).send();
              }
            }
            break;
          }

          case 'DeployIntegrationDesigntimeArtifact': {
            if (first.keys || second || method !== 'POST') break;
            const principal = allow(request, 'cpi.WorkspaceArtifactsDeploy');
            const id = queryLiteral(params, 'Id');
            if (!id) throw badRequest("The query parameter Id='<artifact id>' is required");
            const taskId = await deployArtifact(
              ctx,
              principal.user,
              id,
              queryLiteral(params, 'Version') ?? 'active',
            );
            return reply.status(202).type('text/plain; charset=utf-8').send(taskId);
          }

          case 'BuildAndDeployStatus': {
            if (second || method !== 'GET') break;
            allow(request, 'cpi.MonitoringDataRead');
            const task = await deployStatus(ctx, singleKey(first, 'TaskId'));
            const uri = `${base}/BuildAndDeployStatus(TaskId='${task.task_id}')`;
            return {
              d: {
                __metadata: { id: uri, uri, type: 'com.sap.hci.api.BuildAndDeployStatus' },
                TaskId: task.task_id,
                Status: task.status,
              },
            };
          }

          case 'IntegrationRuntimeArtifacts': {
            if (!first.keys) {
              if (second || method !== 'GET') break;
              allow(request, 'cpi.MonitoringDataRead');
              const rows = await listRuntime(ctx, runtimeFilter(params));
              return { d: { results: rows.map((row) => runtimeEntity(base, row)) } };
            }
            const id = singleKey(first, 'Id');
            if (!second) {
              if (method === 'GET') {
                allow(request, 'cpi.MonitoringDataRead');
                return { d: runtimeEntity(base, await getRuntime(ctx, id)) };
              }
              if (method === 'DELETE') {
                allow(request, 'cpi.WorkspaceArtifactsDeploy');
                await undeploy(ctx, id);
                return reply.status(202).send();
              }
              break;
            }
            if (second.name === 'ErrorInformation' && third?.name === '$value' && segments.length === 3) {
              allow(request, 'cpi.MonitoringDataRead');
              const runtime = await getRuntime(ctx, id);
              if (!runtime.error_information)
                throw notFound(`Integration runtime artifact '${id}' has no error`);
              return reply.type('text/plain; charset=utf-8').send(runtime.error_information);
            }
            break;
          }
        }
        const known = [
          'IntegrationPackages',
          'IntegrationDesigntimeArtifacts',
          'DeployIntegrationDesigntimeArtifact',
          'BuildAndDeployStatus',
          'IntegrationRuntimeArtifacts',
        ].includes(first.name);
        if (known && segments.length === 1) {
          throw new CalmError(405, `${request.method} is not supported on /${path}`);
        }
        throw notFound(`Resource not found for the segment '${first.name}'`);
      };

      for (const url of ['/api/v1', '/api/v1/*']) {
        scope.route({ method: ['GET', 'POST', 'PUT', 'DELETE'], url, ...hidden, handler });
      }
    },
    { prefix: '/cpi' },
  );
}
