import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  constantTimeEqual,
  type Dialect,
  fixedSql,
  matchesSecretDigest,
  multiRowInsertSql,
  type SecretBox,
  type SqliteAccess,
  secretDigest,
  sqlPlaceholders,
  writeJson,
} from '@calmhub/platform';
import { CompiledQuery, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { HubDeps } from '../app/deps.js';
import type { HubTables } from '../store/tables.js';
import { edgePressure, HEAVY_BURST_PER_SECOND } from './edge-pressure.js';
import { processDeliveryJob } from './jobs.js';
import { INBOX_COLUMNS, landDeliveries, landingFor } from './landing.js';
import { dedupeKey, type Envelope, parseEnvelope } from './parse-envelope.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'queue' | 'store'>;

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Headers kept with a delivery: what helps to understand it, never credentials. */
const KEPT_HEADERS =
  /^(content-type|user-agent|webhook-id|webhook-timestamp|x-request-id|x-correlation-id|x-sap-.*|ce-.*)$/i;
const UNKNOWN = { outcome: 'unknown_endpoint' } as const;
/** Most deliveries stored in one transaction; more wait for the next one. */
const MAX_BATCH = 256;
/** Rows per INSERT statement (17 columns each: far below both engines' bound-parameter limits). */
const INSERT_CHUNK = 100;
/** Stateless between calls (no `stream` option), so one serves every delivery. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The integrations lookup every batch runs is fixed SQL (see fixedSql). */
function integrationsSql(dialect: Dialect, count: number): string {
  return fixedSql(
    'ingest integrations',
    dialect,
    count,
    () =>
      'select i.id, i.tenant_id, i.project_id, i.enabled, i.webhook_secret_sealed, w.basic_user, ' +
      'w.basic_password_sealed, w.first_event_at, w.last_event_at from hub_integrations as i ' +
      'left join hub_webhook_state as w on w.integration_id = i.id ' +
      `where i.id in (${sqlPlaceholders(dialect, 0, count)})`,
  );
}

function keptHeaders(headers: IncomingHttpHeaders): string {
  const kept: Record<string, string> = {};
  for (const name in headers) {
    if (!KEPT_HEADERS.test(name)) continue;
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

/**
 * The webhook edge: checks the path's ids and key (and Basic when the integration asks for it),
 * then stores the raw delivery durably with what processes it (PostgreSQL: the inbox row and its
 * job; SQLite: a landing row, see landing.ts) in one transaction. Every mismatch is
 * the same `unknown_endpoint`, so the answer tells nothing about which part was wrong.
 *
 * Group commit: the deliveries that arrive while the store is busy (or within the same event-loop
 * turn) are checked and stored together, in one transaction, and each caller gets its answer once
 * that transaction has committed: an `accepted` means the row is in the store. The integration
 * row is read inside that transaction, so a disabled integration, a new key or a changed Basic
 * credential holds for every delivery stored after it committed (no cache of the row).
 */
export function ingestDelivery(deps: Deps, delivery: Delivery): Promise<IngestResult> {
  if (!UUID.test(delivery.integrationId) || !UUID.test(delivery.tenantId) || !UUID.test(delivery.projectId))
    return Promise.resolve(UNKNOWN);
  return batcherFor(deps).submit(delivery);
}

interface Waiting {
  delivery: Delivery;
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
}

const batchers = new WeakMap<object, IngestBatcher>();

/** One batcher per store (a hub process has one; tests start several hubs in one process). */
function batcherFor(deps: Deps): IngestBatcher {
  let batcher = batchers.get(deps.db);
  if (!batcher) {
    batcher = new IngestBatcher(deps);
    batchers.set(deps.db, batcher);
  }
  return batcher;
}

class IngestBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private writing = false;
  constructor(private readonly deps: Deps) {}

  submit(delivery: Delivery): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      this.schedule();
    });
  }

  /**
   * One transaction at a time: deliveries arriving while one is written go into the next. On
   * SQLite the writes take no event-loop turn, so a batch is what arrived in one turn; on
   * PostgreSQL it is what arrived during the previous batch's round trips.
   */
  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.writing = true;
    try {
      await this.write(batch);
    } finally {
      this.writing = false;
      if (this.waiting.length > 0) this.schedule();
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    let results: IngestResult[];
    try {
      edgePressure(this.deps.db).rate.add(batch.length);
      results = await ingestTogether(
        this.deps,
        batch.map((w) => w.delivery),
      );
    } catch (error) {
      if (batch.length === 1) {
        (batch[0] as Waiting).reject(error);
        return;
      }
      // A delivery that cannot be stored must not fail the others: each again on its own.
      for (const waiting of batch) {
        try {
          waiting.resolve((await ingestTogether(this.deps, [waiting.delivery]))[0] as IngestResult);
        } catch (single) {
          waiting.reject(single);
        }
      }
      return;
    }
    for (const [index, waiting] of batch.entries()) waiting.resolve(results[index] as IngestResult);
  }
}

