import type { HttpApp } from '@calmhub/platform';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type RawBuilder, sql } from 'kysely';
import type { SandboxContext } from '../app/context.js';
import { canSeeProject, type Principal, requireScope } from '../auth/tokens.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { principalOf, registerCalmService, searchParams } from '../shared/family.js';
import { isGuid } from '../shared/ids.js';
import { FEATURE_PRIORITIES, FEATURE_STATUSES } from './catalog.js';
import {
  externalReferencesSet,
  featuresSet,
  taskAssignmentsSet,
  toExternalReference,
  toFeature,
  toTransport,
  toUrlReference,
  transportReferencesSet,
  transportsSet,
  urlReferencesSet,
} from './entities.js';
import {
  checkSelectAndExpand,
  type EntitySetSpec,
  listEntities,
  nextLink,
  parseQueryOptions,
  shape,
} from './odata/query.js';
import {
  createExternalReference,
  createFeature,
  createUrlReference,
  deleteExternalReference,
  deleteUrlReference,
  requireGuidKey,
  updateFeature,
  visibilityCondition,
  visibleFeature,
} from './service.js';

export const FEATURES_PREFIX = '/api/calm-features/v1';

/**
 * Database errors that mean "this query is too complex for the engine" (SQLite's expression-depth
 * and parser limits, PostgreSQL's stack limit). The `$filter` parser caps nesting first; should a
 * query still get past it, the client's request is what is too big, so it is a 400, not a 500.
 */
const ENGINE_LIMIT =
  /Expression tree is too large|too many terms|parser stack overflow|too many SQL variables|stack depth limit exceeded/i;

/** The 400 a query that hit an engine limit gets; `undefined` for every other error. */
export function engineLimitError(error: unknown): CalmError | undefined {
  if (error instanceof CalmError || !(error instanceof Error) || !ENGINE_LIMIT.test(error.message))
    return undefined;
  return badRequest('The query is too complex; simplify $filter (e.g. use in (...))', 'QUERY_TOO_COMPLEX');
}

/** A parsed OData resource path: `Set`, `Set/$count`, `Set/k`, `Set/k1/k2`, `Set(k)`, `Set(a='x',b=y)`. */
interface ResourcePath {
  set: string;
  keys: string[];
  named: Record<string, string>;
  count: boolean;
}

function splitKeys(inner: string): string[] {
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
  return parts.map((part) => part.trim());
}

function unquote(value: string, name: string): string {
  if (/^'.*'$/.test(value)) {
    const inner = value.slice(1, -1).replace(/''/g, "'");
    if (isGuid(inner))
      throw badRequest(`Invalid key ${name}: Edm.Guid values are written without quotes`, 'TYPE_MISMATCH');
    return inner;
  }
  return value;
}

export function parseResourcePath(path: string): ResourcePath {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?((?:\/[^/]+)*)\/?$/.exec(path);
  if (!match?.[1]) throw notFound(`Resource not found for the segment '${path}'`);
  const result: ResourcePath = { set: match[1], keys: [], named: {}, count: false };
  if (match[2] !== undefined) {
    for (const part of splitKeys(match[2])) {
      const eq = part.indexOf('=');
      if (eq > 0 && !part.startsWith("'")) {
        const name = part.slice(0, eq).trim();
        result.named[name] = unquote(part.slice(eq + 1).trim(), name);
      } else result.keys.push(unquote(part, 'value'));
    }
  }
  const rest = (match[3] ?? '').split('/').filter((segment) => segment !== '');
  if (rest.length === 1 && rest[0] === '$count' && match[2] === undefined) result.count = true;
  // Fastify already decoded the path once; decoding again would corrupt keys containing '%'.
  else result.keys.push(...rest);
  return result;
}

type Handler = (
  request: FastifyRequest,
  reply: FastifyReply,
  path: ResourcePath,
  principal: Principal,
) => Promise<unknown>;

interface SetHandlers {
  GET?: Handler;
  POST?: Handler;
  PATCH?: Handler;
  DELETE?: Handler;
}

function context(set: string, entity = false): string {
  return `$metadata#${set}${entity ? '/$entity' : ''}`;
}

async function sendList(
  ctx: SandboxContext,
  request: FastifyRequest,
  reply: FastifyReply,
  spec: EntitySetSpec,
  conditions: RawBuilder<boolean>[],
  path: ResourcePath,
) {
  const params = searchParams(request);
  const options = parseQueryOptions(params);
  if (path.count) {
    const result = await listEntities(
      ctx.db,
      spec,
      { ...options, count: true, top: 0 },
      conditions,
      ctx.settings.pageSize,
    );
    return reply.type('text/plain').send(String(result.count ?? 0));
  }
  const result = await listEntities(ctx.db, spec, options, conditions, ctx.settings.pageSize);
  const body: Record<string, unknown> = { '@context': context(spec.name) };
  if (result.count !== undefined) body['@count'] = result.count;
  body.value = result.value;
  if (result.nextOffset !== undefined)
    body['@nextLink'] = nextLink(spec.name, params, result.nextOffset, result.remainingTop);
  return reply.send(body);
}

