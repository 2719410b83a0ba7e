import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import Type, { type Static } from 'typebox';
import type { SandboxContext } from '../app/context.js';
import { SANDBOX_MODULES } from '../app/modules.js';
import { withEvents } from '../events/events.js';
import { toTransport } from '../features/entities.js';
import { emitFeature } from '../features/service.js';
import { checkStorable } from '../shared/body.js';
import { CalmError } from '../shared/errors.js';
import { isGuid } from '../shared/ids.js';
import type { SandboxExecutor, SandboxTables, TransportTable } from '../store/tables.js';
import { setTransportObjects, type TransportObject } from './objects.js';

export { setTransportObjects, type TransportObject } from './objects.js';

/**
 * What a released transport hands to the sandbox modules (`SandboxModule.onTransportReleased`),
 * which is what an ABAP system's export hands to the transport layer: the request number, its
 * texts, the system it was released in and its object list.
 */
export interface ReleasedTransport {
  uuid: string;
  transportId: string;
  description: string | null;
  owner: string | null;
  sourceSystem: string | null;
  targetSystem: string | null;
  objects: TransportObject[];
  /** Features the transport is attached to (their FEATURE.UPDATED events are in the same transaction). */
  featureUuids: string[];
  releasedAt: number;
}

export const RELEASED = 'released';

const ObjectSchema = Type.Object(
  {
    pgmid: Type.Optional(Type.String({ minLength: 1, maxLength: 4, description: 'default R3TR' })),
    type: Type.String({ minLength: 1, maxLength: 4, description: 'e.g. PROG, CLAS, TABU' }),
    name: Type.String({ minLength: 1, maxLength: 120 }),
  },
  { additionalProperties: false },
);
const Objects = Type.Array(ObjectSchema, {
  maxItems: 10000,
  description: 'The object list (replaces the current one); refused once the transport is released',
});

export const TransportCreateBody = Type.Object(
  {
    transportId: Type.String({ minLength: 1, maxLength: 40, description: 'e.g. S4DK900123' }),
    description: Type.Optional(Type.String()),
    owner: Type.Optional(Type.String()),
    status: Type.Optional(
      Type.String({ description: 'modifiable (default) or released; released = released at once' }),
    ),
    sourceSystem: Type.Optional(Type.String({ description: 'the ABAP system it is released in, e.g. S4D' })),
    targetSystem: Type.Optional(Type.String()),
    objects: Type.Optional(Objects),
  },
  { additionalProperties: false },
);
export type TransportCreate = Static<typeof TransportCreateBody>;

export const TransportPatchBody = Type.Object(
  {
    description: Type.Optional(Type.String()),
    owner: Type.Optional(Type.String()),
    status: Type.Optional(Type.String({ description: 'released releases it (see POST …/release)' })),
    sourceSystem: Type.Optional(Type.String()),
    targetSystem: Type.Optional(Type.String()),
    objects: Type.Optional(Objects),
  },
  { additionalProperties: false },
);
export type TransportPatch = Static<typeof TransportPatchBody>;

export async function transportObjects(db: SandboxExecutor, uuid: string): Promise<TransportObject[]> {
  const rows = await db
    .selectFrom('sandbox_transport_objects')
    .selectAll()
    .where('transport_uuid', '=', uuid)
    .orderBy('position')
    .execute();
  return rows.map((row) => ({ pgmid: row.pgmid, type: row.object_type, name: row.object_name }));
}

/** The admin view of a transport: the Features API's `Transports` entity plus its object list. */
export async function transportView(db: SandboxExecutor, row: TransportTable) {
  return { ...toTransport(row), objects: await transportObjects(db, row.uuid) };
}

export async function listTransports(db: SandboxExecutor) {
  const rows = await db.selectFrom('sandbox_transports').selectAll().orderBy('created_at').execute();
  const objects = await db
    .selectFrom('sandbox_transport_objects')
    .selectAll()
    .orderBy('transport_uuid')
    .orderBy('position')
    .execute();
  const byTransport = new Map<string, TransportObject[]>();
  for (const row of objects) {
    const list = byTransport.get(row.transport_uuid) ?? [];
    list.push({ pgmid: row.pgmid, type: row.object_type, name: row.object_name });
    byTransport.set(row.transport_uuid, list);
  }
  return rows.map((row) => ({ ...toTransport(row), objects: byTransport.get(row.uuid) ?? [] }));
}

/**
 * The release itself, inside the caller's transaction: every module hears of it
 * (CTMS puts it into the import queue that follows the source system's node), then each feature
 * the transport is attached to is touched and gets its FEATURE.UPDATED event.
 */
async function released(
  ctx: SandboxContext,
  trx: Transaction<SandboxTables>,
  row: TransportTable,
): Promise<ReleasedTransport> {
  const featureUuids = (
    await trx
      .selectFrom('sandbox_transport_references')
      .select('parent_uuid')
      .where('transport_uuid', '=', row.uuid)
      .orderBy('parent_uuid')
      .execute()
  ).map((ref) => ref.parent_uuid);
  const transport: ReleasedTransport = {
    uuid: row.uuid,
    transportId: row.transport_id,
    description: row.description,
    owner: row.owner,
    sourceSystem: row.source_system,
    targetSystem: row.target_system,
    objects: await transportObjects(trx, row.uuid),
    featureUuids,
    releasedAt: row.modified_at,
  };
  for (const module of SANDBOX_MODULES) await module.onTransportReleased?.(ctx, trx, transport);
  return transport;
}

