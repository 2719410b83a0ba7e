export { ConfigError, describeConfig, type LoadConfigOptions, loadConfig } from './config/load-config.js';
export { type Config, type ConfigKey, ConfigSchema, envName } from './config/schema.js';
export { AppError, codeForStatus, ERROR_CODES, ERROR_STATUS, type ErrorCode } from './errors/app-error.js';
export {
  closeWithin,
  createHttpApp,
  ErrorResponse,
  type HttpApp,
  type HttpAppOptions,
} from './http/create-http-app.js';
export {
  type ErrorBody,
  type ErrorHandlerOptions,
  errorBody,
  installErrorHandler,
} from './http/error-handler.js';
export { type Backoff, exponentialBackoff } from './jobs/backoff.js';
export { createJobQueue } from './jobs/create-job-queue.js';
export { jobsMigrations } from './jobs/migrations.js';
export type { JobQueueOptions } from './jobs/sql-job-queue.js';
export type { Executor, FailOutcome, Job, JobQueue, JobSpec, JobState, ScheduleSpec } from './jobs/types.js';
export {
  type JobContext,
  type JobHandler,
  JobWorker,
  PermanentJobError,
  RetryJobError,
  type WorkerOptions,
} from './jobs/worker.js';
export { type Service, startService } from './lifecycle/service.js';
export { createLogger, type Logger, REDACT_PATHS, redactUrl } from './logging/logger.js';
export {
  type ColumnTypes,
  columnTypes,
  type MigrationContext,
  type MigrationSet,
  migrateToLatest,
  pendingMigrations,
  type StoreMigration,
} from './store/migrations.js';
export {
  createStore,
  type Dialect,
  readJson,
  type Store,
  type StoreOptions,
  writeJson,
} from './store/store.js';
