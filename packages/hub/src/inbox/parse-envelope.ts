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

function pick(record: Record<string, unknown>, ...names: string[]): unknown {
  for (const name of names) {
    for (const key of Object.keys(record)) if (key.toLowerCase() === name.toLowerCase()) return record[key];
  }
  return undefined;
}

export function parseEnvelope(body: unknown): Envelope {
  const record = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  const resourceValue = pick(record, 'resource', 'data', 'payload');
  const resource = (
    typeof resourceValue === 'object' && resourceValue !== null ? resourceValue : {}
  ) as Record<string, unknown>;
  const resourceType = str(pick(record, 'resourceType', 'resource_type', 'objectType'))?.toUpperCase();
  const eventType = str(pick(record, 'eventType', 'event_type', 'event', 'type'))?.toUpperCase();
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
      str(pick(record, 'resourceId', 'resource_id', 'objectId')) ?? str(pick(resource, 'uuid', 'id')),
    resourceTimestamp: str(pick(resource, 'modifiedAt', 'lastChangedTimestamp', 'changedAt')),
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
