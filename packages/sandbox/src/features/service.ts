import { randomUUID } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import { type RawBuilder, sql } from 'kysely';
import type { SandboxContext } from '../app/context.js';
import { canSeeProject, type Principal } from '../auth/tokens.js';
import { type Emit, withEvents } from '../events/events.js';
import { asBody, type Body, checkStorable, has, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { isGuid } from '../shared/ids.js';
import type { FeatureTable, SandboxExecutor } from '../store/tables.js';
import {
  DEFAULT_FEATURE_CREATE_STATUSES,
  FEATURE_PRIORITY_CODES,
  FEATURE_STATUS_CODES,
  statusName,
} from './catalog.js';
import { type Feature, toExternalReference, toFeature, toUrlReference } from './entities.js';

const READ_ONLY = [
  'uuid',
  'displayId',
  'createdAt',
  'modifiedAt',
  '@context',
  '@odata.context',
  '@odata.etag',
];
const UPDATABLE = [
  'title',
  'description',
  'statusCode',
  'priorityCode',
  'scopeId',
  'responsibleId',
  'releaseId',
  'workstreamId',
  'tags',
];
const CREATABLE = [...UPDATABLE, 'projectId', 'type', 'toURLReferences', 'toExternalReferences'];

/** SQL condition restricting a joined set to the projects a client may see (`alias.project_id`). */
export function visibilityCondition(principal: Principal, column: string): RawBuilder<boolean>[] {
  if (principal.projectIds === null) return [];
  if (principal.projectIds.length === 0) return [sql<boolean>`1 = 0`];
  return [sql<boolean>`${sql.ref(column)} in (${sql.join(principal.projectIds)})`];
}

export function requireGuidKey(key: string, what = 'key'): string {
  if (!isGuid(key)) {
    throw badRequest(`Invalid ${what} '${key}': an unquoted Edm.Guid is expected`, 'TYPE_MISMATCH');
  }
  return key.toLowerCase();
}

export async function featureRow(db: SandboxExecutor, uuid: string): Promise<FeatureTable | undefined> {
  return db.selectFrom('sandbox_features').selectAll().where('uuid', '=', uuid).executeTakeFirst();
}

/** A feature the caller may see: 404 when unknown, 403 when its project is not visible. */
export async function visibleFeature(
  db: SandboxExecutor,
  principal: Principal | null,
  key: string,
): Promise<FeatureTable> {
  const uuid = requireGuidKey(key);
  const row = await featureRow(db, uuid);
  if (!row) throw notFound(`Feature with key ${key} not found`);
  if (principal && !canSeeProject(principal, row.project_id))
    // Says no more than that: the caller may have reached the feature through another object's id.
    throw new CalmError(403, 'No authorization for the project of this feature');
  return row;
}

function priority(body: Body): number | null | undefined {
  if (!has(body, 'priorityCode')) return undefined;
  const value = body.priorityCode;
  if (value === null) return null;
  // The spec says number; one client sends a numeric string. Both are accepted, numbers are returned.
  const parsed =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value.trim())
        ? Number(value)
        : Number.NaN;
  if (!FEATURE_PRIORITY_CODES.includes(parsed)) {
    throw badRequest(
      `Invalid priorityCode '${String(value)}'; allowed values are ${FEATURE_PRIORITY_CODES.join(', ')}`,
    );
  }
  return parsed;
}

function guid(body: Body, key: string): string | null | undefined {
  const value = str(body, key);
  if (typeof value === 'string') {
    if (!isGuid(value)) throw badRequest(`Property '${key}' must be an Edm.Guid`, 'TYPE_MISMATCH');
    return value.toLowerCase();
  }
  return value;
}

function tags(body: Body): string[] | undefined {
  if (!has(body, 'tags')) return undefined;
  const value = body.tags;
  if (value === null) return [];
  if (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string')) {
    throw badRequest("Property 'tags' must be an array of strings");
  }
  for (const tag of value as string[]) checkStorable(tag, "Property 'tags'");
  return value as string[];
}

function statusCode(body: Body): string | undefined {
  if (!has(body, 'statusCode')) return undefined;
  const value = body.statusCode;
  if (typeof value !== 'string' || !FEATURE_STATUS_CODES.includes(value)) {
    throw badRequest(
      `Invalid statusCode '${String(value)}'; allowed values are ${FEATURE_STATUS_CODES.join(', ')}`,
    );
  }
  return value;
}

