import { RetryJobError } from '@calmhub/platform';
import { sql } from 'kysely';
import type { HubDeps } from '../app/deps.js';
import { inTransaction, integrationAudit, recordAudits, systemAudit } from '../audit/record-audit.js';
import type { AuditEntry } from '../audit/types.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import type { WebhookInboxTable } from '../store/tables.js';
import { applyFeatures, applyStories } from '../sync/apply-items.js';
import { USER_STORY } from '../sync/run-sync.js';
import { edgePressure } from './edge-pressure.js';
import { type Envelope, parseEnvelope } from './parse-envelope.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors' | 'queue' | 'logger' | 'config'>;

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

/**
 * Marks deliveries done, each at most once (only those still `received`: a second run of the same
 * job changes and audits nothing), with one audit entry per delivery, in one statement each.
 */
async function finish(
  deps: Deps,
  integration: { id: string; name: string } | undefined,
  deliveries: readonly WebhookInboxTable[],
  state: WebhookInboxTable['state'],
  reason: string,
  db: Pick<Deps, 'db'>['db'] = deps.db,
): Promise<void> {
  if (deliveries.length === 0) return;
  const now = deps.clock.now();
  await inTransaction(db, async (trx) => {
    const settled = await trx
      .updateTable('hub_webhook_inbox')
      .set({ state, reason, processed_at: now })
      .where(
        'id',
        'in',
        deliveries.map((d) => d.id),
      )
      .where('state', '=', 'received')
      .returning(['id', 'tenant_id', 'project_id', 'event_type', 'resource_id'])
      .execute();
    await recordAudits(
      trx,
      settled.map((delivery) => outcomeEntry(integration, delivery, state, reason, now)),
    );
  });
}

/**
 * Written into the SQL as a literal: SQLite uses the partial index of waiting deliveries
 * (`hub_webhook_inbox_waiting`) only when the query's own terms match its WHERE, and a bound
 * parameter never does.
 */
const WAITING = sql.lit('received').$castTo<WebhookInboxTable['state']>();

/** Deliveries about one item settled together: one read of the item covers a whole group. */
const GROUP_SIZE = 100;

/**
 * Processes the deliveries about one item that are waiting, in the order received: the item is
 * read from Cloud ALM's API (the push payload is not trusted for content; SAP documents no
 * FEATURE resource) and written through the same function as every sync, so a status change
 * becomes one transition whichever path saw it first.
 *
 * Deliveries that joined this job while it waited (processDeliveryJob's `coalesce`) committed
 * before it was claimed, so they are among those waiting now, up to `last`; one stored later has
 * a job of its own. They are taken in groups: one read settles a whole group (each delivery was
 * received before the read began, and Cloud ALM's state is what counts, not the payload), and a
 * group whose events are all not newer than the hub's copy needs no read at all. Under a burst
 * about a few items this turns thousands of reads and transactions into a few.
 */
