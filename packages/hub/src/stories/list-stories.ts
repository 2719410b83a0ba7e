import type { Actor } from '../access/actor.js';
import { requireProjectAction } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import type { CalmFeaturesTable } from '../store/tables.js';
import {
  codeNames,
  componentCounts,
  countStories,
  featuresByIds,
  hubFieldsOf,
  integrationsByIds,
  pageStories,
  type StorySort,
} from './store.js';
import { type FeatureSummary, featureSummary, type StorySummary, storySummary } from './views.js';

export interface ListStoriesInput {
  featureStatus?: string[] | undefined;
  status?: string[] | undefined;
  search?: string | undefined;
  featureId?: string | undefined;
  includeObsolete?: boolean | undefined;
  sort?: StorySort | undefined;
  order?: 'asc' | 'desc' | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface StoryGroups {
  groups: Array<{ feature: FeatureSummary | null; stories: StorySummary[] }>;
  total: number;
  limit: number;
  offset: number;
  nextOffset: number | null;
}

/**
 * A project's synced user stories, paged by story and grouped under their features (ReleaseOwl's
 * User Stories list). Obsolete stories are left out unless asked for.
 */
export async function listStories(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  projectId: string,
  input: ListStoriesInput,
): Promise<StoryGroups> {
  await requireProjectAction(deps.db, actor, projectId, 'project.read');
  const filter = { ...input, tenantId: actor.tenantId, projectId };
  const limit = input.limit ?? 50;
  const offset = input.offset ?? 0;
  const [total, rows] = await Promise.all([
    countStories(deps.db, filter),
    pageStories(deps.db, filter, {
      sort: input.sort ?? 'feature',
      order: input.order ?? (input.sort === 'modifiedAt' ? 'desc' : 'asc'),
      limit,
      offset,
    }),
  ]);
  const storyIds = rows.map((r) => r.story.id);
  const featureIds = [...new Set(rows.flatMap((r) => (r.featureId ? [r.featureId] : [])))];
  const [features, fields, counts, integrations] = await Promise.all([
    featuresByIds(deps.db, actor.tenantId, featureIds),
    hubFieldsOf(deps.db, actor.tenantId, storyIds),
    componentCounts(deps.db, actor.tenantId, storyIds),
    integrationsByIds(deps.db, actor.tenantId, [...new Set(rows.map((r) => r.story.integration_id))]),
  ]);
  const names = await codeNames(deps.db, [...integrations.keys()]);
  const featureById = new Map<string, CalmFeaturesTable>(features.map((f) => [f.id, f]));
  const host = (integrationId: string) => integrations.get(integrationId)?.host_url ?? '';

  const groups: StoryGroups['groups'] = [];
  let currentKey: string | undefined;
  for (const { story, featureId } of rows) {
    const key = featureId ?? '';
    if (key !== currentKey || groups.length === 0) {
      const feature = featureId ? featureById.get(featureId) : undefined;
      groups.push({
        feature: feature ? featureSummary(feature, host(feature.integration_id), names) : null,
        stories: [],
      });
      currentKey = key;
    }
    groups
      .at(-1)
      ?.stories.push(
        storySummary(story, host(story.integration_id), fields.get(story.id), counts.get(story.id) ?? 0),
      );
  }
  return {
    groups,
    total,
    limit,
    offset,
    nextOffset: offset + rows.length < total ? offset + rows.length : null,
  };
}