function checkUrl(url: string, what: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest(`Invalid ${what} URL '${url}'`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw badRequest(`Invalid ${what} URL '${url}': http(s) is required`);
}

/** Fields shared by create and update, already validated; `undefined` means "not sent". */
function commonFields(body: Body): Partial<FeatureTable> {
  const fields: Partial<FeatureTable> = {};
  if (has(body, 'title')) fields.title = requiredStr(body, 'title', 600);
  const description = str(body, 'description');
  if (description !== undefined) fields.description = description;
  const priorityCode = priority(body);
  if (priorityCode !== undefined) fields.priority_code = priorityCode;
  const scopeId = guid(body, 'scopeId');
  if (scopeId !== undefined) fields.scope_id = scopeId;
  const releaseId = guid(body, 'releaseId');
  if (releaseId !== undefined) fields.release_id = releaseId;
  const responsibleId = str(body, 'responsibleId', { max: 255 });
  if (responsibleId !== undefined) fields.responsible_id = responsibleId;
  const workstreamId = str(body, 'workstreamId', { max: 255 });
  if (workstreamId !== undefined) fields.workstream_id = workstreamId;
  const tagList = tags(body);
  if (tagList !== undefined) fields.tags = writeJson(tagList);
  return fields;
}

function stripReadOnly(body: Body): Body {
  const copy: Body = { ...body };
  for (const key of READ_ONLY) delete copy[key];
  return copy;
}

interface UrlReferenceInput {
  name: string;
  url: string;
}
interface ExternalReferenceInput {
  id: string;
  name: string | null;
  url: string | null;
}

export function parseUrlReference(
  raw: unknown,
  nested: boolean,
): UrlReferenceInput & { parentUuid?: string } {
  const body = asBody(raw, 'URL reference');
  rejectUnknown(
    stripReadOnly(body),
    nested ? ['name', 'url'] : ['name', 'url', 'parentUuid'],
    'URL reference',
  );
  const url = requiredStr(body, 'url', 2000);
  checkUrl(url, 'URL reference');
  const result: UrlReferenceInput & { parentUuid?: string } = { name: requiredStr(body, 'name', 255), url };
  if (!nested) result.parentUuid = requireGuidKey(requiredStr(body, 'parentUuid'), 'parentUuid');
  return result;
}

export function parseExternalReference(
  raw: unknown,
  nested: boolean,
): ExternalReferenceInput & { parentUuid?: string } {
  const body = asBody(raw, 'external reference');
  rejectUnknown(
    body,
    nested ? ['id', 'name', 'url'] : ['id', 'name', 'url', 'parentUuid'],
    'external reference',
  );
  const url = str(body, 'url', { max: 2000 }) ?? null;
  if (url !== null) checkUrl(url, 'external reference');
  const result: ExternalReferenceInput & { parentUuid?: string } = {
    id: requiredStr(body, 'id', 255),
    name: str(body, 'name', { max: 255 }) ?? null,
    url,
  };
  if (!nested) result.parentUuid = requireGuidKey(requiredStr(body, 'parentUuid'), 'parentUuid');
  return result;
}

function list(body: Body, key: string): unknown[] {
  if (!has(body, key) || body[key] === null) return [];
  const value = body[key];
  if (!Array.isArray(value)) throw badRequest(`Property '${key}' must be an array`);
  return value;
}

async function featureEntity(db: SandboxExecutor, uuid: string): Promise<Feature> {
  const row = await featureRow(db, uuid);
  if (!row) throw notFound(`Feature with key ${uuid} not found`);
  return toFeature(row);
}

export async function emitFeature(
  db: SandboxExecutor,
  emit: Emit,
  eventType: 'FEATURE.CREATED' | 'FEATURE.UPDATED',
  uuid: string,
): Promise<Feature> {
  const feature = await featureEntity(db, uuid);
  await emit({ eventType, resourceId: uuid, projectId: feature.projectId, resource: { ...feature } });
  return feature;
}

/** `POST /Features`, deep inserts included; one transaction, one FEATURE.CREATED event. */
export async function createFeature(
  ctx: SandboxContext,
  principal: Principal,
  raw: unknown,
): Promise<Feature> {
  const body = stripReadOnly(asBody(raw));
  rejectUnknown(body, CREATABLE);
  const title = requiredStr(body, 'title', 600);
  const projectKey = requiredStr(body, 'projectId');
  const projectId = requireGuidKey(projectKey, 'projectId');
  const fields = commonFields(body);
  const status = statusCode(body) ?? 'CREATED';
  checkCreateStatus(ctx, status);
  const type = str(body, 'type', { max: 40 }) ?? null;
  const urlRefs = list(body, 'toURLReferences').map((item) => parseUrlReference(item, true));
  const extRefs = list(body, 'toExternalReferences').map((item) => parseExternalReference(item, true));
  if (new Set(extRefs.map((ref) => ref.id)).size !== extRefs.length)
    throw badRequest('Duplicate id in toExternalReferences');

  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    const project = await trx
      .selectFrom('sandbox_projects')
      .selectAll()
      .where('id', '=', projectId)
      .executeTakeFirst();
    if (!project) throw badRequest(`Project ${projectKey} does not exist`);
    if (!canSeeProject(principal, project.id))
      throw new CalmError(403, `No authorization for project ${projectKey}`);
    const seq = await trx
      .updateTable('sandbox_projects')
      .set({ feature_seq: sql`feature_seq + 1` })
      .where('id', '=', project.id)
      .returning('feature_seq')
      .executeTakeFirstOrThrow();
    const now = ctx.now();
    const uuid = randomUUID();
    await trx
      .insertInto('sandbox_features')
      .values({
        uuid,
        project_id: project.id,
        display_id: `${project.number}-${seq.feature_seq}`,
        title,
        description: null,
        status_code: status,
        priority_code: null,
        release_id: null,
        scope_id: null,
        responsible_id: null,
        workstream_id: null,
        type,
        tags: writeJson([]),
        ...fields,
        created_at: now,
        modified_at: now,
      })
      .execute();
    for (const ref of urlRefs) {
      await trx
        .insertInto('sandbox_url_references')
        .values({ uuid: randomUUID(), parent_uuid: uuid, name: ref.name, url: ref.url, created_at: now })
        .execute();
    }
    for (const ref of extRefs) {
      await trx
        .insertInto('sandbox_external_references')
        .values({ id: ref.id, parent_uuid: uuid, name: ref.name, url: ref.url, created_at: now })
        .execute();
    }
    return emitFeature(trx, emit, 'FEATURE.CREATED', uuid);
  });
}

