import { readJson, writeJson } from '@calmhub/platform';
import type { Actor } from '../access/actor.js';
import type { HubDeps } from '../app/deps.js';
import { recordAudit, userAudit } from '../audit/record-audit.js';
import { getStory, type StoryView } from './get-story.js';
import { loadStory } from './load-story.js';
import { hubFieldsOf, saveHubFields } from './store.js';

export interface UpdateStoryInput {
  notes?: string | null | undefined;
  labels?: string[] | undefined;
}

/** Changes the hub-side fields of a story (never sent to Cloud ALM); stamped with who and when. */
export async function updateStory(
  deps: Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'connectors' | 'logger'>,
  actor: Actor,
  id: string,
  input: UpdateStoryInput,
  requestId?: string,
): Promise<StoryView> {
  const story = await loadStory(deps, actor, id, 'stories.edit');
  const current = (await hubFieldsOf(deps.db, actor.tenantId, [story.id])).get(story.id);
  const notes = input.notes === undefined ? (current?.notes ?? null) : input.notes?.trim() || null;
  const labels =
    input.labels === undefined
      ? current
        ? readJson<string[]>(current.labels)
        : []
      : [...new Set(input.labels.map((label) => label.trim()))];
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    await saveHubFields(trx, {
      story_id: story.id,
      tenant_id: actor.tenantId,
      notes,
      labels: writeJson(labels),
      updated_by: actor.userId,
      updated_at: now,
    });
    // The hub-side fields are what changed; the synced Cloud ALM copy is not the hub's to audit.
    await recordAudit(trx, {
      ...userAudit(actor, requestId),
      tenantId: actor.tenantId,
      projectId: story.project_id,
      occurredAt: now,
      kind: 'story.updated',
      object: { kind: 'story', id: story.id, label: story.display_id ?? story.title },
      before: { notes: current?.notes ?? null, labels: current ? readJson<string[]>(current.labels) : [] },
      after: { notes, labels },
    });
  });
  return getStory(deps, actor, id);
}
