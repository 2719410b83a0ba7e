import { readJson } from '@calmhub/platform';
import { sql } from 'kysely';
import { isoMillis } from '../shared/time.js';
import type { SandboxExecutor } from '../store/tables.js';
import type { EntitySetSpec, Row } from './odata/query.js';

const text = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
const int = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** A Features entity as the API returns it (reference §4.3); empty values are `null`, tags `[]`. */
export interface Feature {
  uuid: string;
  displayId: string;
  title: string;
  description: string | null;
  projectId: string;
  statusCode: string;
  priorityCode: number | null;
  releaseId: string | null;
  scopeId: string | null;
  responsibleId: string | null;
  workstreamId: string | null;
  type: string | null;
  tags: string[];
  createdAt: string;
  modifiedAt: string;
}

export function toFeature(row: Row): Feature {
  return {
    uuid: String(row.uuid),
    displayId: String(row.display_id),
    title: String(row.title),
    description: text(row.description),
    projectId: String(row.project_id),
    statusCode: String(row.status_code),
    priorityCode: int(row.priority_code),
    releaseId: text(row.release_id),
    scopeId: text(row.scope_id),
    responsibleId: text(row.responsible_id),
    workstreamId: text(row.workstream_id),
    type: text(row.type),
    tags: readJson<string[] | null>(row.tags) ?? [],
    createdAt: isoMillis(Number(row.created_at)),
    modifiedAt: isoMillis(Number(row.modified_at)),
  };
}

export const toUrlReference = (row: Row) => ({
  uuid: String(row.uuid),
  parentUuid: String(row.parent_uuid),
  name: String(row.name),
  url: String(row.url),
});

export const toExternalReference = (row: Row) => ({
  id: String(row.id),
  parentUuid: String(row.parent_uuid),
  name: text(row.name),
  url: text(row.url),
});

export const toTaskAssignment = (row: Row) => ({
  parentUuid: String(row.parent_uuid),
  taskId: String(row.task_id),
  taskType: text(row.task_type),
  taskTitle: text(row.task_title),
  taskStatus: text(row.task_status),
  projectId: text(row.project_id),
});

export const toTransport = (row: Row) => ({
  uuid: String(row.uuid),
  transportId: String(row.transport_id),
  description: text(row.description),
  owner: text(row.owner),
  status: String(row.status),
  sourceSystem: text(row.source_system),
  targetSystem: text(row.target_system),
  createdAt: isoMillis(Number(row.created_at)),
  modifiedAt: isoMillis(Number(row.modified_at)),
});

export const toTransportReference = (row: Row) => ({
  parentUuid: String(row.parent_uuid),
  transportUuid: String(row.transport_uuid),
  transportId: text(row.transport_id),
});

function byParent<T extends { parentUuid: string }>(items: T[]): Map<string, unknown[]> {
  const map = new Map<string, unknown[]>();
  for (const item of items) {
    const list = map.get(item.parentUuid) ?? [];
    list.push(item);
    map.set(item.parentUuid, list);
  }
  return map;
}

const urlRefsFrom = sql`sandbox_url_references t`;
const extRefsFrom = sql`sandbox_external_references t`;
const assignmentsFrom = sql`sandbox_task_assignments t join sandbox_tasks k on k.id = t.task_id`;
const assignmentColumns = sql`t.*, k.type as task_type, k.title as task_title, k.status as task_status, k.project_id as project_id`;
const transportRefsFrom = sql`sandbox_transport_references t join sandbox_transports r on r.uuid = t.transport_uuid`;
const transportRefColumns = sql`t.*, r.transport_id as transport_id`;

async function childrenOf(
  db: SandboxExecutor,
  from: ReturnType<typeof sql>,
  columns: ReturnType<typeof sql>,
  keys: string[],
  map: (row: Row) => { parentUuid: string },
): Promise<Map<string, unknown[]>> {
  const result =
    await sql<Row>`select ${columns} from ${from} where t.parent_uuid in (${sql.join(keys)}) order by t.created_at, t.parent_uuid`.execute(
      db,
    );
  return byParent(result.rows.map(map));
}

