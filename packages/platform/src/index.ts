export { ConfigError, describeConfig, type LoadConfigOptions, loadConfig } from './config/load-config.js';
export { type Config, type ConfigKey, ConfigSchema, envName } from './config/schema.js';
export { AppError, codeForStatus, ERROR_CODES, ERROR_STATUS, type ErrorCode } from './errors/app-error.js';
export {
  addRawRoute,
  closeWithin,
  createHttpApp,
  DEFAULT_REQUEST_TIMEOUT_MS,
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
export type { RawReply, RawRequest, RawRoute } from './http/raw-routes.js';
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
export { describeStartFailure } from './lifecycle/start-failure.js';
export { createLogger, type Logger, REDACT_PATHS } from './logging/logger.js';
export {
  isSecretName,
  LOG_MASK,
  OUTBOUND_MASK,
  redactHeaders,
  redactOutboundUrl,
  redactRequestUrl,
} from './logging/redact.js';
export {
  type ClassifiedFailure,
  classifyFailure,
  errorMessage,
  type FailureKind,
  isRetryableStatus,
} from './outbound/classify.js';
export { retryAfterMs } from './outbound/retry-after.js';
export { type CachedToken, TokenCache, usableUntil } from './outbound/token-cache.js';
export {
  constantTimeEqual,
  createSecretBox,
  MASTER_KEY_BYTES,
  matchesSecretBytes,
  matchesSecretDigest,
  parseMasterKey,
  readOrCreateKeyFile,
  type SecretBox,
  secretDigest,
} from './secrets/secret-box.js';
export { fixedSql, multiRowInsertSql, sqlPlaceholders } from './store/fixed-sql.js';
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
  type SqliteAccess,
  type SqliteStatement,
  type Store,
  type StoreOptions,
  writeJson,
} from './store/store.js';
