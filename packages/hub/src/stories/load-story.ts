import { AppError } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import { notFound, requireProjectAction } from '../access/authorize.js';
import type { ProjectAction } from '../access/permissions.js';
import type { HubDeps } from '../app/deps.js';
import type { CalmFeaturesTable, CalmStoriesTable } from '../store/tables.js';
import { findFeature, findStory } from './store.js';

/** Checks `action` in the item's project; a project the caller cannot see answers the item's 404. */
async function requireOn(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  projectId: string,
  action: ProjectAction,
  missing: AppError,
): Promise<void> {
  try {
    await requireProjectAction(deps.db, actor, projectId, action);
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') throw missing;
    throw error;
  }
}

/** A story of the caller's tenant, after checking `action` in its project. */
export async function loadStory(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<CalmStoriesTable> {
  const row = await findStory(deps.db, actor.tenantId, id);
  if (!row) throw notFound('story', id);
  await requireOn(deps, actor, row.project_id, action, notFound('story', id));
  return row;
}

export async function loadFeature(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  id: string,
  action: ProjectAction,
): Promise<CalmFeaturesTable> {
  const row = await findFeature(deps.db, actor.tenantId, id);
  if (!row) throw notFound('feature', id);
  await requireOn(deps, actor, row.project_id, action, notFound('feature', id));
  return row;
}
