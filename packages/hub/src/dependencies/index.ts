/** What other domains (runs, inbox) use of story dependencies. */
export {
  DONE_STORY_STATUSES,
  isStoryDone,
  type OpenDependency,
  openDependencies,
} from './open-dependencies.js';
export { dependedOnTaskIds, type RefreshDeps, refreshCalmDependencies } from './refresh-calm-dependencies.js';
