import Type, { type Static } from 'typebox';

/**
 * Every setting calmhub reads, with its default. Variables are `CALMHUB_<KEY_IN_SNAKE_CASE>`
 * except the conventional HOST, PORT and DATABASE_URL (see `envName`).
 * A config file (JSON, `--config <file>` or `CALMHUB_CONFIG`) may set the same keys by name;
 * environment variables win over the file.
 */
export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Interface the hub listens on.' }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 4000,
      description: 'Port the hub listens on (0 picks a free one).',
    }),
    databaseUrl: Type.String({
      default: '',
      pattern: '^(|postgres(ql)?://.*)$',
      description: 'PostgreSQL connection string (postgres://...). Empty: SQLite file in the data directory.',
    }),
    dataDir: Type.String({
      minLength: 1,
      default: './data',
      description: 'Directory for the SQLite database and other local files.',
    }),
    logLevel: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info', description: 'Minimum level of the JSON log lines written to stdout.' },
    ),
    sqliteSynchronous: Type.Union([Type.Literal('NORMAL'), Type.Literal('FULL')], {
      default: 'NORMAL',
      description:
        'SQLite `synchronous` pragma. NORMAL (WAL) survives process crashes; FULL also survives power loss.',
    }),
    jobConcurrency: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 10,
      description: 'Jobs one worker runs at the same time.',
    }),
    jobLeaseMs: Type.Integer({
      minimum: 1000,
      default: 60_000,
      description:
        'How long a claimed job stays locked without a heartbeat before another worker may take it.',
    }),
    jobPollIntervalMs: Type.Integer({
      minimum: 10,
      default: 1000,
      description: 'Longest a worker sleeps between looks for due jobs when no wake-up arrives.',
    }),
    jobMaxAttempts: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Attempts before a job is marked dead (per-job value wins).',
    }),
    publicUrl: Type.String({
      default: '',
      pattern: '^(|https?://[^\\s?#]+)$',
      description:
        'Base URL under which Cloud ALM and browsers reach the hub (webhook URLs are built on it). Empty: the listening address.',
    }),
    masterKey: Type.String({
      default: '',
      pattern: '^(|[A-Za-z0-9+/_-]{43}=?)$',
      description:
        'Base64 of the 32-byte key that encrypts stored secrets. Empty: the key file master.key in the data directory, created on first start (mode 0600).',
    }),
    adminEmail: Type.String({
      default: 'admin@localhost',
      minLength: 3,
      description: 'E-mail of the admin user the first start creates, with the first API token.',
    }),
    outboundTimeoutMs: Type.Integer({
      minimum: 100,
      default: 30_000,
      description: 'Timeout of one call to Cloud ALM or another remote system, token requests included.',
    }),
    syncPageSize: Type.Integer({
      minimum: 1,
      maximum: 5000,
      default: 500,
      description: 'Items per page when the hub reads Cloud ALM collections ($top, limit).',
    }),
    syncDeltaIntervalMs: Type.Integer({
      minimum: 1000,
      default: 60_000,
      description:
        'Reconcile: how often each enabled integration asks Cloud ALM for what changed (a delta sync), webhook or not.',
    }),
    syncSweepIntervalMs: Type.Integer({
      minimum: 1000,
      default: 900_000,
      description:
        'Reconcile: how often an id sweep finds items deleted in Cloud ALM and marks them obsolete.',
    }),
    syncOverlapMs: Type.Integer({
      minimum: 0,
      default: 120_000,
      description:
        'A delta asks for changes since the last watermark minus this much, so nothing on the boundary is missed.',
    }),
    syncMaxFailures: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'Failed calls in a row, without a page of progress, before a sync run is marked failed.',
    }),
    calmMaxConcurrency: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 4,
      description:
        'Calls to one Cloud ALM host in flight at the same time, across all syncs of this process.',
    }),
    calmRequestsPerSecond: Type.Integer({
      minimum: 1,
      default: 50,
      description: 'Token bucket per Cloud ALM host: calls per second (bursts up to one second of them).',
    }),
    writebackBatchWindowMs: Type.Integer({
      minimum: 0,
      default: 1000,
      description:
        'How long write-backs to one Cloud ALM item wait to be joined into one comment; 0 writes each at once.',
    }),
    writebackFeatureBatchWindowMs: Type.Integer({
      minimum: 0,
      default: 3000,
      description:
        "How long lines under a feature's description and its external references wait to be joined into one write (at least writebackBatchWindowMs).",
    }),
    webhookBurstProcessingShare: Type.Number({
      minimum: 0.05,
      maximum: 1,
      default: 0.05,
      description:
        'While the webhook endpoint takes more than 500 deliveries a second, the share of the event loop processing them may take (1: no limit); the endpoint keeps the rest, and processing catches up after the burst.',
    }),
    webhookBurstProcessingDelayMs: Type.Integer({
      minimum: 0,
      default: 10_000,
      description:
        'While the webhook endpoint takes more than 500 deliveries a second, how long processing waits for the burst to end before it takes its share (webhookBurstProcessingShare); 0: it takes its share at once.',
    }),
    shutdownTimeoutMs: Type.Integer({
      minimum: 0,
      default: 10_000,
      description: 'On SIGTERM, how long to wait for in-flight requests and jobs before releasing them.',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ConfigKey = keyof Config;

const CONVENTIONAL: Partial<Record<ConfigKey, string>> = {
  host: 'HOST',
  port: 'PORT',
  databaseUrl: 'DATABASE_URL',
};

export function envName(key: ConfigKey): string {
  return CONVENTIONAL[key] ?? `CALMHUB_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
