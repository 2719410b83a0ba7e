import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  constantTimeEqual,
  type Dialect,
  fixedSql,
  matchesSecretBytes,
  type SecretBox,
  sqlPlaceholders,
  writeJson,
} from '@calmhub/platform';
import type { CompiledQuery, Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { HubTables, WebhookInboxTable } from '../store/tables.js';
import type { LandedDelivery } from './landing-journal.js';
import { dedupeKey, type Envelope, parseEnvelope } from './parse-envelope.js';

/**
 * What the webhook edge does to a delivery before storing it, on either store: the path's ids,
 * key and Basic credential checked against the integration's row, the body understood, its id
 * and dedupe key, and the inbox row it becomes.
 */

export interface Delivery {
  tenantId: string;
  projectId: string;
  integrationId: string;
  secretKey: string | undefined;
  authorization: string | undefined;
  webhookId: string | undefined;
  /** As received; only those that help to understand a delivery are kept (KEPT_HEADERS). */
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The hub calling itself to prove routing and key. */
  selfTest?: boolean;
}

export type IngestResult =
  | { outcome: 'accepted' | 'duplicate'; id: string }
  | { outcome: 'unknown_endpoint' }
  | { outcome: 'malformed'; message: string };

export const UNKNOWN = { outcome: 'unknown_endpoint' } as const;

/** Headers kept with a delivery: what helps to understand it, never credentials (Node gives names in lower case). */
const KEPT_HEADERS = new Set([
  'content-type',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'x-request-id',
  'x-correlation-id',
]);
const KEPT_HEADER_PREFIXES = ['x-sap-', 'ce-'];
const isKept = (name: string) =>
  KEPT_HEADERS.has(name) || KEPT_HEADER_PREFIXES.some((p) => name.startsWith(p));
/** Stateless between calls (no `stream` option), so one serves every delivery. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type IntegrationRow = {
  id: string;
  tenant_id: string;
  project_id: string;
  enabled: number;
  webhook_secret_sealed: string;
  basic_user: string | null;
  basic_password_sealed: string | null;
  first_event_at: number | null;
  last_event_at: number | null;
};

const INTEGRATION_COLUMNS =
  'select i.id, i.tenant_id, i.project_id, i.enabled, i.webhook_secret_sealed, w.basic_user, ' +
  'w.basic_password_sealed, w.first_event_at, w.last_event_at from hub_integrations as i ' +
  'left join hub_webhook_state as w on w.integration_id = i.id ';

/** The integrations a batch names, with what checking a delivery needs (fixed SQL, see fixedSql). */
export function integrationsSql(dialect: Dialect, count: number): string {
  return fixedSql(
    'ingest integrations',
    dialect,
    count,
    () => `${INTEGRATION_COLUMNS}where i.id in (${sqlPlaceholders(dialect, 0, count)})`,
  );
}

/** One integration, with what checking a delivery needs (SQLite). */
export const INTEGRATION_SQL = `${INTEGRATION_COLUMNS}where i.id = ?`;

function keptHeaders(headers: IncomingHttpHeaders): string {
  const kept: Record<string, string> = {};
  for (const name in headers) {
    if (!isKept(name)) continue;
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) kept[name] = first;
  }
  return writeJson(kept);
}

function basicMatches(authorization: string | undefined, user: string, password: string): boolean {
  const presented = /^Basic\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
  return constantTimeEqual(presented, Buffer.from(`${user}:${password}`).toString('base64'));
}

/** An opened key or Basic password, and its bytes for constant-time comparisons. */
interface Opened {
  value: string;
  bytes: Buffer;
}

/**
 * Opened keys and Basic passwords, by their sealed text: a rotated key or a changed password is
 * another sealed text, so a hit is always exact. Only ever filled from rows just read.
 */
const opened = new WeakMap<SecretBox, Map<string, Opened | undefined>>();
const OPENED_MAX = 1000;
/** What a presented key is compared with when there is no key to compare it with. */
const NO_KEY = Buffer.alloc(43);

function openSealed(secrets: SecretBox, sealed: string): Opened | undefined {
  let cache = opened.get(secrets);
  if (!cache) {
    cache = new Map();
    opened.set(secrets, cache);
  }
  if (cache.has(sealed)) return cache.get(sealed);
  const value = secrets.open(sealed);
  const entry = value === undefined ? undefined : { value, bytes: Buffer.from(value, 'utf8') };
  if (cache.size >= OPENED_MAX) cache.clear();
  cache.set(sealed, entry);
  return entry;
}

