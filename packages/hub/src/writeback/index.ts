export {
  FEATURE_LEVEL,
  WRITE_BACK_ACTIONS,
  WRITE_BACK_TARGETS,
  type WriteBackAction,
  type WriteBackTargetKind,
} from './actions.js';
export {
  enqueueWriteBack,
  enqueueWriteBackByCalmId,
  type WriteBackEnqueued,
  type WriteBackInput,
} from './enqueue-write-back.js';
export { WRITE_BACK_FLUSH } from './jobs.js';
