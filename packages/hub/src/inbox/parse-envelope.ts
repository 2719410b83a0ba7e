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

/**
 * Field names (lower case) by what they name, best first: `fields` gives each accepted name its
 * slot and its rank in that slot.
 */
function names(...slots: string[][]): Map<string, readonly [number, number]> {
  const fields = new Map<string, readonly [number, number]>();
  slots.forEach((slot, index) => {
    slot.forEach((name, rank) => {
      fields.set(name, [index, rank]);
    });
  });
  return fields;
}

const ENVELOPE = names(
  ['resourcetype', 'resource_type', 'objecttype'],
  ['eventtype', 'event_type', 'event', 'type'],
  ['resourceid', 'resource_id', 'objectid'],
  ['resource', 'data', 'payload'],
);
const RESOURCE = names(['uuid', 'id'], ['modifiedat', 'lastchangedtimestamp', 'changedat'], ['type']);

/**
 * One value per slot of `fields`, matching names in any casing, in one pass over the record's
 * keys: for each slot, the best-ranked name present (of several casings of it, the first).
 */
function pick(record: Record<string, unknown>, fields: Map<string, readonly [number, number]>): unknown[] {
  const values: unknown[] = [];
  const ranks: number[] = [];
  for (const key in record) {
    const field = fields.get(lowerCase(key));
    if (field === undefined) continue;
    const [slot, rank] = field;
    if (ranks[slot] !== undefined && (ranks[slot] as number) <= rank) continue;
    ranks[slot] = rank;
    values[slot] = record[key];
  }
  return values;
}

/**
 * Field names in lower case, kept: the same few names come with every delivery, and lowering
 * each again cost more than the rest of reading the envelope. Bounded, as names are the sender's.
 */
const lowered = new Map<string, string>();
function lowerCase(name: string): string {
  let lower = lowered.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowered.size >= 1000) lowered.clear();
    lowered.set(name, lower);
  }
  return lower;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<
    string,
    unknown
  >;

export function parseEnvelope(body: unknown): Envelope {
  const [resourceTypeValue, eventTypeValue, resourceIdValue, resourceValue] = pick(asRecord(body), ENVELOPE);
  const [uuid, timestamp, type] = pick(asRecord(resourceValue), RESOURCE);
  const resourceType = str(resourceTypeValue)?.toUpperCase();
  const eventType = str(eventTypeValue)?.toUpperCase();
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
    resourceId: str(resourceIdValue) ?? str(uuid),
    resourceTimestamp: str(timestamp),
    taskType: str(type)?.toUpperCase(),
  };
}

/**
 * How a delivery is recognised when it comes again: the Standard Webhooks `webhook-id` header,
 * else resource id + event type + the resource's own timestamp, else a hash of the body.
 */
export function dedupeKey(webhookId: string | undefined, envelope: Envelope, body: Buffer): string {
  if (webhookId) return `id:${webhookId}`;
  if (envelope.resourceId && envelope.eventType && envelope.resourceTimestamp)
    return wellFormed(
      `res:${envelope.resourceId.toLowerCase()}:${envelope.eventType}:${envelope.resourceTimestamp}`,
    );
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/**
 * A key from the body may hold a lone surrogate (JSON's `"\ud800"`); stored as UTF-8 it becomes
 * U+FFFD, so it is compared and stored in that form from the start, or a resend would not match.
 */
const wellFormed = (key: string): string => (key as string & { toWellFormed(): string }).toWellFormed();