/** A delivery that passed the checks: what storing it takes. */
export interface Stored {
  delivery: Delivery;
  integration: IntegrationRow;
  id: string;
  text: string;
  /** The body as stored: as received, but for a leading byte-order mark (which `text` has not either). */
  bytes: Buffer;
  envelope: Envelope;
  ignoredBecause: string | undefined;
  dedupe: string;
}

/** A UTF-8 byte-order mark: decoding drops it from the text, so the stored bytes leave it out too. */
const withoutByteOrderMark = (body: Buffer) =>
  body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? body.subarray(3) : body;

export type Checked = { result: IngestResult } | Stored;

/** Why a delivery of an enabled integration is not processed, from what its body says; undefined when it is. */
function ignoredReason(envelope: Envelope): string | undefined {
  return envelope.kind === 'unknown'
    ? `Not a feature or task event (resourceType ${envelope.resourceType ?? '-'}, eventType ${envelope.eventType ?? '-'})`
    : envelope.resourceId === undefined
      ? 'The event names no resource (no resourceId, resource.uuid or resource.id)'
      : undefined;
}

/**
 * Random bytes for delivery ids, cut from a pool refilled 256 ids at a time: asking the system
 * for 16 bytes per id (what the library does by default) was a system call per delivery.
 */
const randomPool = Buffer.alloc(16 * 256);
let randomPoolOffset = randomPool.length;

