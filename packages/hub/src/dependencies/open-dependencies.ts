import type { Kysely } from 'kysely';
import type { DependencySource, HubTables } from '../store/tables.js';
import { type DependencyRow, dependenciesOf } from './store.js';

/**
 * Cloud ALM task status codes of a finished item: a user story (`CIPUSCLOSE`) or a project task
 * (`CIPTKCLOSE`). A story in one of these is done, and no longer holds up the stories that depend
 * on it. (`CIPUSNO`, "not relevant", is not done: someone decided not to deliver it.)
 */
export const DONE_STORY_STATUSES: readonly string[] = ['CIPUSCLOSE', 'CIPTKCLOSE'];

/** Whether a story with this Cloud ALM status is done. */
export function isStoryDone(status: string): boolean {
  return DONE_STORY_STATUSES.includes(status);
}

/** A dependency that still holds the story up. */
export interface OpenDependency {
  storyId: string;
  displayId: string | null;
  title: string;
  status: string;
  source: DependencySource;
  /** How a message names it: display id (or hub id) and title. */
  label: string;
}

/** Whether a dependency still holds its story up: the story depended on is neither done nor gone from Cloud ALM. */
export const isOpen = (row: Pick<DependencyRow, 'status' | 'obsolete'>): boolean =>
  !isStoryDone(row.status) && row.obsolete === 0;

/**
 * The stories `storyId` depends on that are not done yet. A story gone from Cloud ALM (obsolete)
 * holds nothing up. Reads the hub's copy: call `refreshCalmDependencies` first to take in Cloud
 * ALM's current relations.
 */
export async function openDependencies(
  db: Kysely<HubTables>,
  tenantId: string,
  storyId: string,
): Promise<OpenDependency[]> {
  const rows = await dependenciesOf(db, tenantId, storyId);
  return rows.filter(isOpen).map((row) => ({
    storyId: row.depends_on_story_id,
    displayId: row.display_id,
    title: row.title,
    status: row.status,
    source: row.source,
    label: `${row.display_id ?? row.depends_on_story_id} ${row.title}`,
  }));
}
