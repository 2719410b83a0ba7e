import { readJson, writeJson } from '@calmhub/platform';
import type { SandboxContext } from '../app/context.js';
import { checkStorable } from '../shared/body.js';
import { badRequest, CalmError, notFound } from '../shared/errors.js';
import { tenantOf } from './http.js';
import {
  type ActionRow,
  ctmsDb,
  ctmsSettings,
  entriesOf,
  IMPORTABLE,
  iso,
  MAX_ID,
  type NodeRow,
  OUTCOME_RANK,
  type QueueStatus,
  type StoredEntry,
  type TransportRequestRow,
  toEntities,
  toEntries,
  toNode,
  toRoute,
} from './model.js';
import type { CtmsExecutor } from './tables.js';

export const IMPORT_JOB = 'ctms.import';

export interface ImportJob {
  /** The sandbox's tenant id, for logs and diagnostics. */
  tenant: string;
  actionId: number;
}

/** Who triggers an operation: the technical client of the token, plus the `namedUser` the client names. */
export interface Actor {
  clientId: string;
  namedUser: string | null;
}

// ---------------------------------------------------------------------------------------------
// Nodes and routes

export async function listNodes(ctx: SandboxContext) {
  const rows = await ctmsDb(ctx).selectFrom('ctms_nodes').selectAll().orderBy('id').execute();
  return rows.map((row) => toNode(row));
}

export async function nodeById(db: CtmsExecutor, id: number): Promise<NodeRow> {
  const row = await db.selectFrom('ctms_nodes').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`Node with ID ${id} does not exist`);
  return row;
}

export async function nodeByName(db: CtmsExecutor, name: string): Promise<NodeRow> {
  const row = await db.selectFrom('ctms_nodes').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw notFound(`Node '${name}' does not exist`);
  return row;
}

async function nodeNames(db: CtmsExecutor): Promise<Map<number, string>> {
  const rows = await db.selectFrom('ctms_nodes').select(['id', 'name']).execute();
  return new Map(rows.map((row) => [Number(row.id), row.name]));
}

export async function listRoutes(ctx: SandboxContext) {
  const db = ctmsDb(ctx);
  const names = await nodeNames(db);
  const rows = await db.selectFrom('ctms_routes').selectAll().orderBy('id').execute();
  return rows.map((row) => toRoute(row, names));
}

async function targetsOf(db: CtmsExecutor, nodeId: number): Promise<NodeRow[]> {
  return db
    .selectFrom('ctms_routes')
    .innerJoin('ctms_nodes', 'ctms_nodes.id', 'ctms_routes.target_node_id')
    .selectAll('ctms_nodes')
    .where('ctms_routes.source_node_id', '=', nodeId)
    .orderBy('ctms_nodes.id')
    .execute();
}

export interface NewNode {
  name: string;
  description?: string | undefined;
  contentType?: string | undefined;
  forwardMode?: string | undefined;
  uploadAllowed?: boolean | undefined;
  virtual?: boolean | undefined;
  /** The ABAP system behind the node (e.g. `S4D`). */
  system?: string | null | undefined;
}

/** The admin view of a node: the public fields plus the ABAP system behind it. */
export function adminNode(row: NodeRow) {
  return { ...toNode(row), system: row.system_id };
}

export async function listAdminNodes(ctx: SandboxContext) {
  const rows = await ctmsDb(ctx).selectFrom('ctms_nodes').selectAll().orderBy('id').execute();
  return rows.map((row) => adminNode(row));
}

async function checkSystemFree(db: CtmsExecutor, system: string, nodeId: number | null): Promise<void> {
  const clash = await db
    .selectFrom('ctms_nodes')
    .select(['id', 'name'])
    .where('system_id', '=', system)
    .executeTakeFirst();
  if (clash && Number(clash.id) !== nodeId) {
    throw new CalmError(409, `System ${system} already belongs to node '${clash.name}'`);
  }
}

/** Admin: changes a node's forward mode, description or ABAP system. */
export async function updateNode(
  ctx: SandboxContext,
  name: string,
  input: {
    description?: string | undefined;
    forwardMode?: string | undefined;
    system?: string | null | undefined;
  },
) {
  checkStorable(input.description ?? '', 'description');
  const db = ctmsDb(ctx);
  const node = await nodeByName(db, name);
  if (input.system) await checkSystemFree(db, input.system, node.id);
  const changes = {
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.forwardMode !== undefined ? { forward_mode: input.forwardMode } : {}),
    ...(input.system !== undefined ? { system_id: input.system } : {}),
    changed_at: ctx.now(),
  };
  const row = await db
    .updateTable('ctms_nodes')
    .set(changes)
    .where('id', '=', node.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return adminNode(row);
}

