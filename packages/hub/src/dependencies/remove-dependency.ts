import { AppError } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import { loadStory } from '../stories/load-story.js';
import { storyObject } from './add-dependency.js';
import { dependenciesOf } from './store.js';
import { dependencyView } from './views.js';

/**
 * Removes a dependency added in the hub. One that comes from a Cloud ALM relation is refused (409):
 * the next refresh would bring it back, so it is removed in Cloud ALM.
 */
export async function removeDependency(
  deps: Pick<HubDeps, 'db' | 'clock'>,
  actor: Actor,
  storyId: string,
  dependsOnId: string,
  requestId?: string,
): Promise<void> {
  const story = await loadStory(deps, actor, storyId, 'stories.edit');
  await deps.db.transaction().execute(async (trx) => {
    const row = (await dependenciesOf(trx, actor.tenantId, story.id)).find(
      (r) => r.depends_on_story_id === dependsOnId,
    );
    if (!row)
      throw new AppError(
        'not_found',
        `Story ${story.display_id ?? story.id} does not depend on ${dependsOnId}`,
      );
    if (row.source === 'calm')
      throw new AppError(
        'conflict',
        'This dependency is a Cloud ALM task relation; remove the relation in Cloud ALM',
        { details: { source: 'calm' } },
      );
    await trx
      .deleteFrom('hub_story_dependencies')
      .where('tenant_id', '=', actor.tenantId)
      .where('story_id', '=', story.id)
      .where('depends_on_story_id', '=', dependsOnId)
      .execute();
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: story.project_id,
      occurredAt: deps.clock.now(),
      kind: 'story.dependency_removed',
      object: storyObject(story),
      before: dependencyView(row),
    });
  });
}
