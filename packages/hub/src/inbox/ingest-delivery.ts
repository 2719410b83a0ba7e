import { randomUUID } from 'node:crypto';
import { constantTimeEqual, writeJson } from '@calmhub/platform';
import type { HubDeps } from '../app/deps.js';
import { processDeliveryJob } from './jobs.js';
import { dedupeKey, parseEnvelope } from './parse-envelope.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'queue'>;

export interface Delivery {
  tenantId: string;
  projectId: string;
  integrationId: string;
  secretKey: string | undefined;
  authorization: string | undefined;
  webhookId: string | undefined;
  headers: Record<string, string>;
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

function basicMatches(authorization: string | undefined, user: string, password: string): boolean {
  const presented = /^Basic\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
  return constantTimeEqual(presented, Buffer.from(`${user}:${password}`).toString('base64'));
}

/**
 * The webhook edge: checks the path's ids and key (and Basic when the integration asks for it),
 * then stores the raw delivery and enqueues its processing in one transaction. Every mismatch is
 * the same `unknown_endpoint`, so the answer tells nothing about which part was wrong.
 */
export async function ingestDelivery(deps: Deps, delivery: Delivery): Promise<IngestResult> {
  const unknown = { outcome: 'unknown_endpoint' } as const;
  if (!UUID.test(delivery.integrationId) || !UUID.test(delivery.tenantId) || !UUID.test(delivery.projectId))
    return unknown;
  const integration = await deps.db
    .selectFrom('hub_integrations as i')
    .leftJoin('hub_webhook_state as w', 'w.integration_id', 'i.id')
    .select([
      'i.id',
      'i.enabled',
      'i.webhook_secret_sealed',
      'w.basic_user',
      'w.basic_password_sealed',
      'w.first_event_at',
      'w.last_event_at',
    ])
    .where('i.id', '=', delivery.integrationId.toLowerCase())
    .where('i.tenant_id', '=', delivery.tenantId.toLowerCase())
    .where('i.project_id', '=', delivery.projectId.toLowerCase())
    .executeTakeFirst();
  // Compared even when nothing was found, so timing says nothing about which part was wrong.
  const key = integration ? deps.secrets.open(integration.webhook_secret_sealed) : undefined;
  const keyMatches = constantTimeEqual(delivery.secretKey ?? '', key ?? '\u0000');
  if (!integration || key === undefined || !keyMatches) return unknown;
  if (integration.basic_user) {
    const password = integration.basic_password_sealed
      ? (deps.secrets.open(integration.basic_password_sealed) ?? '')
      : '';
    if (!basicMatches(delivery.authorization, integration.basic_user, password)) return unknown;
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(delivery.body);
  } catch {
    return { outcome: 'malformed', message: 'The body is not valid UTF-8' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { outcome: 'malformed', message: 'The body is not valid JSON' };
  }
  const envelope = parseEnvelope(parsed);
  const now = deps.clock.now();
  const ignoredBecause =
    integration.enabled !== 1
      ? 'The integration is disabled'
      : envelope.kind === 'unknown'
        ? `Not a feature or task event (resourceType ${envelope.resourceType ?? '-'}, eventType ${envelope.eventType ?? '-'})`
        : envelope.resourceId === undefined
          ? 'The event names no resource (no resourceId, resource.uuid or resource.id)'
          : undefined;
  const headers = Object.fromEntries(
    Object.entries(delivery.headers).filter(([name]) => KEPT_HEADERS.test(name)),
  );
  const id = randomUUID();
  return deps.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('hub_webhook_inbox')
      .values({
        id,
        tenant_id: delivery.tenantId.toLowerCase(),
        project_id: delivery.projectId.toLowerCase(),
        integration_id: integration.id,
        dedupe_key: delivery.selfTest
          ? `self-test:${id}`
          : dedupeKey(delivery.webhookId, envelope, delivery.body),
        received_at: now,
        headers: writeJson(headers),
        body: text,
        self_test: delivery.selfTest ? 1 : 0,
        state: delivery.selfTest ? 'processed' : ignoredBecause ? 'ignored' : 'received',
        reason: delivery.selfTest ? 'Self-test: routing and key proven' : (ignoredBecause ?? null),
        resource_type: envelope.resourceType ?? null,
        event_type: envelope.eventType ?? null,
        resource_id: envelope.resourceId?.toLowerCase() ?? null,
        item_kind: envelope.kind === 'unknown' ? null : envelope.kind,
        duplicates: 0,
        processed_at: delivery.selfTest || ignoredBecause ? now : null,
      })
      .onConflict((oc) => oc.columns(['integration_id', 'dedupe_key']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      const key = dedupeKey(delivery.webhookId, envelope, delivery.body);
      const existing = await trx
        .updateTable('hub_webhook_inbox')
        .set((eb) => ({ duplicates: eb('duplicates', '+', 1) }))
        .where('integration_id', '=', integration.id)
        .where('dedupe_key', '=', key)
        .returning('id')
        .executeTakeFirstOrThrow();
      return { outcome: 'duplicate' as const, id: existing.id };
    }
    // "Last event received" to the second is plenty: under a burst, not one extra write per delivery.
    const stateIsFresh =
      !delivery.selfTest &&
      integration.first_event_at !== null &&
      integration.last_event_at !== null &&
      now - integration.last_event_at < 1000;
    if (!stateIsFresh)
      await trx
        .insertInto('hub_webhook_state')
        .values({
          integration_id: integration.id,
          basic_user: null,
          basic_password_sealed: null,
          first_event_at: delivery.selfTest ? null : now,
          last_event_at: delivery.selfTest ? null : now,
          self_test_at: delivery.selfTest ? now : null,
        })
        .onConflict((oc) =>
          oc.column('integration_id').doUpdateSet(
            delivery.selfTest
              ? { self_test_at: now }
              : (eb) => ({
                  last_event_at: now,
                  first_event_at: eb.fn.coalesce('hub_webhook_state.first_event_at', eb.val(now)),
                }),
          ),
        )
        .execute();
    if (!delivery.selfTest && !ignoredBecause) {
      await deps.queue.enqueue(processDeliveryJob(integration.id, id, envelope.resourceId), trx);
    }
    return { outcome: 'accepted' as const, id };
  });
}
