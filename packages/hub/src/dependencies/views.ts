import { iso } from '../access/views.js';
import type { DependencySource } from '../store/tables.js';
import { isOpen } from './open-dependencies.js';
import type { DependencyRow } from './store.js';

export interface DependencyView {
  /** The story depended on. */
  storyId: string;
  projectId: string;
  displayId: string | null;
  title: string;
  status: string;
  obsolete: boolean;
  /** Done (a closed status) or gone from Cloud ALM: it holds nothing up any more. */
  open: boolean;
  source: DependencySource;
  /** A user id, or `calm` for a Cloud ALM relation. */
  createdBy: string;
  createdAt: string;
}

export function dependencyView(row: DependencyRow): DependencyView {
  return {
    storyId: row.depends_on_story_id,
    projectId: row.project_id,
    displayId: row.display_id,
    title: row.title,
    status: row.status,
    obsolete: row.obsolete === 1,
    open: isOpen(row),
    source: row.source,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
  };
}