async function sendEntity(
  ctx: SandboxContext,
  request: FastifyRequest,
  reply: FastifyReply,
  spec: EntitySetSpec,
  entity: Record<string, unknown>,
) {
  const options = parseQueryOptions(searchParams(request));
  for (const option of ['filter', 'orderBy', 'top', 'skip'] as const) {
    const value = options[option];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
      throw badRequest(
        `The query option $${option.toLowerCase()} is not allowed when addressing a single entity`,
      );
    }
  }
  checkSelectAndExpand(spec, options);
  const [shaped] = await shape(ctx.db, spec, [entity], options);
  return reply.send({ '@context': context(spec.name, true), ...shaped });
}

function singleKey(path: ResourcePath, name: string): string | undefined {
  if (path.named[name] !== undefined) return path.named[name];
  return path.keys.length === 1 ? path.keys[0] : undefined;
}

function noKey(path: ResourcePath, set: string): void {
  if (path.keys.length > 0 || Object.keys(path.named).length > 0)
    throw new CalmError(405, `Method not allowed on a single ${set} entity`);
}

function codeList(set: string, items: readonly { code: string | number; name: string }[]): Handler {
  return async (request, reply, path) => {
    parseQueryOptions(searchParams(request));
    if (path.count) return reply.type('text/plain').send(String(items.length));
    if (path.keys.length > 0 || Object.keys(path.named).length > 0) {
      const key = singleKey(path, 'code');
      const item = items.find((entry) => String(entry.code) === key);
      if (!item) throw notFound(`Code ${key} not found`);
      return reply.send({ '@context': context(set, true), ...item });
    }
    return reply.send({ '@context': context(set), value: items });
  };
}

function readOnlySet(
  ctx: SandboxContext,
  spec: EntitySetSpec,
  visibility: (principal: Principal) => RawBuilder<boolean>[],
  single?: (path: ResourcePath, principal: Principal) => Promise<Record<string, unknown>>,
): SetHandlers {
  return {
    GET: async (request, reply, path, principal) => {
      if (path.keys.length > 0 || Object.keys(path.named).length > 0) {
        if (!single) throw new CalmError(405, `Single-entity access is not supported on ${spec.name}`);
        return sendEntity(ctx, request, reply, spec, await single(path, principal));
      }
      return sendList(ctx, request, reply, spec, visibility(principal), path);
    },
  };
}

