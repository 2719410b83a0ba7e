import { AppError } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Actor } from '../access/actor.js';
import { requireProjectAction } from '../access/authorize.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import { invalidField } from '../credentials/credential-input.js';
import { lockForTransaction } from '../store/lock.js';
import type { CalmStoriesTable, HubTables } from '../store/tables.js';
import { loadStory } from '../stories/load-story.js';
import { findStory } from '../stories/store.js';
import { dependedOnBy, dependenciesOf, findDependency } from './store.js';
import { type DependencyView, dependencyView } from './views.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'store'>;

/** Walks are cut off here: a dependency graph this deep is refused rather than followed. */
const MAX_WALK = 10_000;

export const storyObject = (story: Pick<CalmStoriesTable, 'id' | 'display_id' | 'title'>) => ({
  kind: 'story',
  id: story.id,
  label: story.display_id ?? story.title,
});

/** Whether `from` reaches `to` along dependencies (then `to` depending on `from` closes a cycle). */
async function reaches(db: Kysely<HubTables>, tenantId: string, from: string, to: string): Promise<boolean> {
  const seen = new Set([from]);
  let frontier = [from];
  while (frontier.length > 0) {
    const next = await dependedOnBy(db, tenantId, frontier);
    if (next.includes(to)) return true;
    frontier = next.filter((id) => !seen.has(id));
    for (const id of frontier) seen.add(id);
    if (seen.size > MAX_WALK) return true;
  }
  return false;
}

/** The story to depend on: the tenant's, in a project the caller sees (else the body names none). */
async function loadDependedOn(deps: Deps, actor: Actor, id: string): Promise<CalmStoriesTable> {
  const missing = invalidField('dependsOn', 'names no story you can see');
  const story = await findStory(deps.db, actor.tenantId, id);
  if (!story) throw missing;
  try {
    await requireProjectAction(deps.db, actor, story.project_id, 'project.read');
  } catch (error) {
    if (error instanceof AppError) throw missing;
    throw error;
  }
  return story;
}

/**
 * Records that a story depends on another one of the tenant (`hub` source). The same pair twice,
 * and a pair that would close a cycle, are refused with 409.
 */
export async function addDependency(
  deps: Deps,
  actor: Actor,
  storyId: string,
  input: { dependsOn: string },
  requestId?: string,
): Promise<DependencyView> {
  const story = await loadStory(deps, actor, storyId, 'stories.edit');
  if (input.dependsOn === story.id) throw invalidField('dependsOn', 'cannot be the story itself');
  const other = await loadDependedOn(deps, actor, input.dependsOn);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    // Two additions at once must not close a cycle between them.
    await lockForTransaction(trx, deps.store.dialect, `dependencies:${actor.tenantId}`);
    const existing = await findDependency(trx, actor.tenantId, story.id, other.id);
    if (existing)
      throw new AppError(
        'conflict',
        `Story ${story.display_id ?? story.id} already depends on ${other.display_id ?? other.id}` +
          (existing.source === 'calm' ? ' (a Cloud ALM relation)' : ''),
        { details: { field: 'dependsOn', source: existing.source } },
      );
    if (await reaches(trx, actor.tenantId, other.id, story.id))
      throw new AppError(
        'conflict',
        `Story ${other.display_id ?? other.id} already depends on ${story.display_id ?? story.id}, directly or ` +
          'through others: this dependency would close a cycle',
        { details: { field: 'dependsOn' } },
      );
    await trx
      .insertInto('hub_story_dependencies')
      .values({
        tenant_id: actor.tenantId,
        story_id: story.id,
        depends_on_story_id: other.id,
        source: 'hub',
        created_by: actor.userId,
        created_at: now,
      })
      .execute();
    const row = (await dependenciesOf(trx, actor.tenantId, story.id)).find(
      (r) => r.depends_on_story_id === other.id,
    );
    if (!row) throw new Error('dependency not stored');
    const view = dependencyView(row);
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: story.project_id,
      occurredAt: now,
      kind: 'story.dependency_added',
      object: storyObject(story),
      after: view,
    });
    return view;
  });
}
