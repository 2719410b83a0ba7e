import { RetryJobError } from '@calmhub/platform';
import type { HubDeps } from '../app/deps.js';
import {
  inTransaction,
  integrationAudit,
  recordAudit,
  recordAudits,
  systemAudit,
} from '../audit/record-audit.js';
import type { AuditEntry } from '../audit/types.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import type { WebhookInboxTable } from '../store/tables.js';
import { applyFeatures, applyStories } from '../sync/apply-items.js';
import { USER_STORY } from '../sync/run-sync.js';
import { parseEnvelope } from './parse-envelope.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors' | 'queue' | 'logger'>;

type Settled = Pick<WebhookInboxTable, 'id' | 'tenant_id' | 'project_id' | 'event_type' | 'resource_id'>;

/** Every delivery processed is in the audit log, with what came of it. */
function outcomeEntry(
  integration: { id: string; name: string } | undefined,
  delivery: Settled,
  state: WebhookInboxTable['state'],
  reason: string | null,
  now: number,
): AuditEntry {
  return {
    ...(integration ? integrationAudit(integration) : systemAudit('webhook')),
    tenantId: delivery.tenant_id,
    projectId: delivery.project_id,
    occurredAt: now,
    kind: state === 'processed' ? 'webhook.processed' : 'webhook.ignored',
    object: {
      kind: 'webhook_delivery',
      id: delivery.id,
      label: `${delivery.event_type ?? '-'} ${delivery.resource_id ?? ''}`.trim(),
    },
    after: { state, reason },
    role: null,
  };
}

async function finish(
  deps: Deps,
  id: string,
  state: WebhookInboxTable['state'],
  reason: string | null,
  db: Pick<Deps, 'db'>['db'] = deps.db,
): Promise<void> {
  const now = deps.clock.now();
  await inTransaction(db, async (trx) => {
    const delivery = await trx
      .updateTable('hub_webhook_inbox')
      .set({ state, reason, processed_at: now })
      .where('id', '=', id)
      // Only the first to finish it: a second run of the same job changes and audits nothing.
      .where('state', '=', 'received')
      .returning(['id', 'tenant_id', 'project_id', 'integration_id', 'event_type', 'resource_id'])
      .executeTakeFirst();
    if (!delivery) return;
    const integration = await trx
      .selectFrom('hub_integrations')
      .select(['id', 'name'])
      .where('id', '=', delivery.integration_id)
      .executeTakeFirst();
    await recordAudit(trx, outcomeEntry(integration, delivery, state, reason, now));
  });
}

/**
 * Processes one stored delivery: the item is read from Cloud ALM's API (the push payload is not
 * trusted for content; SAP documents no FEATURE resource) and written through the same function
 * as every sync, so a status change becomes one transition whichever path saw it first.
 */
export async function processDelivery(deps: Deps, deliveryId: string): Promise<void> {
  const delivery = await deps.db
    .selectFrom('hub_webhook_inbox')
    .selectAll()
    .where('id', '=', deliveryId)
    .executeTakeFirst();
  if (!delivery) return;
  const resourceId = delivery.resource_id;
  // Deliveries about the same item that joined this job while it waited (processDeliveryJob's
  // `coalesce`), and any the read below does not settle (an ignored one settles only itself).
  // Every delivery that joined committed before this job was claimed, so it is among those
  // waiting now, up to `last`; one stored later has a job of its own. Each at most once, in order.
  const pending = () =>
    deps.db
      .selectFrom('hub_webhook_inbox')
      .where('integration_id', '=', delivery.integration_id)
      .where('resource_id', '=', resourceId)
      .where('state', '=', 'received')
      .where('self_test', '=', 0)
      .where('id', '!=', delivery.id);
  const last =
    resourceId === null
      ? undefined
      : await pending()
          .select(['received_at', 'id'])
          .orderBy('received_at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
  if (delivery.state === 'received') await processOne(deps, delivery);
  if (!last) return;
  let after: { receivedAt: number; id: string } | undefined;
  for (;;) {
    let query = pending()
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('received_at', '<', last.received_at),
          eb.and([eb('received_at', '=', last.received_at), eb('id', '<=', last.id)]),
        ]),
      );
    if (after) {
      const { receivedAt, id } = after;
      query = query.where((eb) =>
        eb.or([
          eb('received_at', '>', receivedAt),
          eb.and([eb('received_at', '=', receivedAt), eb('id', '>', id)]),
        ]),
      );
    }
    const next = await query.orderBy('received_at').orderBy('id').limit(1).executeTakeFirst();
    if (!next) return;
    // SQLite answers synchronously: without this a long run of deliveries that need no read
    // would hold the event loop, and the webhook edge with it, until the last one.
    await new Promise((resolve) => setImmediate(resolve));
    await processOne(deps, next);
    after = { receivedAt: next.received_at, id: next.id };
  }
}

