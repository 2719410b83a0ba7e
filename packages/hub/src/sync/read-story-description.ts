import type { HubDeps } from '../app/deps.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import { resolveCredentialForProject } from '../credentials/credentials.js';
import type { CalmStoriesTable } from '../store/tables.js';

/**
 * Task lists carry no description, so a story's description is read from `GET /tasks/{id}` when
 * someone opens it, and kept until the story changes again (a sync then clears it). An unreachable
 * Cloud ALM leaves it unknown (null) rather than failing the view; '' means Cloud ALM has none.
 */
export async function readStoryDescription(
  deps: Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors' | 'logger'>,
  story: Pick<
    CalmStoriesTable,
    'id' | 'tenant_id' | 'project_id' | 'integration_id' | 'calm_id' | 'description' | 'obsolete'
  >,
): Promise<string | null> {
  if (story.description !== null || story.obsolete === 1) return story.description;
  const integration = await deps.db
    .selectFrom('hub_integrations')
    .select(['credential_id', 'host_url'])
    .where('id', '=', story.integration_id)
    .executeTakeFirst();
  if (!integration) return null;
  try {
    const credential = await resolveCredentialForProject(
      deps,
      story.tenant_id,
      story.project_id,
      integration.credential_id,
    );
    const task = await deps.connectors.cloudAlm(credential, integration.host_url).getTask(story.calm_id);
    if (!task) return null;
    const description = task.description ?? '';
    // Only onto the version it belongs to: a newer copy written meanwhile clears it again later.
    await deps.db
      .updateTable('hub_calm_stories')
      .set({ description })
      .where('id', '=', story.id)
      .where('modified_at', '<=', task.modifiedAt)
      .execute();
    return description;
  } catch (error) {
    if (error instanceof RemoteCallError || (error as { code?: string }).code === 'validation_failed') {
      deps.logger.debug({ story: story.id, err: error }, 'story description not read from Cloud ALM');
      return null;
    }
    throw error;
  }
}