/** Touches every feature the transport is attached to and records its FEATURE.UPDATED event. */
async function touchFeatures(
  ctx: SandboxContext,
  trx: Transaction<SandboxTables>,
  emit: Parameters<Parameters<typeof withEvents>[2]>[1],
  transportUuid: string,
): Promise<void> {
  const features = await trx
    .selectFrom('sandbox_transport_references as r')
    .innerJoin('sandbox_features as f', 'f.uuid', 'r.parent_uuid')
    .select(['f.uuid', 'f.modified_at'])
    .where('r.transport_uuid', '=', transportUuid)
    .orderBy('f.uuid')
    .execute();
  for (const feature of features) {
    await trx
      .updateTable('sandbox_features')
      .set({ modified_at: Math.max(ctx.now(), Number(feature.modified_at) + 1) })
      .where('uuid', '=', feature.uuid)
      .execute();
    await emitFeature(trx, emit, 'FEATURE.UPDATED', feature.uuid);
  }
}

/** `POST /admin/transports`: registers a transport; `status: released` releases it at once. */
export async function createTransport(ctx: SandboxContext, input: TransportCreate, actor = 'sandbox-admin') {
  return withEvents(ctx, actor, async (trx) => {
    const existing = await trx
      .selectFrom('sandbox_transports')
      .select('uuid')
      .where('transport_id', '=', input.transportId)
      .executeTakeFirst();
    if (existing) throw new CalmError(409, `Transport ${input.transportId} already exists`);
    const now = ctx.now();
    const row: TransportTable = {
      uuid: randomUUID(),
      transport_id: checkStorable(input.transportId, 'transportId'),
      description: input.description === undefined ? null : checkStorable(input.description, 'description'),
      owner: input.owner === undefined ? null : checkStorable(input.owner, 'owner'),
      status: checkStorable(input.status ?? 'modifiable', 'status'),
      source_system:
        input.sourceSystem === undefined ? null : checkStorable(input.sourceSystem, 'sourceSystem'),
      target_system:
        input.targetSystem === undefined ? null : checkStorable(input.targetSystem, 'targetSystem'),
      created_at: now,
      modified_at: now,
    };
    await trx.insertInto('sandbox_transports').values(row).execute();
    if (input.objects) await setTransportObjects(trx, row.uuid, input.objects);
    if (row.status === RELEASED) await released(ctx, trx, row);
    return transportView(trx, row);
  });
}

async function transportRow(db: SandboxExecutor, uuid: string): Promise<TransportTable> {
  const row = isGuid(uuid)
    ? await db
        .selectFrom('sandbox_transports')
        .selectAll()
        .where('uuid', '=', uuid.toLowerCase())
        .executeTakeFirst()
    : undefined;
  if (!row) throw new CalmError(404, `Transport ${uuid} not found`);
  return row;
}

/**
 * `PATCH /admin/transports/{uuid}`. A status change touches the attached features (modifiedAt,
 * FEATURE.UPDATED); a change to `released` is a release, which the modules hear of in the same
 * transaction. Released transports keep their object list, as in an ABAP system.
 */
export async function updateTransport(
  ctx: SandboxContext,
  uuid: string,
  patch: TransportPatch,
  actor = 'sandbox-admin',
) {
  return withEvents(ctx, actor, async (trx, emit) => {
    const row = await transportRow(trx, uuid);
    const wasReleased = row.status === RELEASED;
    if (patch.objects !== undefined && wasReleased) {
      throw new CalmError(409, `Transport ${row.transport_id} is released; its object list cannot change`);
    }
    const text = (value: string | undefined, what: string) =>
      value === undefined ? undefined : checkStorable(value, what);
    const changes: Partial<TransportTable> = {};
    const description = text(patch.description, 'description');
    if (description !== undefined) changes.description = description;
    const owner = text(patch.owner, 'owner');
    if (owner !== undefined) changes.owner = owner;
    const status = text(patch.status, 'status');
    if (status !== undefined) changes.status = status;
    const source = text(patch.sourceSystem, 'sourceSystem');
    if (source !== undefined) changes.source_system = source;
    const target = text(patch.targetSystem, 'targetSystem');
    if (target !== undefined) changes.target_system = target;
    const next: TransportTable = {
      ...row,
      ...changes,
      modified_at: Math.max(ctx.now(), Number(row.modified_at) + 1),
    };
    await trx
      .updateTable('sandbox_transports')
      .set({ ...changes, modified_at: next.modified_at })
      .where('uuid', '=', row.uuid)
      .execute();
    if (patch.objects !== undefined) await setTransportObjects(trx, row.uuid, patch.objects);
    if (next.status !== row.status) {
      if (next.status === RELEASED) await released(ctx, trx, next);
      await touchFeatures(ctx, trx, emit, row.uuid);
    }
    return transportView(trx, next);
  });
}

/** `POST /admin/transports/{uuid}/release`: what "Release" in SE09 (or ADT's newreleasejobs) does. */
export async function releaseTransport(ctx: SandboxContext, uuid: string, actor = 'sandbox-admin') {
  const row = await transportRow(ctx.db, uuid);
  if (row.status === RELEASED) throw new CalmError(409, `Transport ${row.transport_id} is already released`);
  return updateTransport(ctx, row.uuid, { status: RELEASED }, actor);
}