/** An opened key or Basic password, and its digest for constant-time comparisons. */
interface Opened {
  value: string;
  digest: Buffer;
}

/**
 * Opened keys and Basic passwords, by their sealed text: a rotated key or a changed password is
 * another sealed text, so a hit is always exact. Only ever filled from rows just read.
 */
const opened = new WeakMap<SecretBox, Map<string, Opened | undefined>>();
const OPENED_MAX = 1000;
/** What a presented key is compared with when there is no key to compare it with. */
const NO_KEY = secretDigest('\u0000');

function openSealed(secrets: SecretBox, sealed: string): Opened | undefined {
  let cache = opened.get(secrets);
  if (!cache) {
    cache = new Map();
    opened.set(secrets, cache);
  }
  if (cache.has(sealed)) return cache.get(sealed);
  const value = secrets.open(sealed);
  const entry = value === undefined ? undefined : { value, digest: secretDigest(value) };
  if (cache.size >= OPENED_MAX) cache.clear();
  cache.set(sealed, entry);
  return entry;
}

type IntegrationRow = {
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

type Checked =
  | { result: IngestResult }
  | {
      delivery: Delivery;
      integration: IntegrationRow;
      id: string;
      text: string;
      envelope: Envelope;
      ignoredBecause: string | undefined;
      dedupe: string;
    };

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

/** Checks the path, key and Basic credential; then that the body is UTF-8 JSON. */
function check(deps: Deps, delivery: Delivery, integration: IntegrationRow | undefined): Checked {
  const matches =
    integration !== undefined &&
    integration.tenant_id === delivery.tenantId.toLowerCase() &&
    integration.project_id === delivery.projectId.toLowerCase();
  // Compared even when nothing was found, so timing says nothing about which part was wrong.
  const key = matches ? openSealed(deps.secrets, integration.webhook_secret_sealed) : undefined;
  const keyMatches = matchesSecretDigest(delivery.secretKey ?? '', key?.digest ?? NO_KEY);
  if (!matches || key === undefined || !keyMatches) return { result: UNKNOWN };
  if (integration.basic_user) {
    const password = integration.basic_password_sealed
      ? (openSealed(deps.secrets, integration.basic_password_sealed)?.value ?? '')
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
  const ignoredBecause =
    integration.enabled !== 1
      ? 'The integration is disabled'
      : envelope.kind === 'unknown'
        ? `Not a feature or task event (resourceType ${envelope.resourceType ?? '-'}, eventType ${envelope.eventType ?? '-'})`
        : envelope.resourceId === undefined
          ? 'The event names no resource (no resourceId, resource.uuid or resource.id)'
          : undefined;
  // Time-ordered: each insert lands on the last page of the primary key's index (a random id
  // dirtied a page of its own per delivery, each a WAL frame at commit).
  const id = uuidv7({ random: randomBytes16() });
  return {
    delivery,
    integration,
    id,
    text,
    envelope,
    ignoredBecause,
    dedupe: delivery.selfTest ? `self-test:${id}` : dedupeKey(delivery.webhookId, envelope, delivery.body),
  };
}

type Stored = Exclude<Checked, { result: IngestResult }>;

/** The inbox row of a checked delivery, in INBOX_COLUMNS order. */
function inboxValues(stored: Stored, now: number): unknown[] {
  const { delivery, integration, id, text, envelope, ignoredBecause, dedupe } = stored;
  return [
    id,
    delivery.tenantId.toLowerCase(),
    delivery.projectId.toLowerCase(),
    integration.id,
    dedupe,
    now,
    keptHeaders(delivery.headers),
    text,
    delivery.selfTest ? 1 : 0,
    delivery.selfTest ? 'processed' : ignoredBecause ? 'ignored' : 'received',
    delivery.selfTest ? 'Self-test: routing and key proven' : (ignoredBecause ?? null),
    envelope.resourceType ?? null,
    envelope.eventType ?? null,
    envelope.resourceId?.toLowerCase() ?? null,
    envelope.kind === 'unknown' ? null : envelope.kind,
    0,
    delivery.selfTest || ignoredBecause ? now : null,
  ];
}

/**
 * Checks and stores deliveries in one transaction; one result per delivery, in order. SQLite
 * lands them (see landing.ts) in a synchronous transaction; PostgreSQL stores them in the inbox
 * with their processing jobs.
 */
function ingestTogether(deps: Deps, deliveries: Delivery[]): Promise<IngestResult[]> {
  const integrationIds = [...new Set(deliveries.map((d) => d.integrationId.toLowerCase()))];
  return deps.store.sqlite
    ? landTogether(deps, deps.store.sqlite, deliveries, integrationIds)
    : storeTogether(deps, deliveries, integrationIds);
}

/** Checks each delivery against its integration's row; what to store, and one result per delivery. */
function checkAll(
  deps: Deps,
  deliveries: Delivery[],
  rows: IntegrationRow[],
): { checked: Checked[]; toStore: Stored[] } {
  const integrations = new Map<string, IntegrationRow>(rows.map((row) => [row.id, row]));
  const checked = deliveries.map((d) => check(deps, d, integrations.get(d.integrationId.toLowerCase())));
  return { checked, toStore: checked.filter((c): c is Stored => !('result' in c)) };
}

/**
 * The writes to `hub_webhook_state` after storing: "last event received" for each integration
 * that received one (to the second is plenty: under a burst, not one write per delivery), and the
 * self-test's time.
 */
function webhookStateUpdates(
  deps: Deps,
  toStore: Stored[],
  outcomes: IngestResult[],
  now: number,
): CompiledQuery[] {
  const queries: CompiledQuery[] = [];
  const eventsFor = new Set<IntegrationRow>();
  for (const [index, stored] of toStore.entries()) {
    if (outcomes[index]?.outcome !== 'accepted') continue;
    if (stored.delivery.selfTest) queries.push(webhookStateQuery(deps, stored.integration.id, now, true));
    else eventsFor.add(stored.integration);
  }
  for (const integration of eventsFor) {
    const fresh =
      integration.first_event_at !== null &&
      integration.last_event_at !== null &&
      now - integration.last_event_at < 1000;
    if (!fresh) queries.push(webhookStateQuery(deps, integration.id, now, false));
  }
  return queries;
}

function resultsInOrder(checked: Checked[], toStore: Stored[], outcomes: IngestResult[]): IngestResult[] {
  const results = new Map<Checked, IngestResult>(
    toStore.map((stored, index) => [stored, outcomes[index] as IngestResult]),
  );
  return checked.map((c) => ('result' in c ? c.result : (results.get(c) as IngestResult)));
}

/** SQLite: one synchronous transaction, its statements prepared once (see landing.ts). */
function landTogether(
  deps: Deps,
  sqlite: SqliteAccess,
  deliveries: Delivery[],
  integrationIds: string[],
): Promise<IngestResult[]> {
  const state = landingFor(deps.db);
  if (state instanceof Promise)
    return state.then(() => landTogether(deps, sqlite, deliveries, integrationIds));
  const heavyBurst = edgePressure(deps.db).rate.current() > HEAVY_BURST_PER_SECOND;
  let afterCommit = () => {};
  return sqlite
    .transaction((prepare) => {
      const rows = prepare(integrationsSql('sqlite', integrationIds.length)).all(
        integrationIds,
      ) as IntegrationRow[];
      const now = deps.clock.now();
      const { checked, toStore } = checkAll(deps, deliveries, rows);
      const landed = landDeliveries(
        prepare,
        state,
        deps.queue,
        toStore.map((stored) => ({
          integrationId: stored.integration.id,
          dedupeKey: stored.dedupe,
          id: stored.id,
          values: inboxValues(stored, now),
        })),
        now,
        heavyBurst,
      );
      afterCommit = landed.afterCommit;
      for (const query of webhookStateUpdates(deps, toStore, landed.outcomes, now))
        prepare(query.sql).run(query.parameters);
      return resultsInOrder(checked, toStore, landed.outcomes);
    })
    .then((results) => {
      afterCommit();
      return results;
    });
}

/** PostgreSQL: one transaction through Kysely. */
function storeTogether(
  deps: Deps,
  deliveries: Delivery[],
  integrationIds: string[],
): Promise<IngestResult[]> {
  return deps.db.transaction().execute(async (trx) => {
    const { rows } = await trx.executeQuery<IntegrationRow>(
      CompiledQuery.raw(integrationsSql(deps.queue.dialect, integrationIds.length), integrationIds),
    );
    const now = deps.clock.now();
    const { checked, toStore } = checkAll(deps, deliveries, rows);
    const outcomes = await storeInInbox(trx, deps, toStore, now);
    for (const query of webhookStateUpdates(deps, toStore, outcomes, now)) await trx.executeQuery(query);
    return resultsInOrder(checked, toStore, outcomes);
  });
}

/** PostgreSQL: the deliveries go straight into the inbox, each with its processing job. */
async function storeInInbox(
  trx: Kysely<HubTables>,
  deps: Deps,
  toStore: Stored[],
  now: number,
): Promise<IngestResult[]> {
  const dialect = deps.queue.dialect;
  const inserted = new Set<string>();
  for (let i = 0; i < toStore.length; i += INSERT_CHUNK) {
    const chunk = toStore.slice(i, i + INSERT_CHUNK);
    const { rows: returned } = await trx.executeQuery<{ id: string }>(
      CompiledQuery.raw(
        multiRowInsertSql(
          dialect,
          'hub_webhook_inbox',
          INBOX_COLUMNS,
          chunk.length,
          'on conflict (integration_id, dedupe_key) do nothing returning id',
        ),
        chunk.flatMap((stored) => inboxValues(stored, now)),
      ),
    );
    for (const row of returned) inserted.add(row.id);
  }
  const outcomes: IngestResult[] = [];
  const jobs = [];
  for (const { delivery, integration, id, envelope, ignoredBecause, dedupe } of toStore) {
    if (!inserted.has(id)) {
      // A delivery seen before (here or earlier in this batch): counted on the stored one.
      const existing = await trx
        .updateTable('hub_webhook_inbox')
        .set((eb) => ({ duplicates: eb('duplicates', '+', 1) }))
        .where('integration_id', '=', integration.id)
        .where('dedupe_key', '=', dedupe)
        .returning('id')
        .executeTakeFirstOrThrow();
      outcomes.push({ outcome: 'duplicate', id: existing.id });
      continue;
    }
    outcomes.push({ outcome: 'accepted', id });
    if (!delivery.selfTest && !ignoredBecause)
      jobs.push(processDeliveryJob(integration.id, id, envelope.resourceId));
  }
  if (jobs.length > 0) await deps.queue.enqueueMany(jobs, trx);
  return outcomes;
}

function webhookStateQuery(deps: Deps, integrationId: string, now: number, selfTest: boolean): CompiledQuery {
  return deps.db
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