export async function processDelivery(deps: Deps, deliveryId: string): Promise<void> {
  const delivery = await deps.db
    .selectFrom('hub_webhook_inbox')
    .selectAll()
    .where('id', '=', deliveryId)
    .executeTakeFirst();
  if (!delivery) return;
  const resourceId = delivery.resource_id;
  if (resourceId === null) {
    if (delivery.state === 'received') await processGroup(deps, [delivery]);
    return;
  }
  const pending = () =>
    deps.db
      .selectFrom('hub_webhook_inbox')
      .where('integration_id', '=', delivery.integration_id)
      .where('resource_id', '=', resourceId)
      .where('state', '=', WAITING)
      .where('self_test', '=', 0);
  const last = await pending()
    .select(['received_at', 'id'])
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
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
    const end = await edgePressure(deps.db).gate.run(async () => {
      const group = await query.orderBy('received_at').orderBy('id').limit(GROUP_SIZE).execute();
      if (group.length > 0) await processGroup(deps, group);
      return group.at(-1);
    }, deps.config);
    if (!end) return;
    after = { receivedAt: end.received_at, id: end.id };
    // SQLite answers synchronously: without this a long run of groups would hold the event loop,
    // and the webhook edge with it, until the last one (under a burst the gate waits longer).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Deliveries about one item (one, for a delivery that names none), in the order received. */
async function processGroup(deps: Deps, group: WebhookInboxTable[]): Promise<void> {
  const first = group[0] as WebhookInboxTable;
  const envelopes = group.map((d) => parseEnvelope(JSON.parse(d.body)));
  const envelope = envelopes[0] as Envelope;
  const integration = await deps.db
    .selectFrom('hub_integrations')
    .selectAll()
    .where('id', '=', first.integration_id)
    .executeTakeFirst();
  if (!integration) return finish(deps, undefined, group, 'ignored', 'The integration no longer exists');
  const ignore = (reason: string) => finish(deps, integration, group, 'ignored', reason);
  const resourceId = (envelope.resourceId ?? '').toLowerCase();
  // An event about a change the hub's copy already has (its own write-back echoed, a resend, a
  // late delivery) needs no read: its timestamp is not newer than the copy's.
  const copiedAt = await copyChangedAt(deps, integration.id, envelope.kind, resourceId);
  const reading = envelopes.findIndex((e) => {
    const sentAt = timestampOf(e.resourceTimestamp);
    return copiedAt === undefined || sentAt === undefined || sentAt > copiedAt;
  });
  if (reading < 0)
    return finish(
      deps,
      integration,
      group,
      'processed',
      `Not newer than the hub's copy (changed ${new Date(copiedAt as number).toISOString()}): nothing to read`,
    );
  const reader = group[reading] as WebhookInboxTable;
  // The delivery that needed the read is described; the others are settled by the same read.
  const settle = async (db: Pick<Deps, 'db'>['db'], outcome: string) => {
    await finish(deps, integration, [reader], 'processed', outcome, db);
    await finish(
      deps,
      integration,
      group.filter((d) => d !== reader),
      'processed',
      `Covered by the read for delivery ${reader.id}`,
      db,
    );
  };
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
      if (!feature) return ignore(`Feature ${resourceId} is not (or no longer) visible in Cloud ALM`);
      if (feature.projectId && feature.projectId !== integration.calm_project_id.toLowerCase())
        return ignore(`Feature ${resourceId} belongs to another Cloud ALM project`);
      await deps.db.transaction().execute(async (trx) => {
        const result = await applyFeatures(trx, deps.queue, scope, [feature], 'webhook', now);
        await settle(trx, describe(result));
      });
      return;
    }
    const task = await client.getTask(resourceId);
    if (!task) return ignore(`Task ${resourceId} is not (or no longer) visible in Cloud ALM`);
    if (task.type !== USER_STORY) return ignore(`Task ${resourceId} is a ${task.type}, not a user story`);
    if (task.projectId && task.projectId !== integration.calm_project_id.toLowerCase())
      return ignore(`Task ${resourceId} belongs to another Cloud ALM project`);
    const links = await client.taskAssignments({ taskIds: [task.id], pageSize: 10 }, null);
    await deps.db.transaction().execute(async (trx) => {
      const result = await applyStories(trx, deps.queue, scope, [task], 'webhook', now);
      await trx
        .updateTable('hub_calm_stories')
        .set({ feature_calm_uuid: links.items[0]?.featureUuid ?? null, link_synced_at: now })
        .where('integration_id', '=', integration.id)
        .where('calm_id', '=', task.id)
        .execute();
      await settle(trx, describe(result));
    });
  } catch (error) {
    if (!(error instanceof RemoteCallError)) throw error;
    if (error.retryable) throw new RetryJobError(`delivery ${reader.id}: ${error.message}`, error.retryAt);
    await finish(deps, integration, group, 'failed', error.message);
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

function describe(result: { created: number; updated: number; transitions: number }): string {
  if (result.transitions > 0) return 'Status change recorded';
  if (result.created > 0) return 'New item added';
  if (result.updated > 0) return 'Item updated';
  return 'Already up to date (seen first by another path, or an older event)';
}
