import { readJson } from '@calmhub/platform';
import { request } from 'undici';
import type { Actor } from '../access/actor.js';
import { notFound } from '../access/authorize.js';
import type { ProjectAction } from '../access/permissions.js';
import { iso, isoOrNull } from '../access/views.js';
import type { HubDeps } from '../app/deps.js';
import { getWebhook } from '../integrations/integrations.js';
import { loadIntegration } from '../integrations/load-integration.js';
import type { WebhookInboxTable } from '../store/tables.js';
import { processDeliveryJob } from './jobs.js';
import { settleLanding } from './landing.js';
import {
  CONFIGURED,
  DEFAULT_STATUS_ACTIONS,
  type StatusActionRule,
  statusActionsOf,
} from './status-actions.js';

type Deps = Pick<
  HubDeps,
  'db' | 'clock' | 'queue' | 'secrets' | 'connectors' | 'publicBaseUrl' | 'config' | 'store'
>;
/** What reading the inbox takes: the store, and what moving landed deliveries into it takes. */
type ReadDeps = Pick<Deps, 'db' | 'clock' | 'queue' | 'config' | 'store'>;

export interface DeliveryView {
  id: string;
  receivedAt: string;
  state: WebhookInboxTable['state'];
  reason: string | null;
  resourceType: string | null;
  eventType: string | null;
  resourceId: string | null;
  itemKind: string | null;
  duplicates: number;
  selfTest: boolean;
  processedAt: string | null;
  headers: Record<string, string>;
  body: string;
}

const view = (row: WebhookInboxTable): DeliveryView => ({
  id: row.id,
  receivedAt: iso(row.received_at),
  state: row.state,
  reason: row.reason,
  resourceType: row.resource_type,
  eventType: row.event_type,
  resourceId: row.resource_id,
  itemKind: row.item_kind,
  duplicates: row.duplicates,
  selfTest: row.self_test === 1,
  processedAt: isoOrNull(row.processed_at),
  headers: readJson<Record<string, string>>(row.headers),
  body: row.body,
});

export async function listDeliveries(
  deps: ReadDeps,
  actor: Actor,
  integrationId: string,
  filter: { state?: WebhookInboxTable['state'] | undefined; limit: number; before?: string | undefined },
): Promise<DeliveryView[]> {
  await loadIntegration(deps.db, actor, integrationId, 'integrations.read');
  await settleLanding(deps);
  let query = deps.db
    .selectFrom('hub_webhook_inbox')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.before) {
    const before = await deps.db
      .selectFrom('hub_webhook_inbox')
      .select('received_at')
      .where('id', '=', filter.before)
      .executeTakeFirst();
    // Ties on the millisecond are broken by id, the second sort key, so a burst loses no row.
    if (before)
      query = query.where((eb) =>
        eb.or([
          eb('received_at', '<', before.received_at),
          eb.and([eb('received_at', '=', before.received_at), eb('id', '<', filter.before as string)]),
        ]),
      );
  }
  return (await query.execute()).map(view);
}

async function loadDelivery(
  deps: ReadDeps,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<WebhookInboxTable> {
  await settleLanding(deps);
  const row = await deps.db
    .selectFrom('hub_webhook_inbox')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('delivery', id);
  await loadIntegration(deps.db, actor, row.integration_id, action).catch((error: unknown) => {
    throw (error as { code?: string }).code === 'not_found' ? notFound('delivery', id) : error;
  });
  return row;
}

export async function getDelivery(deps: ReadDeps, actor: Actor, id: string): Promise<DeliveryView> {
  return view(await loadDelivery(deps, actor, id, 'integrations.read'));
}

/** Processes a stored delivery again (after a fix, or to re-check an ignored one). */
export async function replayDelivery(deps: Deps, actor: Actor, id: string): Promise<DeliveryView> {
  const row = await loadDelivery(deps, actor, id, 'integrations.manage');
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('hub_webhook_inbox')
      .set({ state: 'received', reason: 'Replayed', processed_at: null })
      .where('id', '=', id)
      .execute();
    await deps.queue.enqueue(
      processDeliveryJob(row.integration_id, row.id, row.resource_id ?? undefined),
      trx,
    );
  });
  return getDelivery(deps, actor, id);
}

export interface WebhookStatus {
  lastEventAt: string | null;
  firstEventAt: string | null;
  selfTestAt: string | null;
  basicAuth: { user: string } | null;
  /** `waiting_for_first_event` until Cloud ALM's first real delivery arrives. */
  state: 'waiting_for_first_event' | 'receiving';
}

export async function webhookStatus(deps: Pick<Deps, 'db'>, integrationId: string): Promise<WebhookStatus> {
  const row = await deps.db
    .selectFrom('hub_webhook_state')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
  return {
    lastEventAt: isoOrNull(row?.last_event_at ?? null),
    firstEventAt: isoOrNull(row?.first_event_at ?? null),
    selfTestAt: isoOrNull(row?.self_test_at ?? null),
    basicAuth: row?.basic_user ? { user: row.basic_user } : null,
    state: row?.first_event_at ? 'receiving' : 'waiting_for_first_event',
  };
}