export async function createNode(ctx: SandboxContext, input: NewNode) {
  checkStorable(input.description ?? '', 'description');
  checkStorable(input.contentType ?? '', 'contentType');
  const db = ctmsDb(ctx);
  const existing = await db
    .selectFrom('ctms_nodes')
    .select('id')
    .where('name', '=', input.name)
    .executeTakeFirst();
  if (existing) throw new CalmError(409, `Node '${input.name}' already exists`);
  if (input.system) await checkSystemFree(db, input.system, null);
  const now = ctx.now();
  const row = await db
    .insertInto('ctms_nodes')
    .values({
      name: input.name,
      description: input.description ?? '',
      content_type: input.contentType ?? 'MTA',
      forward_mode: input.forwardMode ?? 'POST_IMPORT',
      upload_allowed: input.uploadAllowed === false ? 0 : 1,
      is_virtual: input.virtual ? 1 : 0,
      created_at: now,
      changed_at: now,
      system_id: input.system ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return adminNode(row);
}

export async function createRoute(
  ctx: SandboxContext,
  input: { name?: string | undefined; description?: string | undefined; source: string; target: string },
) {
  checkStorable(input.description ?? '', 'description');
  const db = ctmsDb(ctx);
  const source = await nodeByName(db, input.source);
  const target = await nodeByName(db, input.target);
  if (source.id === target.id) throw badRequest('A route needs two different nodes');
  const name = input.name ?? `${source.name}_${target.name}`;
  const clash = await db
    .selectFrom('ctms_routes')
    .select('id')
    .where((eb) =>
      eb.or([
        eb('name', '=', name),
        eb.and([eb('source_node_id', '=', source.id), eb('target_node_id', '=', target.id)]),
      ]),
    )
    .executeTakeFirst();
  if (clash) throw new CalmError(409, `Route '${name}' or a route ${source.name} → ${target.name} exists`);
  const row = await db
    .insertInto('ctms_routes')
    .values({
      name,
      description: input.description ?? `${source.name} to ${target.name}`,
      source_node_id: source.id,
      target_node_id: target.id,
      created_at: ctx.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRoute(row, await nodeNames(db));
}

// ---------------------------------------------------------------------------------------------
// Files and transport requests

export async function storeFile(
  ctx: SandboxContext,
  input: { fileName: string; content: Buffer; namedUser: string | null; clientId: string },
) {
  const row = await ctmsDb(ctx)
    .insertInto('ctms_files')
    .values({
      file_name: input.fileName,
      content: input.content.toString('base64'),
      size: input.content.length,
      named_user: input.namedUser,
      created_by: input.clientId,
      created_at: ctx.now(),
    })
    .returning(['id', 'file_name'])
    .executeTakeFirstOrThrow();
  return { fileId: Number(row.id), fileName: row.file_name };
}

async function nextPosition(db: CtmsExecutor, nodeId: number): Promise<number> {
  const row = await db
    .selectFrom('ctms_queue_entries')
    .select((eb) => eb.fn.max('position').as('max'))
    .where('node_id', '=', nodeId)
    .executeTakeFirst();
  return Number(row?.max ?? 0) + 1;
}

/** Puts a request into a node's import queue; a request removed earlier comes back as a new entry. */
async function putInQueue(db: CtmsExecutor, trId: number, node: NodeRow, now: number) {
  const existing = await db
    .selectFrom('ctms_queue_entries')
    .selectAll()
    .where('transport_request_id', '=', trId)
    .where('node_id', '=', node.id)
    .executeTakeFirst();
  if (existing && existing.status !== 'deleted') return { queueId: Number(existing.id), added: false };
  const position = await nextPosition(db, node.id);
  if (existing) {
    await db
      .updateTable('ctms_queue_entries')
      .set({ status: 'initial', position, queued_at: now, archived: 0 })
      .where('id', '=', existing.id)
      .execute();
    return { queueId: Number(existing.id), added: true };
  }
  const row = await db
    .insertInto('ctms_queue_entries')
    .values({
      transport_request_id: trId,
      node_id: node.id,
      status: 'initial',
      position,
      queued_at: now,
      archived: 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { queueId: Number(row.id), added: true };
}

async function newAction(
  db: CtmsExecutor,
  input: {
    type: string;
    status: string;
    node: NodeRow;
    actor: Actor;
    trIds: number[];
    now: number;
    ended: boolean;
  },
): Promise<number> {
  const row = await db
    .insertInto('ctms_actions')
    .values({
      type: input.type,
      status: input.status,
      node_id: input.node.id,
      triggered_by: input.actor.clientId,
      triggered_by_named_user: input.actor.namedUser,
      transport_request_ids: writeJson(input.trIds),
      started_at: input.now,
      ended_at: input.ended ? input.now : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

interface LogLine {
  severity: 'I' | 'W' | 'E' | 'F';
  messageId: string;
  message: string;
}

async function writeLogs(
  db: CtmsExecutor,
  input: { actionId: number; trId: number; nodeId: number; status: string; now: number; lines: LogLine[] },
): Promise<void> {
  if (input.lines.length === 0) return;
  await db
    .insertInto('ctms_logs')
    .values(
      input.lines.map((line) => ({
        action_id: input.actionId,
        transport_request_id: input.trId,
        node_id: input.nodeId,
        status: input.status,
        severity: line.severity,
        message_id: line.messageId,
        message: line.message,
        created_at: input.now,
      })),
    )
    .execute();
}

/** Forwards a request from `node` into the queues of its route targets; returns the target names. */
async function forwardFrom(
  db: CtmsExecutor,
  input: { trId: number; node: NodeRow; actionId: number; status: string; now: number },
): Promise<string[]> {
  const targets = await targetsOf(db, input.node.id);
  const reached: string[] = [];
  for (const target of targets) {
    const { added } = await putInQueue(db, input.trId, target, input.now);
    if (added) reached.push(target.name);
  }
  if (reached.length > 0) {
    await writeLogs(db, {
      actionId: input.actionId,
      trId: input.trId,
      nodeId: input.node.id,
      status: input.status,
      now: input.now,
      lines: [
        {
          severity: 'I',
          messageId: 'TMS_FORWARD',
          message: `Transport request ${input.trId} forwarded to ${reached.map((name) => `node ${name}`).join(', ')}`,
        },
      ],
    });
  }
  return reached;
}

export interface NodeUploadInput {
  contentType: string;
  storageType: string;
  nodeName: string;
  description: string | undefined;
  namedUser: string | null;
  entries: string[];
}

/**
 * `POST /v2/nodes/upload` (mode `upload`: the request enters the named node's queue) and
 * `POST /v2/nodes/export` (mode `export`: it is created in the source node and forwarded to the
 * targets of the node's routes).
 */
export async function createTransportRequest(
  ctx: SandboxContext,
  actor: Actor,
  input: NodeUploadInput,
  mode: 'upload' | 'export',
) {
  if (input.storageType !== 'FILE') {
    throw badRequest(`Storage type '${input.storageType}' is not supported; use FILE`);
  }
  const db = ctmsDb(ctx);
  return db.transaction().execute(async (trx) => {
    const node = await nodeByName(trx, input.nodeName);
    if (node.upload_allowed !== 1) throw badRequest(`Uploads to node '${node.name}' are not allowed`);
    const files: { id: number; file_name: string }[] = [];
    for (const uri of input.entries) {
      if (!/^[1-9]\d{0,9}$/.test(uri) || Number(uri) > MAX_ID) {
        throw badRequest(`Entry uri '${uri}' is not a file ID`);
      }
      const file = await trx
        .selectFrom('ctms_files')
        .select(['id', 'file_name'])
        .where('id', '=', Number(uri))
        .executeTakeFirst();
      if (!file) throw badRequest(`File with ID ${uri} does not exist; upload it with POST /v2/files/upload`);
      files.push({ id: Number(file.id), file_name: file.file_name });
    }
    const targets = mode === 'export' ? await targetsOf(trx, node.id) : [node];
    if (targets.length === 0) {
      throw badRequest(`Node '${node.name}' has no follow-on node; create a route from it first`);
    }
    const now = ctx.now();
    const description = input.description ?? files.map((file) => file.file_name).join(', ');
    const tr = await trx
      .insertInto('ctms_transport_requests')
      .values({
        description,
        content_type: input.contentType,
        storage_type: input.storageType,
        entries: writeJson([]),
        created_by: actor.clientId,
        created_by_named_user: actor.namedUser,
        created_at: now,
        origin: node.name,
        abap_number: null,
        fail_status: null,
        fail_message: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const trId = Number(tr.id);
    const entries: StoredEntry[] = files.map((file, index) => ({
      id: trId * 1000 + index + 1,
      uri: String(file.id),
      fileName: file.file_name,
    }));
    await trx
      .updateTable('ctms_transport_requests')
      .set({ entries: writeJson(entries) })
      .where('id', '=', trId)
      .execute();
    const actionId = await newAction(trx, {
      type: mode === 'export' ? 'EXPORT' : 'UPLOAD',
      status: 'succeeded',
      node,
      actor,
      trIds: [trId],
      now,
      ended: true,
    });
    const queueEntries: { queueId: number; nodeId: number; nodeName: string }[] = [];
    for (const target of targets) {
      const { queueId } = await putInQueue(trx, trId, target, now);
      queueEntries.push({ queueId, nodeId: target.id, nodeName: target.name });
    }
    await writeLogs(trx, {
      actionId,
      trId,
      nodeId: node.id,
      status: 'initial',
      now,
      lines: [
        {
          severity: 'I',
          messageId: mode === 'export' ? 'TMS_EXPORT' : 'TMS_UPLOAD',
          message: `Transport request ${trId} '${description}' created in node ${node.name} with ${files.length} ${input.contentType} file(s)`,
        },
        {
          severity: 'I',
          messageId: 'TMS_QUEUED',
          message: `Added to the import queue of ${queueEntries.map((entry) => `node ${entry.nodeName}`).join(', ')}`,
        },
      ],
    });
    return { transportRequestId: trId, transportRequestDescription: description, queueEntries };
  });
}

/** Admin: puts a known ABAP transport request (by number) into a node's queue as a CTMS request. */
export async function enqueueAbapTransport(
  ctx: SandboxContext,
  input: { number: string; nodeName: string; namedUser: string | null },
) {
  const db = ctmsDb(ctx);
  return db.transaction().execute(async (trx) => {
    const abap = await trx
      .selectFrom('ctms_abap_transports')
      .selectAll()
      .where('number', '=', input.number)
      .executeTakeFirst();
    if (!abap) throw notFound(`ABAP transport request ${input.number} is not known to the sandbox`);
    const node = await nodeByName(trx, input.nodeName);
    const now = ctx.now();
    let tr = await trx
      .selectFrom('ctms_transport_requests')
      .select('id')
      .where('abap_number', '=', abap.number)
      .executeTakeFirst();
    let actionType = 'FORWARD';
    if (!tr) {
      actionType = 'UPLOAD';
      tr = await trx
        .insertInto('ctms_transport_requests')
        .values({
          description: abap.description,
          content_type: 'ABAP',
          storage_type: 'FILE',
          entries: writeJson([]),
          created_by: 'sandbox-admin',
          created_by_named_user: input.namedUser ?? abap.owner,
          created_at: now,
          origin: node.name,
          abap_number: abap.number,
          fail_status: null,
          fail_message: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const id = Number(tr.id);
      const entries: StoredEntry[] = [{ id: id * 1000 + 1, uri: abap.number, fileName: abap.number }];
      await trx
        .updateTable('ctms_transport_requests')
        .set({ entries: writeJson(entries) })
        .where('id', '=', id)
        .execute();
    }
    const trId = Number(tr.id);
    const { queueId, added } = await putInQueue(trx, trId, node, now);
    if (added) {
      const actionId = await newAction(trx, {
        type: actionType,
        status: 'succeeded',
        node,
        actor: { clientId: 'sandbox-admin', namedUser: input.namedUser },
        trIds: [trId],
        now,
        ended: true,
      });
      await writeLogs(trx, {
        actionId,
        trId,
        nodeId: node.id,
        status: 'initial',
        now,
        lines: [
          {
            severity: 'I',
            messageId: 'TMS_QUEUED',
            message: `ABAP transport request ${abap.number} added to the import queue of node ${node.name}`,
          },
        ],
      });
    }
    return { transportRequestId: trId, queueEntries: [{ queueId, nodeId: node.id, nodeName: node.name }] };
  });
}

/** A Cloud ALM transport released in an ABAP system (see `SandboxModule.onTransportReleased`). */
export interface AbapExport {
  number: string;
  description: string;
  owner: string;
  system: string;
  objects: AbapObject[];
}

/**
 * What the transport layer does when an ABAP system connected to CTMS releases a request: the
 * request, with its object list, becomes a transport request of the node that stands for the
 * system and is put into the import queues of that node's route targets (an EXPORT action).
 * Runs in the caller's transaction. Returns undefined when no node stands for the system.
 */
export async function exportAbapRequest(db: CtmsExecutor, now: number, input: AbapExport) {
  const node = await db
    .selectFrom('ctms_nodes')
    .selectAll()
    .where('system_id', '=', input.system)
    .orderBy('id')
    .executeTakeFirst();
  if (!node) return undefined;
  const objects = writeJson(input.objects);
  await db
    .insertInto('ctms_abap_transports')
    .values({
      number: input.number,
      description: input.description,
      owner: input.owner,
      objects,
      created_at: now,
    })
    .onConflict((oc) =>
      oc.column('number').doUpdateSet({ description: input.description, owner: input.owner, objects }),
    )
    .execute();
  let tr = await db
    .selectFrom('ctms_transport_requests')
    .select('id')
    .where('abap_number', '=', input.number)
    .executeTakeFirst();
  if (!tr) {
    tr = await db
      .insertInto('ctms_transport_requests')
      .values({
        description: input.description,
        content_type: 'ABAP',
        storage_type: 'FILE',
        entries: writeJson([]),
        created_by: `abap-${input.system}`,
        created_by_named_user: input.owner,
        created_at: now,
        origin: node.name,
        abap_number: input.number,
        fail_status: null,
        fail_message: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(tr.id);
    await db
      .updateTable('ctms_transport_requests')
      .set({ entries: writeJson([{ id: id * 1000 + 1, uri: input.number, fileName: input.number }]) })
      .where('id', '=', id)
      .execute();
  }
  const trId = Number(tr.id);
  const actionId = await newAction(db, {
    type: 'EXPORT',
    status: 'succeeded',
    node,
    actor: { clientId: `abap-${input.system}`, namedUser: input.owner },
    trIds: [trId],
    now,
    ended: true,
  });
  const queueEntries: { queueId: number; nodeId: number; nodeName: string }[] = [];
  const already: string[] = [];
  for (const target of await targetsOf(db, node.id)) {
    const { queueId, added } = await putInQueue(db, trId, target, now);
    if (added) queueEntries.push({ queueId, nodeId: Number(target.id), nodeName: target.name });
    else already.push(target.name);
  }
  const lines: LogLine[] = [
    {
      severity: 'I',
      messageId: 'TMS_EXPORT',
      message: `ABAP transport request ${input.number} '${input.description}' released in system ${input.system} and exported from node ${node.name} with ${input.objects.length} object(s)`,
    },
  ];
  if (queueEntries.length > 0) {
    lines.push({
      severity: 'I',
      messageId: 'TMS_QUEUED',
      message: `Added to the import queue of ${queueEntries.map((entry) => `node ${entry.nodeName}`).join(', ')}`,
    });
  }
  if (already.length > 0) {
    lines.push({
      severity: 'W',
      messageId: 'TMS_QUEUED',
      message: `Already in the import queue of ${already.map((name) => `node ${name}`).join(', ')}`,
    });
  }
  if (queueEntries.length === 0 && already.length === 0) {
    lines.push({
      severity: 'W',
      messageId: 'TMS_QUEUED',
      message: `Node ${node.name} has no follow-on node; the request is in no import queue`,
    });
  }
  await writeLogs(db, { actionId, trId, nodeId: node.id, status: 'initial', now, lines });
  return { transportRequestId: trId, actionId, nodeName: node.name, queueEntries };
}

export interface QueueFilter {
  statuses: Set<QueueStatus>;
  createdAtFrom?: number | undefined;
  createdAtTo?: number | undefined;
  queuedAtFrom?: number | undefined;
  queuedAtTo?: number | undefined;
  owner?: string | undefined;
}

export async function listQueue(ctx: SandboxContext, nodeId: number, filter: QueueFilter) {
  const db = ctmsDb(ctx);
  await nodeById(db, nodeId);
  let query = db
    .selectFrom('ctms_queue_entries')
    .innerJoin(
      'ctms_transport_requests',
      'ctms_transport_requests.id',
      'ctms_queue_entries.transport_request_id',
    )
    .selectAll('ctms_transport_requests')
    .select([
      'ctms_queue_entries.status as queue_status',
      'ctms_queue_entries.position',
      'ctms_queue_entries.queued_at',
      'ctms_queue_entries.archived',
    ])
    .where('ctms_queue_entries.node_id', '=', nodeId)
    .where('ctms_queue_entries.status', 'in', [...filter.statuses]);
  if (filter.createdAtFrom !== undefined)
    query = query.where('ctms_transport_requests.created_at', '>=', filter.createdAtFrom);
  if (filter.createdAtTo !== undefined)
    query = query.where('ctms_transport_requests.created_at', '<=', filter.createdAtTo);
  if (filter.queuedAtFrom !== undefined)
    query = query.where('ctms_queue_entries.queued_at', '>=', filter.queuedAtFrom);
  if (filter.queuedAtTo !== undefined)
    query = query.where('ctms_queue_entries.queued_at', '<=', filter.queuedAtTo);
  const owner = filter.owner;
  if (owner !== undefined) {
    query = query.where((eb) =>
      eb.or([
        eb('ctms_transport_requests.created_by_named_user', '=', owner),
        eb('ctms_transport_requests.created_by', '=', owner),
      ]),
    );
  }
  const rows = await query.orderBy('ctms_queue_entries.position').execute();
  return {
    transportRequests: rows.map((row) => ({
      id: Number(row.id),
      status: row.queue_status,
      archived: row.archived === 1,
      position: Number(row.position),
      createdBy: row.created_by,
      createdByNamedUser: row.created_by_named_user,
      createdAt: iso(row.created_at),
      queuedAt: iso(row.queued_at),
      description: row.description,
      origin: row.origin,
      entries: toEntries(row),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Queue operations: import (asynchronous), forward, reset, remove

async function queueEntriesFor(db: CtmsExecutor, nodeId: number, trIds: number[] | 'all') {
  let query = db.selectFrom('ctms_queue_entries').selectAll().where('node_id', '=', nodeId);
  if (trIds !== 'all') {
    if (trIds.length === 0) return [];
    query = query.where('transport_request_id', 'in', trIds);
  }
  return query.orderBy('position').execute();
}

function requireInQueue<T extends { transport_request_id: number; status: string }>(
  entries: T[],
  trIds: number[],
  node: NodeRow,
): T[] {
  const byTr = new Map(entries.map((entry) => [Number(entry.transport_request_id), entry]));
  for (const id of trIds) {
    const entry = byTr.get(id);
    if (!entry || entry.status === 'deleted') {
      throw badRequest(`Transport request ${id} is not in the import queue of node ${node.name}`);
    }
  }
  return entries;
}

export async function startImport(
  ctx: SandboxContext,
  actor: Actor,
  nodeId: number,
  trIds: number[] | 'all',
): Promise<{ actionId: number; monitoringURL: string }> {
  const db = ctmsDb(ctx);
  // Read before the transaction: SQLite has one connection, which the transaction holds.
  const tenant = await tenantOf(ctx);
  const actionId = await db.transaction().execute(async (trx) => {
    const node = await nodeById(trx, nodeId);
    let entries = await queueEntriesFor(trx, node.id, trIds);
    if (trIds !== 'all') {
      if (trIds.length === 0) throw badRequest("Property 'transportRequests' must list at least one ID");
      requireInQueue(entries, trIds, node);
      for (const entry of entries) {
        if (!IMPORTABLE.has(entry.status)) {
          throw badRequest(
            `Transport request ${entry.transport_request_id} cannot be imported in status ${entry.status}; importable are initial, fatal and repeatable`,
          );
        }
      }
    } else {
      entries = entries.filter((entry) => IMPORTABLE.has(entry.status));
    }
    const now = ctx.now();
    const ids = entries.map((entry) => Number(entry.transport_request_id));
    const empty = ids.length === 0;
    const id = await newAction(trx, {
      type: 'IMPORT',
      status: empty ? 'succeeded' : 'running',
      node,
      actor,
      trIds: ids,
      now,
      ended: empty,
    });
    if (empty) return id;
    await trx
      .updateTable('ctms_queue_entries')
      .set({ status: 'running' })
      .where(
        'id',
        'in',
        entries.map((entry) => entry.id),
      )
      .execute();
    for (const trId of ids) {
      await writeLogs(trx, {
        actionId: id,
        trId,
        nodeId: node.id,
        status: 'running',
        now,
        lines: [
          {
            severity: 'I',
            messageId: 'TMS_IMPORT_STARTED',
            message: `Import of transport request ${trId} into node ${node.name} started by ${actor.namedUser ?? actor.clientId}`,
          },
        ],
      });
      if (node.forward_mode === 'PRE_IMPORT') {
        await forwardFrom(trx, { trId, node, actionId: id, status: 'running', now });
      }
    }
    await ctx.queue.enqueue(
      {
        name: IMPORT_JOB,
        payload: { tenant, actionId: id } satisfies ImportJob,
        orderingKey: `ctms-node-${node.id}`,
        runAt: now + ctmsSettings(ctx).importDurationMs,
      },
      trx,
    );
    return id;
  });
  return { actionId, monitoringURL: `${ctx.publicUrl()}/ctms/v2/actions/${actionId}` };
}

function importLines(tr: TransportRequestRow, node: NodeRow, objects: AbapObject[]): LogLine[] {
  if (node.is_virtual === 1) {
    return [
      { severity: 'I', messageId: 'TMS_VIRTUAL', message: `Node ${node.name} is virtual; nothing deployed` },
    ];
  }
  if (tr.abap_number) {
    return [
      {
        severity: 'I',
        messageId: 'TMS_ABAP_IMPORT',
        message: `Importing ABAP transport request ${tr.abap_number}`,
      },
      ...objects.map((object) => ({
        severity: 'I' as const,
        messageId: 'TMS_ABAP_OBJECT',
        message: `Imported object ${object.pgmid} ${object.type} ${object.name}`,
      })),
    ];
  }
  return entriesOf(tr).map((entry) => ({
    severity: 'I' as const,
    messageId: 'TMS_DEPLOY',
    message: `Deploying ${tr.content_type} file ${entry.fileName} (file ID ${entry.uri}) to node ${node.name}`,
  }));
}

export interface AbapObject {
  pgmid: string;
  type: string;
  name: string;
}

const FAIL_SEVERITY: Record<string, LogLine['severity']> = { warning: 'W', error: 'E', fatal: 'F' };

/** The import job: runs once the configured duration has passed; idempotent across retries. */
export async function finishImport(ctx: SandboxContext, actionId: number): Promise<void> {
  const db = ctmsDb(ctx);
  await db.transaction().execute(async (trx) => {
    const action = await trx
      .selectFrom('ctms_actions')
      .selectAll()
      .where('id', '=', actionId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (!action) return;
    const node = await nodeById(trx, action.node_id);
    const now = ctx.now();
    let worst = 'succeeded';
    for (const trId of readJson<number[]>(action.transport_request_ids) ?? []) {
      const entry = await trx
        .selectFrom('ctms_queue_entries')
        .selectAll()
        .where('transport_request_id', '=', trId)
        .where('node_id', '=', node.id)
        .executeTakeFirst();
      // Reset or removed while the import ran: this action no longer owns the request.
      if (entry?.status !== 'running') continue;
      const tr = await trx
        .selectFrom('ctms_transport_requests')
        .selectAll()
        .where('id', '=', trId)
        .executeTakeFirstOrThrow();
      const abap = tr.abap_number
        ? await trx
            .selectFrom('ctms_abap_transports')
            .select('objects')
            .where('number', '=', tr.abap_number)
            .executeTakeFirst()
        : undefined;
      const objects = abap ? (readJson<AbapObject[]>(abap.objects) ?? []) : [];
      const outcome =
        tr.fail_status && OUTCOME_RANK[tr.fail_status] !== undefined ? tr.fail_status : 'succeeded';
      const lines = importLines(tr, node, objects);
      if (outcome !== 'succeeded') {
        lines.push({
          severity: FAIL_SEVERITY[outcome] ?? 'E',
          messageId: 'TMS_IMPORT_PROBLEM',
          message: tr.fail_message ?? `Import of transport request ${trId} into node ${node.name} failed`,
        });
      }
      lines.push({
        severity: outcome === 'succeeded' ? 'I' : (FAIL_SEVERITY[outcome] ?? 'E'),
        messageId: 'TMS_IMPORT_FINISHED',
        message: `Import of transport request ${trId} into node ${node.name} ended with status ${outcome}`,
      });
      await writeLogs(trx, { actionId, trId, nodeId: node.id, status: outcome, now, lines });
      await trx
        .updateTable('ctms_queue_entries')
        .set({ status: outcome })
        .where('id', '=', entry.id)
        .execute();
      if (node.forward_mode === 'POST_IMPORT' && (outcome === 'succeeded' || outcome === 'warning')) {
        await forwardFrom(trx, { trId, node, actionId, status: outcome, now });
      }
      if ((OUTCOME_RANK[outcome] ?? 0) > (OUTCOME_RANK[worst] ?? 0)) worst = outcome;
    }
    await trx
      .updateTable('ctms_actions')
      .set({ status: worst, ended_at: now })
      .where('id', '=', actionId)
      .execute();
  });
}

export async function queueOperation(
  ctx: SandboxContext,
  actor: Actor,
  nodeId: number,
  trIds: number[],
  operation: 'forward' | 'reset' | 'remove',
): Promise<{ actionId: number }> {
  if (trIds.length === 0) throw badRequest("Property 'transportRequests' must list at least one ID");
  const db = ctmsDb(ctx);
  return db.transaction().execute(async (trx) => {
    const node = await nodeById(trx, nodeId);
    const entries = requireInQueue(await queueEntriesFor(trx, node.id, trIds), trIds, node);
    const now = ctx.now();
    if (operation === 'forward' && (await targetsOf(trx, node.id)).length === 0) {
      throw badRequest(`Node '${node.name}' has no follow-on node to forward to`);
    }
    if (operation === 'remove') {
      const running = entries.find((entry) => entry.status === 'running');
      if (running) {
        throw badRequest(
          `Transport request ${running.transport_request_id} is being imported and cannot be removed`,
        );
      }
    }
    const actionId = await newAction(trx, {
      type: operation.toUpperCase(),
      status: 'succeeded',
      node,
      actor,
      trIds,
      now,
      ended: true,
    });
    for (const entry of entries) {
      const trId = Number(entry.transport_request_id);
      if (operation === 'forward') {
        const reached = await forwardFrom(trx, { trId, node, actionId, status: entry.status, now });
        if (reached.length === 0) {
          await writeLogs(trx, {
            actionId,
            trId,
            nodeId: node.id,
            status: entry.status,
            now,
            lines: [
              {
                severity: 'W',
                messageId: 'TMS_FORWARD',
                message: `Transport request ${trId} is already in every follow-on queue`,
              },
            ],
          });
        }
        continue;
      }
      const status =
        operation === 'remove' ? 'deleted' : entry.status === 'initial' ? 'initial' : 'repeatable';
      await trx.updateTable('ctms_queue_entries').set({ status }).where('id', '=', entry.id).execute();
      await writeLogs(trx, {
        actionId,
        trId,
        nodeId: node.id,
        status,
        now,
        lines: [
          {
            severity: 'I',
            messageId: operation === 'remove' ? 'TMS_REMOVE' : 'TMS_RESET',
            message:
              operation === 'remove'
                ? `Transport request ${trId} removed from the import queue of node ${node.name}`
                : `Transport request ${trId} reset from ${entry.status} to ${status} in node ${node.name}`,
          },
        ],
      });
    }
    return { actionId };
  });
}

// ---------------------------------------------------------------------------------------------
// Actions and logs

async function actionById(db: CtmsExecutor, id: number): Promise<ActionRow> {
  const row = await db.selectFrom('ctms_actions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound(`Action with ID ${id} does not exist`);
  return row;
}

async function requestsById(db: CtmsExecutor, ids: number[]): Promise<Map<number, TransportRequestRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('ctms_transport_requests').selectAll().where('id', 'in', ids).execute();
  return new Map(rows.map((row) => [Number(row.id), row]));
}

function message(row: {
  id: number;
  message_id: string;
  severity: string;
  message: string;
  created_at: number;
}) {
  return {
    id: Number(row.id),
    messageId: row.message_id,
    severity: row.severity,
    message: row.message,
    createdAt: iso(row.created_at),
  };
}

export async function getAction(ctx: SandboxContext, id: number) {
  const db = ctmsDb(ctx);
  const action = await actionById(db, id);
  const node = await nodeById(db, action.node_id);
  const ids = readJson<number[]>(action.transport_request_ids) ?? [];
  const requests = await requestsById(db, ids);
  const logs = await db
    .selectFrom('ctms_logs')
    .selectAll()
    .where('action_id', '=', id)
    .orderBy('id')
    .execute();
  const lastStatus = new Map<number, string>();
  for (const log of logs) lastStatus.set(Number(log.transport_request_id), log.status);
  return {
    id: Number(action.id),
    type: action.type,
    status: action.status,
    startedAt: iso(action.started_at),
    endedAt: action.ended_at === null ? null : iso(action.ended_at),
    triggeredBy: action.triggered_by,
    triggeredByNamedUser: action.triggered_by_named_user,
    nodeId: Number(node.id),
    nodeName: node.name,
    transportRequests: ids.flatMap((trId) => {
      const tr = requests.get(trId);
      if (!tr) return [];
      const status = lastStatus.get(trId) ?? action.status;
      return [{ id: trId, status, entities: toEntities(tr, status) }];
    }),
  };
}

export async function getActionLogs(ctx: SandboxContext, id: number) {
  const db = ctmsDb(ctx);
  const action = await actionById(db, id);
  const ids = readJson<number[]>(action.transport_request_ids) ?? [];
  const requests = await requestsById(db, ids);
  const rows = await db
    .selectFrom('ctms_logs')
    .selectAll()
    .where('action_id', '=', id)
    .orderBy('id')
    .execute();
  return {
    logs: ids.flatMap((trId) => {
      const tr = requests.get(trId);
      const mine = rows.filter((row) => Number(row.transport_request_id) === trId);
      if (!tr) return [];
      const status = mine.at(-1)?.status ?? action.status;
      return [
        {
          transportRequestId: trId,
          status,
          messages: mine.map(message),
          entities: toEntities(tr, status),
        },
      ];
    }),
  };
}

export async function getTransportRequestLogs(ctx: SandboxContext, nodeId: number, trId: number) {
  const db = ctmsDb(ctx);
  const node = await nodeById(db, nodeId);
  const tr = (await requestsById(db, [trId])).get(trId);
  if (!tr) throw notFound(`Transport request with ID ${trId} does not exist`);
  const rows = await db
    .selectFrom('ctms_logs')
    .innerJoin('ctms_actions', 'ctms_actions.id', 'ctms_logs.action_id')
    .selectAll('ctms_logs')
    .select([
      'ctms_actions.type as action_type',
      'ctms_actions.started_at as action_started_at',
      'ctms_actions.triggered_by as action_triggered_by',
      'ctms_actions.triggered_by_named_user as action_named_user',
    ])
    .where('ctms_logs.transport_request_id', '=', trId)
    .where('ctms_logs.node_id', '=', node.id)
    .orderBy('ctms_logs.id')
    .execute();
  const byAction = new Map<number, typeof rows>();
  for (const row of rows) {
    const list = byAction.get(Number(row.action_id)) ?? [];
    list.push(row);
    byAction.set(Number(row.action_id), list);
  }
  return {
    logs: [...byAction.entries()].map(([actionId, list]) => {
      const first = list[0] as (typeof rows)[number];
      const status = list.at(-1)?.status ?? 'initial';
      return {
        actionId,
        actionType: first.action_type,
        status,
        actionStartedAt: iso(first.action_started_at),
        actionTriggeredBy: first.action_named_user ?? first.action_triggered_by,
        messages: list.map(message),
        entities: toEntities(tr, status),
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Admin helpers

export async function upsertAbapTransport(
  ctx: SandboxContext,
  input: { number: string; description: string; owner: string; objects: AbapObject[] },
) {
  for (const text of [
    input.description,
    input.owner,
    ...input.objects.flatMap((o) => [o.pgmid, o.type, o.name]),
  ]) {
    checkStorable(text, 'A text');
  }
  const db = ctmsDb(ctx);
  const values = {
    description: input.description,
    owner: input.owner,
    objects: writeJson(input.objects),
  };
  await db
    .insertInto('ctms_abap_transports')
    .values({ number: input.number, ...values, created_at: ctx.now() })
    .onConflict((oc) => oc.column('number').doUpdateSet(values))
    .execute();
  return { number: input.number, ...values, objects: input.objects };
}

export async function listAbapTransports(ctx: SandboxContext) {
  const rows = await ctmsDb(ctx).selectFrom('ctms_abap_transports').selectAll().orderBy('number').execute();
  return rows.map((row) => ({
    number: row.number,
    description: row.description,
    owner: row.owner,
    objects: readJson<AbapObject[]>(row.objects) ?? [],
  }));
}

/** Admin view of every transport request with its queue entries and its fault switch. */
export async function listTransportRequests(ctx: SandboxContext) {
  const db = ctmsDb(ctx);
  const names = await nodeNames(db);
  const requests = await db.selectFrom('ctms_transport_requests').selectAll().orderBy('id').execute();
  const entries = await db.selectFrom('ctms_queue_entries').selectAll().orderBy('id').execute();
  return requests.map((tr) => transportRequestView(tr, entries, names));
}

function transportRequestView(
  tr: TransportRequestRow,
  entries: { transport_request_id: number; node_id: number; status: string; position: number }[],
  names: Map<number, string>,
) {
  return {
    id: Number(tr.id),
    description: tr.description,
    contentType: tr.content_type,
    abapNumber: tr.abap_number,
    origin: tr.origin,
    createdAt: iso(tr.created_at),
    entries: toEntries(tr),
    queues: entries
      .filter((entry) => Number(entry.transport_request_id) === Number(tr.id))
      .map((entry) => ({
        nodeId: Number(entry.node_id),
        nodeName: names.get(Number(entry.node_id)) ?? '',
        status: entry.status,
        position: Number(entry.position),
      })),
    failImport: tr.fail_status ? { status: tr.fail_status, message: tr.fail_message } : null,
  };
}

export async function setImportFailure(
  ctx: SandboxContext,
  trId: number,
  failure: { status: string; message?: string | undefined } | null,
) {
  checkStorable(failure?.message ?? '', 'message');
  const db = ctmsDb(ctx);
  const result = await db
    .updateTable('ctms_transport_requests')
    .set({ fail_status: failure?.status ?? null, fail_message: failure?.message ?? null })
    .where('id', '=', trId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw notFound(`Transport request with ID ${trId} does not exist`);
  const tr = (await requestsById(db, [trId])).get(trId) as TransportRequestRow;
  const entries = await db
    .selectFrom('ctms_queue_entries')
    .selectAll()
    .where('transport_request_id', '=', trId)
    .execute();
  return transportRequestView(tr, entries, await nodeNames(db));
}
