import { AppError } from '@calmhub/platform';
import type { Kysely } from 'kysely';
import type { Actor } from '../access/actor.js';
import { visibleProjectIds } from '../access/authorize.js';
import type { CalmStoriesTable, HubTables } from '../store/tables.js';
import { storiesHoldingTransports } from './store.js';

/**
 * A transport belongs to one open story unless the caller says it is shared: refuses with 409
 * naming the story that has it (display id and title; "a story of another project" when the caller
 * cannot see that project). Attaching the same transport twice to one story is always refused.
 */
export async function assertTransportFree(
  db: Kysely<HubTables>,
  actor: Actor,
  story: CalmStoriesTable,
  number: string,
  options: { allowShared: boolean; exceptComponentId?: string },
): Promise<void> {
  const holders = (await storiesHoldingTransports(db, actor.tenantId, [number])).filter(
    (h) => h.componentId !== options.exceptComponentId,
  );
  const here = holders.find((h) => h.storyId === story.id);
  if (here)
    throw new AppError('conflict', `Transport ${number} is already attached to this story`, {
      details: { field: 'abapTransport.number', componentId: here.componentId },
    });
  const other = holders[0];
  if (!other || options.allowShared) return;
  const visible = await visibleProjectIds(db, actor);
  const named = visible === 'all' || visible.includes(other.projectId);
  const who = named
    ? `story ${other.displayId ?? other.storyId} "${other.title}"`
    : 'an open story of another project';
  throw new AppError(
    'conflict',
    `Transport ${number} is already attached to ${who}; set allowShared to attach it here too`,
    {
      details: {
        field: 'abapTransport.number',
        story: named ? { id: other.storyId, displayId: other.displayId, title: other.title } : null,
      },
    },
  );
}