async function processOne(deps: Deps, delivery: WebhookInboxTable): Promise<void> {
  const deliveryId = delivery.id;
  const envelope = parseEnvelope(JSON.parse(delivery.body));
  const integration = await deps.db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('id', '=', delivery.integration_id)
    .executeTakeFirst();
  if (!integration) return finish(deps, deliveryId, 'ignored', 'The integration no longer exists');
  const resourceId = (envelope.resourceId ?? '').toLowerCase();
  // An event about a change the hub's copy already has (its own write-back echoed, a resend, a
  // late delivery) needs no read: its timestamp is not newer than the copy's.
  const copiedAt = await copyChangedAt(deps, integration.id, envelope.kind, resourceId);
  const sentAt = timestampOf(envelope.resourceTimestamp);
  if (copiedAt !== undefined && sentAt !== undefined && sentAt <= copiedAt)
    return finish(
      deps,
      deliveryId,
      'processed',
      `Not newer than the hub's copy (changed ${new Date(copiedAt).toISOString()}): nothing to read`,
    );
  const scope = {
    tenantId: integration.tenant_id,
    projectId: integration.project_id,
    integrationId: integration.id,
  };
  try {
    const credential = await resolveCredentialForProject(
      deps,
      integration.tenant_id,
      integration.project_id,
      integration.credential_id,
    );
    const client = deps.connectors.cloudAlm(credential, integration.host_url);
    const now = deps.clock.now();
    if (envelope.kind === 'feature') {
      const feature = await client.getFeature(resourceId);
      if (!feature)
        return finish(
          deps,
          deliveryId,
          'ignored',
          `Feature ${resourceId} is not (or no longer) visible in Cloud ALM`,
        );
      if (feature.projectId && feature.projectId !== integration.calm_project_id.toLowerCase())
        return finish(
          deps,
          deliveryId,
          'ignored',
          `Feature ${resourceId} belongs to another Cloud ALM project`,
        );
      await deps.db.transaction().execute(async (trx) => {
        const result = await applyFeatures(trx, deps.queue, scope, [feature], 'webhook', now);
        await finish(deps, deliveryId, 'processed', describe(result), trx);
        await settleEarlier(deps, trx, integration, delivery, now);
      });
      return;
    }
    const task = await client.getTask(resourceId);
    if (!task)
      return finish(
        deps,
        deliveryId,
        'ignored',
        `Task ${resourceId} is not (or no longer) visible in Cloud ALM`,
      );
    if (task.type !== USER_STORY)
      return finish(deps, deliveryId, 'ignored', `Task ${resourceId} is a ${task.type}, not a user story`);
    if (task.projectId && task.projectId !== integration.calm_project_id.toLowerCase())
      return finish(deps, deliveryId, 'ignored', `Task ${resourceId} belongs to another Cloud ALM project`);
    const links = await client.taskAssignments({ taskIds: [task.id], pageSize: 10 }, null);
    await deps.db.transaction().execute(async (trx) => {
      const result = await applyStories(trx, deps.queue, scope, [task], 'webhook', now);
      await trx
        .updateTable('hub_calm_stories')
        .set({ feature_calm_uuid: links.items[0]?.featureUuid ?? null, link_synced_at: now })
        .where('integration_id', '=', integration.id)
        .where('calm_id', '=', task.id)
        .execute();
      await finish(deps, deliveryId, 'processed', describe(result), trx);
      await settleEarlier(deps, trx, integration, delivery, now);
    });
  } catch (error) {
    if (!(error instanceof RemoteCallError)) throw error;
    if (error.retryable) throw new RetryJobError(`delivery ${deliveryId}: ${error.message}`, error.retryAt);
    await finish(deps, deliveryId, 'failed', error.message);
  }
}

/** Epoch ms of a resource timestamp as sent (ISO text or a number), when it is one. */
function timestampOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** When the hub's copy of the item last changed in Cloud ALM, if the hub has one. */
async function copyChangedAt(
  deps: Deps,
  integrationId: string,
  kind: string,
  resourceId: string,
): Promise<number | undefined> {
  if (kind === 'feature') {
    const row = await deps.db
      .selectFrom('hub_calm_features')
      .select('modified_at')
      .where('integration_id', '=', integrationId)
      .where('calm_uuid', '=', resourceId)
      .executeTakeFirst();
    return row?.modified_at;
  }
  if (kind !== 'story') return undefined;
  const row = await deps.db
    .selectFrom('hub_calm_stories')
    .select('modified_at')
    .where('integration_id', '=', integrationId)
    .where('calm_id', '=', resourceId)
    .executeTakeFirst();
  return row?.modified_at;
}

/**
 * One read of the item settles every delivery about it that was received before the read began:
 * their content is not trusted anyway, Cloud ALM's state is. Under a burst about a few items this
 * turns thousands of reads into a few; each settled delivery is marked processed (and audited).
 */
async function settleEarlier(
  deps: Deps,
  trx: Pick<Deps, 'db'>['db'],
  integration: { id: string; name: string },
  delivery: WebhookInboxTable,
  readStartedAt: number,
): Promise<void> {
  if (!delivery.resource_id) return;
  const now = deps.clock.now();
  const reason = `Covered by the read for delivery ${delivery.id}`;
  // One statement for all of them; each still gets its audit entry.
  const settled = await trx
    .updateTable('hub_webhook_inbox')
    .set({ state: 'processed', reason, processed_at: now })
    .where('integration_id', '=', delivery.integration_id)
    .where('resource_id', '=', delivery.resource_id)
    .where('state', '=', 'received')
    .where('id', '!=', delivery.id)
    .where('received_at', '<=', readStartedAt)
    .returning(['id', 'tenant_id', 'project_id', 'event_type', 'resource_id'])
    .execute();
  await recordAudits(
    trx,
    settled.map((other) => outcomeEntry(integration, other, 'processed', reason, now)),
  );
}

function describe(result: { created: number; updated: number; transitions: number }): string {
  if (result.transitions > 0) return 'Status change recorded';
  if (result.created > 0) return 'New item added';
  if (result.updated > 0) return 'Item updated';
  return 'Already up to date (seen first by another path, or an older event)';
}
