import type { Actor } from '../access/actor.js';
import { visibleProjectIds } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import { loadStory } from '../stories/load-story.js';
import { featureOfStory, transportsOfFeature } from '../stories/store.js';
import { type CalmTransportView, calmTransportView } from '../stories/views.js';
import { attachedComponents, storiesHoldingTransports } from './store.js';
import { type ComponentView, componentView } from './views.js';

type Deps = Pick<HubDeps, 'db'>;

export async function listComponents(deps: Deps, actor: Actor, storyId: string): Promise<ComponentView[]> {
  const story = await loadStory(deps, actor, storyId, 'project.read');
  return (await attachedComponents(deps.db, actor.tenantId, story.id)).map(componentView);
}

export interface TransportSuggestion extends CalmTransportView {
  attachedTo: Array<{ storyId: string; displayId: string | null; title: string }>;
}

/**
 * The transports Cloud ALM lists on the story's feature that this story does not have yet, each
 * with the open stories (of projects the caller sees) that already have it.
 */
export async function transportSuggestions(
  deps: Deps,
  actor: Actor,
  storyId: string,
): Promise<TransportSuggestion[]> {
  const story = await loadStory(deps, actor, storyId, 'project.read');
  const feature = await featureOfStory(deps.db, story);
  if (!feature) return [];
  const transports = await transportsOfFeature(deps.db, feature, false);
  const holders = await storiesHoldingTransports(
    deps.db,
    actor.tenantId,
    transports.map((t) => t.transport_id),
  );
  const attachedHere = new Set(holders.filter((h) => h.storyId === story.id).map((h) => h.number));
  const visible = await visibleProjectIds(deps.db, actor);
  return transports
    .filter((t) => !attachedHere.has(t.transport_id))
    .map((t) => ({
      ...calmTransportView(t),
      attachedTo: holders
        .filter((h) => h.number === t.transport_id && (visible === 'all' || visible.includes(h.projectId)))
        .map((h) => ({ storyId: h.storyId, displayId: h.displayId, title: h.title })),
    }));
}