/** The hub calls its own public webhook URL with the key: proves routing (public URL, proxies) and key. */
export async function selfTest(
  deps: Deps,
  actor: Actor,
  integrationId: string,
): Promise<{ ok: boolean; status: number | null; message: string }> {
  await loadIntegration(deps.db, actor, integrationId, 'integrations.manage');
  const webhook = await getWebhook(deps, actor, integrationId);
  const state = await deps.db
    .selectFrom('hub_webhook_state')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-calmhub-self-test': '1' };
  if (state?.basic_user) {
    const password = state.basic_password_sealed
      ? (deps.secrets.open(state.basic_password_sealed) ?? '')
      : '';
    headers.authorization = `Basic ${Buffer.from(`${state.basic_user}:${password}`).toString('base64')}`;
  }
  try {
    const response = await request(webhook.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        resourceType: 'CALMHUB',
        eventType: 'CALMHUB.SELF_TEST',
        resourceId: integrationId,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body.text();
    const ok = response.statusCode === 202;
    return {
      ok,
      status: response.statusCode,
      message: ok
        ? 'The webhook URL reaches this hub and the key is accepted.'
        : `The webhook URL answered ${response.statusCode}: check the public URL (config publicUrl) and proxies.`,
    };
  } catch (error) {
    return {
      ok: false,
      status: null,
      message: `The webhook URL is not reachable from the hub: ${(error as Error).message}`,
    };
  }
}

export interface ChecklistStep {
  step: string;
  what: string;
  value: string | null;
  proven: boolean;
  provenBy: string | null;
}

/**
 * What to set up in BTP and Cloud ALM, as the seed describes it, and which steps are proven: the
 * self-test proves routing and key; the first real delivery proves destination, webhook,
 * subscription and the project's opt-in together. The hub never calls Cloud ALM's admin side.
 */
export async function checklist(
  deps: Deps,
  actor: Actor,
  integrationId: string,
): Promise<{ webhookUrl: string; status: WebhookStatus; steps: ChecklistStep[] }> {
  const integration = await loadIntegration(deps.db, actor, integrationId, 'integrations.read_secret');
  const webhook = await getWebhook(deps, actor, integrationId);
  const status = await webhookStatus(deps, integrationId);
  const real = status.firstEventAt !== null;
  const byEvent = real ? `first delivery received ${status.firstEventAt}` : null;
  return {
    webhookUrl: webhook.url,
    status,
    steps: [
      {
        step: 'destination',
        what: 'SAP BTP → Connectivity → Destinations → Create: Type HTTP, Proxy Type Internet, URL = the hub public base URL',
        value: deps.publicBaseUrl(),
        proven: real,
        provenBy: byEvent,
      },
      {
        step: 'webhook',
        what: 'Cloud ALM → External API Management → Webhooks Management → +: Destination = that destination, Path = (no leading slash)',
        value: webhook.path,
        proven: real || status.selfTestAt !== null,
        provenBy: byEvent ?? (status.selfTestAt ? `self-test ${status.selfTestAt} (routing and key)` : null),
      },
      {
        step: 'subscription',
        what: 'Cloud ALM → Subscription Management → +: Resource Type Feature, Type External, Webhook = that webhook',
        value: 'Feature / External',
        proven: real,
        provenBy: byEvent,
      },
      {
        step: 'project',
        what: `Cloud ALM project "${integration.calm_project_name}" → Subscriptions tab: select the subscription for the feature item type`,
        value: integration.calm_project_id,
        proven: real,
        provenBy: byEvent,
      },
    ],
  };
}

export async function getStatusActions(
  deps: Pick<Deps, 'db'>,
  actor: Actor,
  integrationId: string,
): Promise<StatusActionRule[]> {
  await loadIntegration(deps.db, actor, integrationId, 'integrations.read');
  return statusActionsOf(deps.db, integrationId);
}

export async function setStatusActions(
  deps: Pick<Deps, 'db'>,
  actor: Actor,
  integrationId: string,
  rules: StatusActionRule[],
): Promise<StatusActionRule[]> {
  await loadIntegration(deps.db, actor, integrationId, 'integrations.manage');
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('hub_status_actions').where('integration_id', '=', integrationId).execute();
    await trx
      .insertInto('hub_status_actions')
      .values([
        {
          integration_id: integrationId,
          status_code: CONFIGURED,
          action: 'none',
          target_stage: null,
          enabled: 0,
        },
        ...rules.map((rule) => ({
          integration_id: integrationId,
          status_code: rule.statusCode,
          action: rule.action,
          target_stage: rule.action === 'promote' ? rule.targetStage : null,
          enabled: rule.enabled ? 1 : 0,
        })),
      ])
      .execute();
  });
  return getStatusActions(deps, actor, integrationId);
}

export async function setWebhookBasicAuth(
  deps: Pick<Deps, 'db' | 'secrets'>,
  actor: Actor,
  integrationId: string,
  input: { user: string; password: string } | null,
): Promise<WebhookStatus> {
  await loadIntegration(deps.db, actor, integrationId, 'integrations.manage');
  const values = input
    ? { basic_user: input.user, basic_password_sealed: deps.secrets.seal(input.password) }
    : { basic_user: null, basic_password_sealed: null };
  await deps.db
    .insertInto('hub_webhook_state')
    .values({
      integration_id: integrationId,
      first_event_at: null,
      last_event_at: null,
      self_test_at: null,
      ...values,
    })
    .onConflict((oc) => oc.column('integration_id').doUpdateSet(values))
    .execute();
  return webhookStatus(deps, integrationId);
}

export { DEFAULT_STATUS_ACTIONS };
