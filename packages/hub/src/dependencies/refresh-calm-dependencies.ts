import type { HubDeps } from '../app/deps.js';
import type { CalmTaskRelation } from '../connectors/cloud-alm/client.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import { findStory } from '../stories/store.js';
import { replaceDependencies } from './store.js';

export type RefreshDeps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors'>;

/** Who the `calm` rows name as their creator. */
export const CALM_CREATOR = 'calm';

/**
 * Task ids the story depends on, by Cloud ALM's relations: `DEPENDS_ON` with the story as the
 * source (it depends on the target), and `BLOCKS` with the story as the target (the source holds
 * it up). Other types (`RELATES_TO`) are no dependency.
 */
export function dependedOnTaskIds(taskId: string, relations: CalmTaskRelation[]): string[] {
  const id = taskId.toLowerCase();
  const ids = relations.flatMap((relation) => {
    if (relation.type === 'DEPENDS_ON' && relation.sourceTaskId === id) return [relation.targetTaskId];
    if (relation.type === 'BLOCKS' && relation.targetTaskId === id) return [relation.sourceTaskId];
    return [];
  });
  return [...new Set(ids)].filter((other) => other !== id);
}

/**
 * Reads the story's task relations from Cloud ALM and makes its `calm` dependencies exactly those
 * whose other story the hub knows (same integration). A task Cloud ALM no longer has (404) has no
 * relations. Other remote failures are thrown (`RemoteCallError`), the stored rows untouched.
 * Answers the hub ids the story now depends on through Cloud ALM; undefined for an unknown story.
 */
export async function refreshCalmDependencies(
  deps: RefreshDeps,
  tenantId: string,
  storyId: string,
): Promise<{ dependsOn: string[] } | undefined> {
  const story = await findStory(deps.db, tenantId, storyId);
  if (!story) return undefined;
  const integration = await deps.db
    .selectFrom('hub_integrations')
    .select(['credential_id', 'host_url'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', story.integration_id)
    .executeTakeFirst();
  if (!integration) return undefined;
  const credential = await resolveCredentialForProject(
    deps,
    tenantId,
    story.project_id,
    integration.credential_id,
  );
  let relations: CalmTaskRelation[];
  try {
    relations = await deps.connectors
      .cloudAlm(credential, integration.host_url)
      .listTaskRelations(story.calm_id);
  } catch (error) {
    if (!(error instanceof RemoteCallError && error.remoteStatus === 404)) throw error;
    relations = [];
  }
  const taskIds = dependedOnTaskIds(story.calm_id, relations);
  const known =
    taskIds.length === 0
      ? []
      : await deps.db
          .selectFrom('hub_calm_stories')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('integration_id', '=', story.integration_id)
          .where('calm_id', 'in', taskIds)
          .where('id', '!=', story.id)
          .orderBy('id')
          .execute();
  const dependsOn = known.map((row) => row.id);
  await deps.db
    .transaction()
    .execute((trx) =>
      replaceDependencies(
        trx,
        { tenantId, storyId, source: 'calm', createdBy: CALM_CREATOR, createdAt: deps.clock.now() },
        dependsOn,
      ),
    );
  return { dependsOn };
}