export function checkTransition(ctx: SandboxContext, from: string, to: string): void {
  if (from === to) return;
  const allowed = ctx.settings.featureTransitions[from] ?? [];
  if (!allowed.includes(to)) {
    throw new CalmError(
      400,
      `Invalid status transition from '${statusName(from)}' (${from}) to '${statusName(to)}' (${to})`,
      {
        code: 'INVALID_STATUS_TRANSITION',
      },
    );
  }
}

/**
 * The reference is silent on `statusCode` at creation; letting any status in would bypass the
 * transition matrix, so only the `featureCreateStatuses` setting's statuses are accepted.
 */
function checkCreateStatus(ctx: SandboxContext, status: string): void {
  const allowed = ctx.settings.featureCreateStatuses ?? DEFAULT_FEATURE_CREATE_STATUSES;
  if (!allowed.includes(status)) {
    throw new CalmError(
      400,
      `A feature cannot be created in status '${statusName(status)}' (${status}); allowed: ${allowed.join(', ')}. Create it, then PATCH statusCode along the enabled status switches`,
      { code: 'INVALID_STATUS_TRANSITION' },
    );
  }
}

/** Whether applying `fields` to `row` would change anything (tags compared as lists). */
function changes(row: FeatureTable, fields: Partial<FeatureTable>): boolean {
  return Object.entries(fields).some(([column, value]) => {
    const current = row[column as keyof FeatureTable];
    if (column === 'tags') return JSON.stringify(readJson(current) ?? []) !== JSON.stringify(readJson(value));
    return value !== current;
  });
}

/**
 * `PATCH /Features/{uuid}`; lifecycle actions go through here too, so both emit the same event.
 * A PATCH that changes nothing is a no-op: no `modifiedAt` bump and no FEATURE.UPDATED (as for
 * tasks), so a client that writes back what it read does not wake every consumer.
 */
