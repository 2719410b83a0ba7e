import { AppError } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { visibleProjectIds } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { loadStory } from '../stories/load-story.js';
import { refreshCalmDependencies } from './refresh-calm-dependencies.js';
import { dependenciesOf } from './store.js';
import { type DependencyView, dependencyView } from './views.js';

export interface DependencyList {
  items: DependencyView[];
  /** Whether Cloud ALM's relations were read just now; if not, why (the list is the stored one). */
  calm: { refreshed: boolean; message: string | null };
}

/**
 * What a story depends on. Cloud ALM's task relations are read first (best effort, as a story's
 * description is): an unreachable Cloud ALM leaves the stored `calm` rows as they were.
 */
export async function listDependencies(
  deps: Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors' | 'logger'>,
  actor: Actor,
  storyId: string,
): Promise<DependencyList> {
  const story = await loadStory(deps, actor, storyId, 'project.read');
  let calm: DependencyList['calm'] = { refreshed: true, message: null };
  try {
    await refreshCalmDependencies(deps, actor.tenantId, story.id);
  } catch (error) {
    const expected =
      error instanceof RemoteCallError || (error instanceof AppError && error.code === 'validation_failed');
    if (!expected) throw error;
    deps.logger.debug({ story: story.id, err: error }, 'story relations not read from Cloud ALM');
    calm = { refreshed: false, message: (error as Error).message };
  }
  const rows = await dependenciesOf(deps.db, actor.tenantId, story.id);
  const visible = await visibleProjectIds(deps.db, actor);
  // A story of a project the caller is no member of is named by its id only.
  const items = rows.map((row) =>
    visible === 'all' || visible.includes(row.project_id)
      ? dependencyView(row)
      : { ...dependencyView(row), displayId: null, title: 'A story of another project' },
  );
  return { items, calm };
}