export const featuresSet: EntitySetSpec = {
  name: 'Features',
  from: sql`sandbox_features t`,
  columns: sql`t.*`,
  keys: ['uuid'],
  tieBreak: ['t.uuid'],
  searchColumns: ['t.title', 't.display_id'],
  fields: {
    uuid: { column: 't.uuid', type: 'guid' },
    displayId: { column: 't.display_id', type: 'string' },
    title: { column: 't.title', type: 'string' },
    description: { column: 't.description', type: 'string', nullable: true, sortable: false },
    projectId: { column: 't.project_id', type: 'guid' },
    statusCode: { column: 't.status_code', type: 'string' },
    priorityCode: { column: 't.priority_code', type: 'int', nullable: true },
    releaseId: { column: 't.release_id', type: 'guid', nullable: true },
    scopeId: { column: 't.scope_id', type: 'guid', nullable: true },
    responsibleId: { column: 't.responsible_id', type: 'string', nullable: true },
    workstreamId: { column: 't.workstream_id', type: 'string', nullable: true },
    type: { column: 't.type', type: 'string', nullable: true },
    tags: { column: 't.tags', type: 'collection' },
    createdAt: { column: 't.created_at', type: 'datetime' },
    modifiedAt: { column: 't.modified_at', type: 'datetime' },
  },
  toEntity: (row) => ({ ...toFeature(row) }),
  expandKey: (entity) => String(entity.uuid),
  expand: {
    toURLReferences: (db, keys) => childrenOf(db, urlRefsFrom, sql`t.*`, keys, toUrlReference),
    toExternalReferences: (db, keys) => childrenOf(db, extRefsFrom, sql`t.*`, keys, toExternalReference),
    toTaskAssignments: (db, keys) =>
      childrenOf(db, assignmentsFrom, assignmentColumns, keys, toTaskAssignment),
    toTransportReferences: (db, keys) =>
      childrenOf(db, transportRefsFrom, transportRefColumns, keys, toTransportReference),
  },
};

export const urlReferencesSet: EntitySetSpec = {
  name: 'URLReferences',
  from: sql`sandbox_url_references t join sandbox_features f on f.uuid = t.parent_uuid`,
  columns: sql`t.*`,
  keys: ['uuid'],
  tieBreak: ['t.created_at', 't.uuid'],
  fields: {
    uuid: { column: 't.uuid', type: 'guid' },
    parentUuid: { column: 't.parent_uuid', type: 'guid' },
    name: { column: 't.name', type: 'string' },
    url: { column: 't.url', type: 'string' },
  },
  toEntity: toUrlReference,
};

export const externalReferencesSet: EntitySetSpec = {
  name: 'ExternalReferences',
  from: sql`sandbox_external_references t join sandbox_features f on f.uuid = t.parent_uuid`,
  columns: sql`t.*`,
  keys: ['id', 'parentUuid'],
  tieBreak: ['t.created_at', 't.parent_uuid', 't.id'],
  fields: {
    id: { column: 't.id', type: 'string' },
    parentUuid: { column: 't.parent_uuid', type: 'guid' },
    name: { column: 't.name', type: 'string', nullable: true },
    url: { column: 't.url', type: 'string', nullable: true },
  },
  toEntity: toExternalReference,
};

export const taskAssignmentsSet: EntitySetSpec = {
  name: 'TaskAssignments',
  from: sql`sandbox_task_assignments t join sandbox_tasks k on k.id = t.task_id join sandbox_features f on f.uuid = t.parent_uuid`,
  columns: assignmentColumns,
  keys: ['parentUuid', 'taskId'],
  tieBreak: ['t.parent_uuid', 't.task_id'],
  fields: {
    parentUuid: { column: 't.parent_uuid', type: 'guid' },
    taskId: { column: 't.task_id', type: 'guid' },
    taskType: { column: 'k.type', type: 'string' },
    taskTitle: { column: 'k.title', type: 'string' },
    taskStatus: { column: 'k.status', type: 'string' },
    projectId: { column: 'k.project_id', type: 'guid' },
  },
  toEntity: toTaskAssignment,
};

export const transportsSet: EntitySetSpec = {
  name: 'Transports',
  from: sql`sandbox_transports t`,
  columns: sql`t.*`,
  keys: ['uuid'],
  tieBreak: ['t.created_at', 't.uuid'],
  fields: {
    uuid: { column: 't.uuid', type: 'guid' },
    transportId: { column: 't.transport_id', type: 'string' },
    description: { column: 't.description', type: 'string', nullable: true },
    owner: { column: 't.owner', type: 'string', nullable: true },
    status: { column: 't.status', type: 'string' },
    sourceSystem: { column: 't.source_system', type: 'string', nullable: true },
    targetSystem: { column: 't.target_system', type: 'string', nullable: true },
    createdAt: { column: 't.created_at', type: 'datetime' },
    modifiedAt: { column: 't.modified_at', type: 'datetime' },
  },
  toEntity: toTransport,
};

export const transportReferencesSet: EntitySetSpec = {
  name: 'TransportReferences',
  from: sql`sandbox_transport_references t join sandbox_transports r on r.uuid = t.transport_uuid join sandbox_features f on f.uuid = t.parent_uuid`,
  columns: transportRefColumns,
  keys: ['parentUuid', 'transportUuid'],
  tieBreak: ['t.parent_uuid', 't.transport_uuid'],
  fields: {
    parentUuid: { column: 't.parent_uuid', type: 'guid' },
    transportUuid: { column: 't.transport_uuid', type: 'guid' },
    transportId: { column: 'r.transport_id', type: 'string' },
  },
  toEntity: toTransportReference,
};