export async function updateFeature(
  ctx: SandboxContext,
  principal: Principal | null,
  actor: string,
  key: string,
  raw: unknown,
): Promise<Feature> {
  const body = stripReadOnly(asBody(raw));
  rejectUnknown(body, [...UPDATABLE, 'projectId', 'type']);
  const fields = commonFields(body);
  const status = statusCode(body);
  return withEvents(ctx, actor, async (trx, emit) => {
    const row = await visibleFeature(trx, principal, key);
    for (const [field, column] of [
      ['projectId', 'project_id'],
      ['type', 'type'],
    ] as const) {
      if (has(body, field) && body[field] !== row[column])
        throw badRequest(`Property '${field}' cannot be updated`);
    }
    if (status !== undefined) {
      checkTransition(ctx, row.status_code, status);
      fields.status_code = status;
    }
    if (!changes(row, fields)) return toFeature(row);
    await trx
      .updateTable('sandbox_features')
      .set({ ...fields, modified_at: Math.max(ctx.now(), row.modified_at + 1) })
      .where('uuid', '=', row.uuid)
      .execute();
    return emitFeature(trx, emit, 'FEATURE.UPDATED', row.uuid);
  });
}

async function touchFeature(ctx: SandboxContext, trx: SandboxExecutor, row: FeatureTable): Promise<void> {
  await trx
    .updateTable('sandbox_features')
    .set({ modified_at: Math.max(ctx.now(), row.modified_at + 1) })
    .where('uuid', '=', row.uuid)
    .execute();
}

export async function createUrlReference(ctx: SandboxContext, principal: Principal, raw: unknown) {
  const input = parseUrlReference(raw, false);
  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    const feature = await visibleFeature(trx, principal, input.parentUuid as string);
    const row = {
      uuid: randomUUID(),
      parent_uuid: feature.uuid,
      name: input.name,
      url: input.url,
      created_at: ctx.now(),
    };
    await trx.insertInto('sandbox_url_references').values(row).execute();
    await touchFeature(ctx, trx, feature);
    await emitFeature(trx, emit, 'FEATURE.UPDATED', feature.uuid);
    return toUrlReference(row);
  });
}

export async function deleteUrlReference(
  ctx: SandboxContext,
  principal: Principal,
  key: string,
): Promise<void> {
  const uuid = requireGuidKey(key);
  await withEvents(ctx, principal.clientId, async (trx, emit) => {
    const ref = await trx
      .selectFrom('sandbox_url_references')
      .selectAll()
      .where('uuid', '=', uuid)
      .executeTakeFirst();
    if (!ref) throw notFound(`URL reference with key ${key} not found`);
    const feature = await visibleFeature(trx, principal, ref.parent_uuid);
    await trx.deleteFrom('sandbox_url_references').where('uuid', '=', uuid).execute();
    await touchFeature(ctx, trx, feature);
    await emitFeature(trx, emit, 'FEATURE.UPDATED', feature.uuid);
  });
}

export async function createExternalReference(ctx: SandboxContext, principal: Principal, raw: unknown) {
  const input = parseExternalReference(raw, false);
  return withEvents(ctx, principal.clientId, async (trx, emit) => {
    const feature = await visibleFeature(trx, principal, input.parentUuid as string);
    const existing = await trx
      .selectFrom('sandbox_external_references')
      .select('id')
      .where('id', '=', input.id)
      .where('parent_uuid', '=', feature.uuid)
      .executeTakeFirst();
    if (existing)
      throw new CalmError(409, `External reference ${input.id} already exists for this feature`, {
        code: 'ENTITY_ALREADY_EXISTS',
      });
    const row = {
      id: input.id,
      parent_uuid: feature.uuid,
      name: input.name,
      url: input.url,
      created_at: ctx.now(),
    };
    await trx.insertInto('sandbox_external_references').values(row).execute();
    await touchFeature(ctx, trx, feature);
    await emitFeature(trx, emit, 'FEATURE.UPDATED', feature.uuid);
    return toExternalReference(row);
  });
}

export async function deleteExternalReference(
  ctx: SandboxContext,
  principal: Principal,
  id: string,
  parentKey: string,
): Promise<void> {
  const parentUuid = requireGuidKey(parentKey, 'parentUuid');
  await withEvents(ctx, principal.clientId, async (trx, emit) => {
    const feature = await visibleFeature(trx, principal, parentUuid);
    const result = await trx
      .deleteFrom('sandbox_external_references')
      .where('id', '=', id)
      .where('parent_uuid', '=', parentUuid)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0)
      throw notFound(`External reference ${id} of feature ${parentKey} not found`);
    await touchFeature(ctx, trx, feature);
    await emitFeature(trx, emit, 'FEATURE.UPDATED', feature.uuid);
  });
}
