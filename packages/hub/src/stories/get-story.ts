import type { Actor } from '../access/actor.js';
import { iso, isoOrNull } from '../access/views.js';
import type { HubDeps } from '../app/deps.js';
import { attachedComponents } from '../components/store.js';
import { type ComponentView, componentView } from '../components/views.js';
import { readStoryDescription } from '../sync/read-story-description.js';
import { loadFeature, loadStory } from './load-story.js';
import { renderDescription } from './render-html.js';
import {
  codeNames,
  componentCounts,
  featureOfStory,
  hubFieldsOf,
  integrationsByIds,
  storiesOfFeature,
  transitionsOf,
  transportsOfFeature,
} from './store.js';
import {
  type CalmTransportView,
  calmTaskFields,
  calmTransportView,
  type FeatureSummary,
  featureSummary,
  type StorySummary,
  storySummary,
  type TransitionView,
  transitionView,
} from './views.js';

type Deps = Pick<HubDeps, 'db'>;
type StoryDeps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors' | 'logger'>;

export interface StoryView extends StorySummary {
  integration: { id: string; name: string };
  descriptionHtml: string | null;
  feature: FeatureSummary | null;
  calm: ReturnType<typeof calmTaskFields>;
  transitions: TransitionView[];
  notes: string | null;
  hubFieldsUpdatedBy: string | null;
  hubFieldsUpdatedAt: string | null;
  components: ComponentView[];
}

/** One story with what the hub knows of it: Cloud ALM fields, feature, status history, components. */
export async function getStory(deps: StoryDeps, actor: Actor, id: string): Promise<StoryView> {
  const story = await loadStory(deps, actor, id, 'project.read');
  const description = await readStoryDescription(deps, story);
  const [feature, integrations, fields, components, transitions] = await Promise.all([
    featureOfStory(deps.db, story),
    integrationsByIds(deps.db, actor.tenantId, [story.integration_id]),
    hubFieldsOf(deps.db, actor.tenantId, [story.id]),
    attachedComponents(deps.db, actor.tenantId, story.id),
    transitionsOf(deps.db, actor.tenantId, 'story', story.id),
  ]);
  const integration = integrations.get(story.integration_id);
  const hostUrl = integration?.host_url ?? '';
  const names = await codeNames(deps.db, [story.integration_id]);
  const own = fields.get(story.id);
  return {
    ...storySummary(story, hostUrl, own, components.length),
    integration: { id: story.integration_id, name: integration?.name ?? '' },
    descriptionHtml: renderDescription(description),
    feature: feature ? featureSummary(feature, hostUrl, names) : null,
    calm: calmTaskFields(story.raw),
    transitions: transitions.map(transitionView),
    notes: own?.notes ?? null,
    hubFieldsUpdatedBy: own?.updated_by ?? null,
    hubFieldsUpdatedAt: isoOrNull(own?.updated_at ?? null),
    components: components.map(componentView),
  };
}

export interface FeatureView extends FeatureSummary {
  integration: { id: string; name: string };
  descriptionHtml: string | null;
  priority: { code: number; name: string | null } | null;
  responsibleId: string | null;
  modifiedAt: string;
  syncedAt: string;
  transitions: TransitionView[];
  stories: StorySummary[];
  transports: CalmTransportView[];
}

/** A feature with its user stories and the transports Cloud ALM lists on it. */
export async function getFeature(
  deps: Deps,
  actor: Actor,
  id: string,
  input: { includeObsolete?: boolean | undefined },
): Promise<FeatureView> {
  const feature = await loadFeature(deps, actor, id, 'project.read');
  const includeObsolete = input.includeObsolete === true;
  const [stories, transports, transitions, integrations, names] = await Promise.all([
    storiesOfFeature(deps.db, feature, includeObsolete),
    transportsOfFeature(deps.db, feature, includeObsolete),
    transitionsOf(deps.db, actor.tenantId, 'feature', feature.id),
    integrationsByIds(deps.db, actor.tenantId, [feature.integration_id]),
    codeNames(deps.db, [feature.integration_id]),
  ]);
  const storyIds = stories.map((s) => s.id);
  const [fields, counts] = await Promise.all([
    hubFieldsOf(deps.db, actor.tenantId, storyIds),
    componentCounts(deps.db, actor.tenantId, storyIds),
  ]);
  const integration = integrations.get(feature.integration_id);
  const hostUrl = integration?.host_url ?? '';
  const priority = feature.priority_code;
  return {
    ...featureSummary(feature, hostUrl, names),
    integration: { id: feature.integration_id, name: integration?.name ?? '' },
    descriptionHtml: renderDescription(feature.description),
    priority:
      priority === null
        ? null
        : {
            code: priority,
            name: names.get(`${feature.integration_id}|feature_priority|${priority}`) ?? null,
          },
    responsibleId: feature.responsible_id,
    modifiedAt: iso(feature.modified_at),
    syncedAt: iso(feature.synced_at),
    transitions: transitions.map(transitionView),
    stories: stories.map((s) => storySummary(s, hostUrl, fields.get(s.id), counts.get(s.id) ?? 0)),
    transports: transports.map(calmTransportView),
  };
}
