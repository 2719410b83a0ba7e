import { createHash } from 'node:crypto';

/**
 * What the hub understands of a Cloud ALM push. SAP documents the envelope
 * (`subscriptionId, resourceType, eventType, resourceId, resource`) but not the FEATURE resource,
 * so `resourceId` is the only field relied on; other casings and names are tolerated
 * (`Feature`, `FEATURE.STATUS_CHANGED`, `id` for `uuid`, no `resource`).
 */
export interface Envelope {
  kind: 'feature' | 'story' | 'unknown';
  resourceType: string | undefined;
  eventType: string | undefined;
  resourceId: string | undefined;
  /** The resource's own change time (`modifiedAt`, `lastChangedTimestamp`), as sent. */
  resourceTimestamp: string | undefined;
  /** Task type when the resource says (`CALMUS` for user stories). */
  taskType: string | undefined;
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== ''
    ? value.trim()
    : typeof value === 'number'
      ? String(value)
      : undefined;

/** A record's keys by their lower case (the first of several with the same lower case wins). */
function byLowerCase(record: Record<string, unknown>): Map<string, unknown> {
  const keys = new Map<string, unknown>();
  for (const key in record) {
    const lower = key.toLowerCase();
    if (!keys.has(lower)) keys.set(lower, record[key]);
  }
  return keys;
}

/** The first of `names` (lower case) the record has, in any casing. */
function pick(keys: Map<string, unknown>, ...names: string[]): unknown {
  for (const name of names) if (keys.has(name)) return keys.get(name);
  return undefined;
}

export function parseEnvelope(body: unknown): Envelope {
  const record = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  const fields = byLowerCase(record);
  const resourceValue = pick(fields, 'resource', 'data', 'payload');
  const resource = byLowerCase(
    (typeof resourceValue === 'object' && resourceValue !== null ? resourceValue : {}) as Record<
      string,
      unknown
    >,
  );
  const resourceType = str(pick(fields, 'resourcetype', 'resource_type', 'objecttype'))?.toUpperCase();
  const eventType = str(pick(fields, 'eventtype', 'event_type', 'event', 'type'))?.toUpperCase();
  const family = resourceType ?? eventType?.split('.')[0];
  const kind =
    family === 'FEATURE' || family === 'FEATURES'
      ? 'feature'
      : family === 'TASK' || family === 'TASKS'
        ? 'story'
        : 'unknown';
  return {
    kind,
    resourceType,
    eventType,
    resourceId:
      str(pick(fields, 'resourceid', 'resource_id', 'objectid')) ?? str(pick(resource, 'uuid', 'id')),
    resourceTimestamp: str(pick(resource, 'modifiedat', 'lastchangedtimestamp', 'changedat')),
    taskType: str(pick(resource, 'type'))?.toUpperCase(),
  };
}

/**
 * How a delivery is recognised when it comes again: the Standard Webhooks `webhook-id` header,
 * else resource id + event type + the resource's own timestamp, else a hash of the body.
 */
export function dedupeKey(webhookId: string | undefined, envelope: Envelope, body: Buffer): string {
  if (webhookId) return `id:${webhookId}`;
  if (envelope.resourceId && envelope.eventType && envelope.resourceTimestamp)
    return `res:${envelope.resourceId.toLowerCase()}:${envelope.eventType}:${envelope.resourceTimestamp}`;
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}