function randomBytes16(): Uint8Array {
  if (randomPoolOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  randomPoolOffset += 16;
  return randomPool.subarray(randomPoolOffset - 16, randomPoolOffset);
}

/**
 * Checks the path, key and Basic credential; then that the body is UTF-8 JSON. Every mismatch is
 * the same `unknown_endpoint`, so the answer tells nothing about which part was wrong.
 */
export function check(
  secrets: SecretBox,
  delivery: Delivery,
  integration: IntegrationRow | undefined,
): Checked {
  const matches =
    integration !== undefined &&
    integration.tenant_id === delivery.tenantId.toLowerCase() &&
    integration.project_id === delivery.projectId.toLowerCase();
  // Compared even when nothing was found, so timing says nothing about which part was wrong.
  const key = matches ? openSealed(secrets, integration.webhook_secret_sealed) : undefined;
  const keyMatches = matchesSecretBytes(delivery.secretKey ?? '', key?.bytes ?? NO_KEY);
  if (!matches || key === undefined || !keyMatches) return { result: UNKNOWN };
  if (integration.basic_user) {
    const password = integration.basic_password_sealed
      ? (openSealed(secrets, integration.basic_password_sealed)?.value ?? '')
      : '';
    if (!basicMatches(delivery.authorization, integration.basic_user, password)) return { result: UNKNOWN };
  }

  let text: string;
  try {
    text = UTF8.decode(delivery.body);
  } catch {
    return { result: { outcome: 'malformed', message: 'The body is not valid UTF-8' } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { result: { outcome: 'malformed', message: 'The body is not valid JSON' } };
  }
  const envelope = parseEnvelope(parsed);
  const ignoredBecause = integration.enabled !== 1 ? 'The integration is disabled' : ignoredReason(envelope);
  // Time-ordered: each insert lands on the last page of the primary key's index (a random id
  // dirtied a page of its own per delivery, each a WAL frame at commit).
  const id = uuidv7({ random: randomBytes16() });
  return {
    delivery,
    integration,
    id,
    text,
    bytes: withoutByteOrderMark(delivery.body),
    envelope,
    ignoredBecause,
    dedupe: delivery.selfTest ? `self-test:${id}` : dedupeKey(delivery.webhookId, envelope, delivery.body),
  };
}

/** The columns of an inbox row, in the order inboxValues gives them. */
export const INBOX_COLUMNS = [
  'id',
  'tenant_id',
  'project_id',
  'integration_id',
  'dedupe_key',
  'received_at',
  'headers',
  'body',
  'self_test',
  'state',
  'reason',
  'resource_type',
  'event_type',
  'resource_id',
  'item_kind',
  'duplicates',
  'processed_at',
] as const satisfies ReadonlyArray<keyof WebhookInboxTable>;

/** Appends an inbox row's values to `values`, in INBOX_COLUMNS order: the one place that order is written. */
export function pushInboxValues(values: unknown[], row: WebhookInboxTable): void {
  for (const column of INBOX_COLUMNS) values.push(row[column]);
}

/** What the edge decided of a delivery besides storing it: a self-test is done, an ignored one has its reason. */
function decided(stored: Stored): { state: 'processed' | 'ignored'; reason: string } | undefined {
  if (stored.delivery.selfTest) return { state: 'processed', reason: 'Self-test: routing and key proven' };
  return stored.ignoredBecause ? { state: 'ignored', reason: stored.ignoredBecause } : undefined;
}

/** The inbox columns that say what a delivery is about. */
export type AboutColumns = Pick<
  WebhookInboxTable,
  'resource_type' | 'event_type' | 'resource_id' | 'item_kind'
>;

function aboutColumns(envelope: Envelope): AboutColumns {
  return {
    resource_type: envelope.resourceType ?? null,
    event_type: envelope.eventType ?? null,
    resource_id: envelope.resourceId?.toLowerCase() ?? null,
    item_kind: envelope.kind === 'unknown' ? null : envelope.kind,
  };
}

/** The inbox row of a checked delivery (PostgreSQL stores it as it is). */
export function inboxRowOf(stored: Stored, now: number): WebhookInboxTable {
  const { delivery, integration, id, text, envelope, dedupe } = stored;
  const decision = decided(stored);
  return {
    id,
    tenant_id: integration.tenant_id,
    project_id: integration.project_id,
    integration_id: integration.id,
    dedupe_key: dedupe,
    received_at: now,
    headers: keptHeaders(delivery.headers),
    body: text,
    self_test: delivery.selfTest ? 1 : 0,
    state: decision?.state ?? 'received',
    reason: decision?.reason ?? null,
    ...aboutColumns(envelope),
    duplicates: 0,
    processed_at: decision ? now : null,
  };
}

/** Separates the about columns in a landing row's `about` (a character none of them holds). */
const ABOUT_SEPARATOR = '\u001f';

/**
 * The about columns as one value: a landing row binds one string instead of four, and the move
 * reads them back without parsing the body again.
 */
function aboutOf(envelope: Envelope): string {
  const about = aboutColumns(envelope);
  const separator = ABOUT_SEPARATOR;
  return `${about.resource_type ?? ''}${separator}${about.event_type ?? ''}${separator}${about.resource_id ?? ''}${separator}${about.item_kind ?? ''}`;
}

/** The about columns back from a landing row's `about` (aboutOf). */
export function aboutColumnsOf(about: string): AboutColumns {
  const [resourceType, eventType, resourceId, itemKind] = about.split(ABOUT_SEPARATOR);
  return {
    resource_type: resourceType || null,
    event_type: eventType || null,
    resource_id: resourceId || null,
    item_kind: itemKind === 'feature' || itemKind === 'story' ? itemKind : null,
  };
}

/** What the landing journal keeps of a checked delivery besides its body (see landing-journal.ts). */
export function landedDelivery(stored: Stored, now: number): Omit<LandedDelivery, 'body'> {
  const { delivery, integration, id, dedupe, envelope } = stored;
  const decision = decided(stored);
  return {
    id,
    integrationId: integration.id,
    dedupeKey: dedupe,
    receivedAt: now,
    headers: keptHeaders(delivery.headers),
    selfTest: delivery.selfTest ? 1 : 0,
    state: decision?.state ?? null,
    reason: decision?.reason ?? null,
    about: aboutOf(envelope),
    duplicates: 0,
  };
}

/**
 * The writes to `hub_webhook_state` once deliveries are stored: "last event received" for each
 * integration in `received` (to the second is plenty: under a burst, not one write per delivery),
 * and the time of each self-test.
 */
export function webhookStateUpdates(
  db: Kysely<HubTables>,
  received: Iterable<IntegrationRow>,
  selfTested: Iterable<IntegrationRow>,
  now: number,
): CompiledQuery[] {
  const queries: CompiledQuery[] = [];
  for (const integration of selfTested) queries.push(webhookStateQuery(db, integration.id, now, true));
  for (const integration of received) {
    const fresh =
      integration.first_event_at !== null &&
      integration.last_event_at !== null &&
      now - integration.last_event_at < 1000;
    if (!fresh) queries.push(webhookStateQuery(db, integration.id, now, false));
  }
  return queries;
}

function webhookStateQuery(
  db: Kysely<HubTables>,
  integrationId: string,
  now: number,
  selfTest: boolean,
): CompiledQuery {
  return db
    .insertInto('hub_webhook_state')
    .values({
      integration_id: integrationId,
      basic_user: null,
      basic_password_sealed: null,
      first_event_at: selfTest ? null : now,
      last_event_at: selfTest ? null : now,
      self_test_at: selfTest ? now : null,
    })
    .onConflict((oc) =>
      oc.column('integration_id').doUpdateSet(
        selfTest
          ? { self_test_at: now }
          : (eb) => ({
              last_event_at: now,
              first_event_at: eb.fn.coalesce('hub_webhook_state.first_event_at', eb.val(now)),
            }),
      ),
    )
    .compile();
}
