import { randomUUID } from 'node:crypto';
import type { Hub } from '../app/build-hub.js';

/**
 * Features, user stories, transports and status transitions of an integration, written straight
 * into the tables the sync engine fills, for tests of what reads them. Items are named by `key`.
 */
export interface CalmItemsSpec {
  features?: Array<{
    key: string;
    displayId?: string;
    title: string;
    status?: string;
    description?: string;
    obsolete?: boolean;
    /** Transport numbers Cloud ALM lists on the feature (from `transports`). */
    transports?: string[];
  }>;
  stories?: Array<{
    key: string;
    /** Key of the feature, or none. */
    feature?: string;
    displayId?: string;
    title: string;
    status?: string;
    description?: string;
    obsolete?: boolean;
    modifiedAt?: number;
    /** Extra fields of the Cloud ALM task. */
    raw?: Record<string, unknown>;
  }>;
  transports?: Array<{
    number: string;
    description?: string;
    owner?: string;
    status?: string;
    sourceSystem?: string;
    targetSystem?: string;
  }>;
  /** Of a feature or story, by key. */
  transitions?: Array<{ item: string; from: string | null; to: string; at: number }>;
  codeLists?: Array<{ list: 'feature_status' | 'feature_priority'; code: string; name: string }>;
}

export interface CalmItems {
  features: Record<string, { id: string; calmUuid: string }>;
  stories: Record<string, { id: string; calmId: string }>;
  /** Transport number → Cloud ALM uuid. */
  transports: Record<string, string>;
}

/** Two features (one with two transports), three stories and one without a feature. */
export const EXAMPLE_CALM_ITEMS: CalmItemsSpec = {
  codeLists: [
    { list: 'feature_status', code: 'CIPREQUINP', name: 'In Implementation' },
    { list: 'feature_status', code: 'CIPREQUOPEN', name: 'Open' },
  ],
  transports: [
    {
      number: 'S4DK900121',
      description: 'Payment run fixes',
      owner: 'DEV1',
      status: 'modifiable',
      sourceSystem: 'S4D',
      targetSystem: 'S4Q',
    },
    {
      number: 'S4DK900122',
      description: 'Payment run config',
      owner: 'DEV2',
      status: 'released',
      sourceSystem: 'S4D',
      targetSystem: 'S4Q',
    },
  ],
  features: [
    {
      key: 'payments',
      displayId: '6-1',
      title: 'Payment run',
      status: 'CIPREQUINP',
      transports: ['S4DK900121', 'S4DK900122'],
    },
    { key: 'reports', displayId: '6-2', title: 'Reporting', status: 'CIPREQUOPEN' },
  ],
  stories: [
    {
      key: 'vendor',
      feature: 'payments',
      displayId: '6-11',
      title: 'Vendor payment proposal',
      status: 'CIPUSINP',
      description: '<p>Pay <b>vendors</b><script>alert(1)</script><img src=x onerror="alert(2)"></p>',
      raw: { type: 'CALMUS', storyPoints: 5, assigneeName: 'dev@example.com' },
    },
    {
      key: 'customer',
      feature: 'payments',
      displayId: '6-12',
      title: 'Customer refunds',
      status: 'CIPUSOPEN',
    },
    {
      key: 'balance',
      feature: 'reports',
      displayId: '6-21',
      title: 'Balance sheet export',
      status: 'CIPUSOPEN',
    },
    { key: 'loose', displayId: '6-31', title: 'Loose story', status: 'CIPUSOPEN' },
  ],
  transitions: [
    { item: 'vendor', from: 'CIPUSOPEN', to: 'CIPUSINP', at: Date.UTC(2026, 10, 2) },
    { item: 'payments', from: 'CIPREQUOPEN', to: 'CIPREQUINP', at: Date.UTC(2026, 10, 1) },
  ],
};

