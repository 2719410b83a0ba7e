import type { Actor } from '../access/actor.js';
import type { HubDeps } from '../app/deps.js';
import type { WriteBacksTable } from '../store/tables.js';
import { loadStory } from '../stories/load-story.js';
import type { WriteBackView } from './schemas.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function writeBackView(row: WriteBacksTable): WriteBackView {
  return {
    id: row.id,
    target: row.target_kind,
    targetCalmId: row.target_calm_id,
    action: row.action as WriteBackView['action'],
    text: row.text,
    marker: row.marker,
    url: row.url,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: new Date(row.created_at).toISOString(),
    writtenAt: iso(row.written_at),
  };
}

/** A story's write-backs, newest first: what was written, what waits, what failed and why. */
export async function listWriteBacks(
  deps: Pick<HubDeps, 'db'>,
  actor: Actor,
  storyId: string,
): Promise<WriteBackView[]> {
  const story = await loadStory(deps, actor, storyId, 'project.read');
  const rows = await deps.db
    .selectFrom('hub_writebacks')
    .selectAll()
    .where('tenant_id', '=', actor.tenantId)
    .where('item_id', '=', story.id)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(500)
    .execute();
  return rows.map(writeBackView);
}