function buildSets(ctx: SandboxContext): Record<string, SetHandlers> {
  const featureVisibility = (principal: Principal) => visibilityCondition(principal, 'f.project_id');
  return {
    Features: {
      GET: async (request, reply, path, principal) => {
        const key = singleKey(path, 'uuid');
        if (key !== undefined)
          return sendEntity(ctx, request, reply, featuresSet, {
            ...toFeature(await visibleFeature(ctx.db, principal, key)),
          });
        if (path.keys.length > 1) throw notFound('Resource not found');
        const conditions = visibilityCondition(principal, 't.project_id');
        // Some tenants want the project as a plain query parameter (reference §4.2).
        const projectId = searchParams(request).get('projectId');
        if (projectId !== null) {
          const id = requireGuidKey(projectId, 'projectId');
          // Asking for a project by name is asking to see it: 403 as on /tasks?projectId=, while
          // an unscoped list just leaves hidden projects out.
          if (!canSeeProject(principal, id))
            throw new CalmError(403, `No authorization for project ${projectId}`);
          conditions.push(sql<boolean>`t.project_id = ${id}`);
        }
        return sendList(ctx, request, reply, featuresSet, conditions, path);
      },
      POST: async (request, reply, path, principal) => {
        noKey(path, 'Features');
        const feature = await createFeature(ctx, principal, request.body);
        return reply
          .status(201)
          .header('location', `Features(${feature.uuid})`)
          .send({ '@context': context('Features', true), ...feature });
      },
      PATCH: async (request, reply, path, principal) => {
        const key = singleKey(path, 'uuid');
        if (key === undefined) throw new CalmError(405, 'PATCH needs a feature key: /Features/{uuid}');
        const feature = await updateFeature(ctx, principal, principal.clientId, key, request.body);
        if (ctx.settings.featurePatchStatus === 204) return reply.status(204).send();
        return reply.send({ '@context': context('Features', true), ...feature });
      },
      DELETE: async () => {
        throw new CalmError(405, 'Features cannot be deleted; delete their references instead', {
          code: 'METHOD_NOT_ALLOWED',
        });
      },
    },
    FeatureStatus: { GET: codeList('FeatureStatus', FEATURE_STATUSES) },
    FeaturePriorities: { GET: codeList('FeaturePriorities', FEATURE_PRIORITIES) },
    URLReferences: {
      ...readOnlySet(ctx, urlReferencesSet, featureVisibility, async (path, principal) => {
        const key = requireGuidKey(singleKey(path, 'uuid') ?? '');
        const row = await ctx.db
          .selectFrom('sandbox_url_references')
          .selectAll()
          .where('uuid', '=', key)
          .executeTakeFirst();
        if (!row) throw notFound(`URL reference with key ${key} not found`);
        await visibleFeature(ctx.db, principal, row.parent_uuid);
        return toUrlReference(row);
      }),
      POST: async (request, reply, path, principal) => {
        noKey(path, 'URLReferences');
        return reply.status(201).send({
          '@context': context('URLReferences', true),
          ...(await createUrlReference(ctx, principal, request.body)),
        });
      },
      DELETE: async (_request, reply, path, principal) => {
        const key = singleKey(path, 'uuid');
        if (key === undefined) throw new CalmError(405, 'DELETE needs a key: /URLReferences/{uuid}');
        await deleteUrlReference(ctx, principal, key);
        return reply.status(204).send();
      },
    },
    ExternalReferences: {
      ...readOnlySet(ctx, externalReferencesSet, featureVisibility, async (path, principal) => {
        const { id, parentUuid } = externalKey(path);
        await visibleFeature(ctx.db, principal, parentUuid);
        const row = await ctx.db
          .selectFrom('sandbox_external_references')
          .selectAll()
          .where('id', '=', id)
          .where('parent_uuid', '=', parentUuid.toLowerCase())
          .executeTakeFirst();
        if (!row) throw notFound(`External reference ${id} of feature ${parentUuid} not found`);
        return toExternalReference(row);
      }),
      POST: async (request, reply, path, principal) => {
        noKey(path, 'ExternalReferences');
        return reply.status(201).send({
          '@context': context('ExternalReferences', true),
          ...(await createExternalReference(ctx, principal, request.body)),
        });
      },
      DELETE: async (_request, reply, path, principal) => {
        const { id, parentUuid } = externalKey(path);
        await deleteExternalReference(ctx, principal, id, parentUuid);
        return reply.status(204).send();
      },
    },
    TaskAssignments: readOnlySet(ctx, taskAssignmentsSet, featureVisibility),
    TransportReferences: readOnlySet(ctx, transportReferencesSet, featureVisibility),
    Transports: readOnlySet(
      ctx,
      transportsSet,
      (principal) =>
        principal.projectIds === null
          ? []
          : [
              sql<boolean>`exists (select 1 from sandbox_transport_references x join sandbox_features y on y.uuid = x.parent_uuid where x.transport_uuid = t.uuid and ${
                principal.projectIds.length === 0
                  ? sql`1 = 0`
                  : sql`y.project_id in (${sql.join(principal.projectIds)})`
              })`,
            ],
      async (path) => {
        const key = requireGuidKey(singleKey(path, 'uuid') ?? '');
        const row = await ctx.db
          .selectFrom('sandbox_transports')
          .selectAll()
          .where('uuid', '=', key)
          .executeTakeFirst();
        if (!row) throw notFound(`Transport with key ${key} not found`);
        return toTransport(row);
      },
    ),
  };
}

/** `ExternalReferences/{id}/{parentUuid}` or `ExternalReferences(id='X',parentUuid=<guid>)`. */
function externalKey(path: ResourcePath): { id: string; parentUuid: string } {
  const id = path.named.id ?? path.keys[0];
  const parentUuid = path.named.parentUuid ?? path.keys[1];
  if (id === undefined || parentUuid === undefined) {
    throw badRequest(
      "ExternalReferences are addressed by id and parentUuid: /ExternalReferences/{id}/{parentUuid} or (id='…',parentUuid=…)",
    );
  }
  return { id, parentUuid };
}

const METADATA_TYPES: Record<string, string> = {
  guid: 'Edm.Guid',
  string: 'Edm.String',
  int: 'Edm.Int32',
  datetime: 'Edm.DateTimeOffset',
  boolean: 'Edm.Boolean',
  collection: 'Collection(Edm.String)',
};