export async function givenCalmItems(
  target: { hub: Hub },
  scenario: { integrationId: string },
  spec: CalmItemsSpec = EXAMPLE_CALM_ITEMS,
): Promise<CalmItems> {
  const { db, clock } = target.hub.deps;
  const integration = await db
    .selectFrom('hub_integrations')
    .select(['tenant_id', 'project_id'])
    .where('id', '=', scenario.integrationId)
    .executeTakeFirstOrThrow();
  const base = { tenant_id: integration.tenant_id, integration_id: scenario.integrationId };
  const now = clock.now();
  const items: CalmItems = { features: {}, stories: {}, transports: {} };

  for (const entry of spec.codeLists ?? [])
    await db
      .insertInto('hub_calm_code_lists')
      .values({ integration_id: scenario.integrationId, ...entry })
      .execute();
  for (const t of spec.transports ?? []) {
    const calmUuid = randomUUID();
    items.transports[t.number] = calmUuid;
    await db
      .insertInto('hub_calm_transports')
      .values({
        ...base,
        calm_uuid: calmUuid,
        transport_id: t.number,
        description: t.description ?? null,
        owner: t.owner ?? null,
        status: t.status ?? 'modifiable',
        source_system: t.sourceSystem ?? null,
        target_system: t.targetSystem ?? null,
        modified_at: now,
        raw: JSON.stringify(t),
        obsolete: 0,
        synced_at: now,
      })
      .execute();
  }
  for (const f of spec.features ?? []) {
    const feature = { id: randomUUID(), calmUuid: randomUUID() };
    items.features[f.key] = feature;
    await db
      .insertInto('hub_calm_features')
      .values({
        ...base,
        id: feature.id,
        project_id: integration.project_id,
        calm_uuid: feature.calmUuid,
        display_id: f.displayId ?? null,
        title: f.title,
        description: f.description ?? null,
        status_code: f.status ?? 'CIPREQUOPEN',
        priority_code: null,
        responsible_id: null,
        modified_at: now,
        raw: JSON.stringify({ uuid: feature.calmUuid, title: f.title }),
        obsolete: f.obsolete ? 1 : 0,
        obsolete_at: f.obsolete ? now : null,
        synced_at: now,
      })
      .execute();
    for (const number of f.transports ?? []) {
      const transport = items.transports[number];
      if (!transport) throw new Error(`feature ${f.key}: no transport ${number} in the spec`);
      await db
        .insertInto('hub_calm_feature_transports')
        .values({
          integration_id: scenario.integrationId,
          feature_calm_uuid: feature.calmUuid,
          transport_calm_uuid: transport,
          synced_at: now,
        })
        .execute();
    }
  }
  for (const s of spec.stories ?? []) {
    const story = { id: randomUUID(), calmId: randomUUID() };
    items.stories[s.key] = story;
    const feature = s.feature === undefined ? undefined : items.features[s.feature];
    if (s.feature !== undefined && !feature) throw new Error(`story ${s.key}: no feature ${s.feature}`);
    await db
      .insertInto('hub_calm_stories')
      .values({
        ...base,
        id: story.id,
        project_id: integration.project_id,
        calm_id: story.calmId,
        feature_calm_uuid: feature?.calmUuid ?? null,
        display_id: s.displayId ?? null,
        title: s.title,
        description: s.description ?? null,
        status: s.status ?? 'CIPUSOPEN',
        sub_status: null,
        priority_id: null,
        assignee_id: null,
        modified_at: s.modifiedAt ?? now,
        raw: JSON.stringify({ id: story.calmId, title: s.title, ...s.raw }),
        obsolete: s.obsolete ? 1 : 0,
        obsolete_at: s.obsolete ? now : null,
        synced_at: now,
      })
      .execute();
  }
  for (const t of spec.transitions ?? []) {
    const item = items.stories[t.item] ?? items.features[t.item];
    if (!item) throw new Error(`transition: no item ${t.item}`);
    const kind = t.item in items.stories ? 'story' : 'feature';
    await db
      .insertInto('hub_status_transitions')
      .values({
        ...base,
        item_kind: kind,
        item_id: item.id,
        calm_id: 'calmId' in item ? item.calmId : item.calmUuid,
        from_status: t.from,
        to_status: t.to,
        changed_at: t.at,
        source: 'full',
        recorded_at: now,
      })
      .execute();
  }
  return items;
}
