import type {
  CalmComment,
  CalmExternalReference,
  CalmFeature,
  CalmTask,
  CalmTaskRelation,
  CalmTransport,
} from './client.js';

/**
 * Cloud ALM timestamps have 3 to 7 fractional digits (`2022-03-01T06:37:01.414951300Z`); they are
 * compared as instants, never as strings. Unreadable values give undefined.
 */
export function parseCalmTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const normalised = value.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? undefined : ms;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const number = (value: unknown): number | undefined => {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

/** Reads a feature entity tolerantly; undefined when it has no key. */
export function toFeature(value: unknown): CalmFeature | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const uuid = text(raw.uuid) ?? text(raw.id);
  if (!uuid) return undefined;
  return {
    uuid: uuid.toLowerCase(),
    displayId: text(raw.displayId),
    title: text(raw.title) ?? '',
    description: text(raw.description),
    statusCode: text(raw.statusCode) ?? text(raw.status) ?? '',
    priorityCode: number(raw.priorityCode),
    responsibleId: text(raw.responsibleId),
    projectId: text(raw.projectId)?.toLowerCase(),
    modifiedAt: parseCalmTimestamp(raw.modifiedAt) ?? 0,
    raw,
  };
}

export function toTask(value: unknown): CalmTask | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const id = text(raw.id);
  if (!id) return undefined;
  return {
    id: id.toLowerCase(),
    displayId: text(raw.displayId),
    title: text(raw.title) ?? '',
    description: text(raw.description),
    type: text(raw.type) ?? '',
    status: text(raw.status) ?? '',
    subStatus: text(raw.subStatus),
    priorityId: number(raw.priorityId),
    assigneeId: text(raw.assigneeId),
    projectId: text(raw.projectId)?.toLowerCase(),
    modifiedAt: parseCalmTimestamp(raw.lastChangedTimestamp) ?? parseCalmTimestamp(raw.createdTimestamp) ?? 0,
    raw,
  };
}

export function toTransport(value: unknown): CalmTransport | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const uuid = text(raw.uuid);
  const transportId = text(raw.transportId);
  if (!uuid || !transportId) return undefined;
  return {
    uuid: uuid.toLowerCase(),
    transportId,
    description: text(raw.description),
    owner: text(raw.owner),
    status: text(raw.status) ?? '',
    sourceSystem: text(raw.sourceSystem),
    targetSystem: text(raw.targetSystem),
    modifiedAt: parseCalmTimestamp(raw.modifiedAt) ?? 0,
    raw,
  };
}

export function toLink(value: unknown, parent: string, child: string): [string, string] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const a = text(raw[parent]);
  const b = text(raw[child]);
  return a && b ? [a.toLowerCase(), b.toLowerCase()] : undefined;
}

/** OData DateTimeOffset literal, unquoted. */
export const odataInstant = (ms: number): string => new Date(ms).toISOString();

export function toComment(value: unknown): CalmComment | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const id = text(raw.id);
  if (!id) return undefined;
  return {
    id: id.toLowerCase(),
    taskId: (text(raw.taskId) ?? '').toLowerCase(),
    text: typeof raw.text === 'string' ? raw.text : '',
    createdAt: parseCalmTimestamp(raw.createdTimestamp) ?? 0,
  };
}

export function toExternalReference(value: unknown): CalmExternalReference | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const id = text(raw.id);
  const parentUuid = text(raw.parentUuid);
  if (!id || !parentUuid) return undefined;
  return { id, parentUuid: parentUuid.toLowerCase(), name: text(raw.name), url: text(raw.url) };
}

const firstText = (raw: Record<string, unknown>, names: string[]): string | undefined => {
  for (const name of names) {
    const value = text(raw[name]);
    if (value) return value;
  }
  return undefined;
};

/**
 * A task relation, read tolerantly (the shape is INFERRED): `sourceTaskId`/`targetTaskId`/`type`
 * as the sandbox answers, or the usual alternatives. Types are upper case with underscores
 * (`depends-on` → `DEPENDS_ON`); without an id, one is made of the ends and the type.
 */
export function toTaskRelation(value: unknown): CalmTaskRelation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const source = firstText(raw, ['sourceTaskId', 'sourceId', 'source', 'fromTaskId', 'fromId']);
  const target = firstText(raw, ['targetTaskId', 'targetId', 'target', 'toTaskId', 'toId']);
  const type = firstText(raw, ['type', 'relationType', 'kind']);
  if (!source || !target || !type) return undefined;
  const normalised = type
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  const sourceTaskId = source.toLowerCase();
  const targetTaskId = target.toLowerCase();
  return {
    id: firstText(raw, ['id', 'uuid'])?.toLowerCase() ?? `${sourceTaskId}:${normalised}:${targetTaskId}`,
    sourceTaskId,
    targetTaskId,
    type: normalised,
  };
}

/** A relation list: an array, or one wrapped in `value`, `relations` or `items`. */
export function toTaskRelations(body: unknown): CalmTaskRelation[] | undefined {
  const wrapped = body as Record<string, unknown> | null;
  const list = Array.isArray(body)
    ? body
    : [wrapped?.value, wrapped?.relations, wrapped?.items].find((entry) => Array.isArray(entry));
  if (!Array.isArray(list)) return undefined;
  return list.map(toTaskRelation).filter((relation): relation is CalmTaskRelation => relation !== undefined);
}