/** A minimal CSDL document, enough for tools that read entity sets and property types. */
function metadataXml(): string {
  const specs = [
    featuresSet,
    urlReferencesSet,
    externalReferencesSet,
    taskAssignmentsSet,
    transportsSet,
    transportReferencesSet,
  ];
  const types = specs
    .map(
      (spec) =>
        `<EntityType Name="${spec.name}"><Key>${spec.keys.map((key) => `<PropertyRef Name="${key}"/>`).join('')}</Key>${Object.entries(
          spec.fields,
        )
          .map(
            ([name, field]) =>
              `<Property Name="${name}" Type="${METADATA_TYPES[field.type]}"${field.nullable ? '' : ' Nullable="false"'}/>`,
          )
          .join('')}</EntityType>`,
    )
    .join('');
  const sets = [...specs.map((spec) => spec.name), 'FeatureStatus', 'FeaturePriorities']
    .map((name) => `<EntitySet Name="${name}" EntityType="CalmFeatures.${name}"/>`)
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="CalmFeatures" xmlns="http://docs.oasis-open.org/odata/ns/edm">${types}<EntityContainer Name="EntityContainer">${sets}</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`;
}

/**
 * What each entity set answers, for the `Allow` header of a 405: on the collection and on one
 * entity. Sets not listed are read-only (GET on both).
 */
const ALLOW: Record<string, { collection: string; entity: string }> = {
  Features: { collection: 'GET, POST', entity: 'GET, PATCH' },
  URLReferences: { collection: 'GET, POST', entity: 'GET, DELETE' },
  ExternalReferences: { collection: 'GET, POST', entity: 'GET, DELETE' },
  TaskAssignments: { collection: 'GET', entity: '' },
  TransportReferences: { collection: 'GET', entity: '' },
};

function allowFor(path: ResourcePath): string {
  const entry = ALLOW[path.set] ?? { collection: 'GET', entity: 'GET' };
  return path.keys.length > 0 || Object.keys(path.named).length > 0 ? entry.entity : entry.collection;
}

/** `/api/calm-features/v1`: the OData v4 Features service (reference §4). */
export async function registerFeatureRoutes(app: HttpApp, ctx: SandboxContext): Promise<void> {
  const sets = buildSets(ctx);
  await registerCalmService(app, ctx, { prefix: FEATURES_PREFIX, family: 'odata' }, (scope) => {
    scope.route({
      // Every method comes here, so an unsupported one is a 405 naming what the addressed set allows.
      method: ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS'],
      url: '/*',
      schema: { hide: true },
      handler: async (request, reply) => {
        const principal = principalOf(request);
        const raw = (request.params as { '*': string })['*'] ?? '';
        reply.header('odata-version', '4.0');
        const readOnly = raw === '' || raw === '/' || raw === '$metadata';
        if (readOnly && request.method !== 'GET' && request.method !== 'HEAD') {
          throw new CalmError(
            405,
            `${request.method} is not allowed on the ${raw === '$metadata' ? 'metadata' : 'service'} document`,
            { headers: { allow: 'GET' } },
          );
        }
        if (raw === '' || raw === '/') {
          requireScope(principal, 'features.read');
          return reply.send({
            '@context': '$metadata',
            value: Object.keys(sets).map((name) => ({ name, url: name })),
          });
        }
        if (raw === '$metadata') {
          requireScope(principal, 'features.read');
          return reply.type('application/xml').send(metadataXml());
        }
        const path = parseResourcePath(raw);
        const handlers = sets[path.set];
        if (!handlers) throw notFound(`Resource not found for the segment '${path.set}'`);
        // HEAD is a GET without the body.
        const method = (request.method === 'HEAD' ? 'GET' : request.method) as keyof SetHandlers;
        const handler = handlers[method];
        if (!handler)
          throw new CalmError(405, `${request.method} is not allowed on ${path.set}`, {
            headers: { allow: allowFor(path) },
          });
        requireScope(principal, method === 'GET' ? 'features.read' : 'features.write');
        try {
          return await handler(request, reply, path, principal);
        } catch (error) {
          if (error instanceof CalmError && error.status === 405 && error.headers.allow === undefined)
            throw new CalmError(405, error.message, {
              code: error.code,
              headers: { ...error.headers, allow: allowFor(path) },
            });
          throw engineLimitError(error) ?? error;
        }
      },
    });
    scope.get('/', { schema: { hide: true } }, async (request, reply) => {
      requireScope(principalOf(request), 'features.read');
      return reply.send({
        '@context': '$metadata',
        value: Object.keys(sets).map((name) => ({ name, url: name })),
      });
    });
  });
}
