/**
 * The hub's webhook endpoint under load, next to a raw `node:http` server in the same run.
 *
 *   npm run bench:webhook                   (10 connections, pipelining 1, 10 s each in 3 turns)
 *   BENCH_CONNECTIONS=50 BENCH_DURATION_S=20 npm run bench:webhook
 *
 * Processes besides this one: the baseline (a no-op `node:http` server answering 202), three more
 * servers for reference (the same storing one SQLite row per request; a lean durable edge, the
 * least a correct one does, see raw-server.ts; the hub's HTTP skeleton with a no-op route), the
 * hub (`calmhub serve`, SQLite in a temporary directory, its job worker running, as users run
 * it), and the load generator (autocannon), so no server shares an event loop with the load. The hub is then loaded again at a fixed rate (BENCH_FIXED_RATE_SHARE of the
 * raw throughput, default 0.5) for its p99 below saturation. The
 * sandbox (demo seed) runs in this process; the hub's integration is linked to its Finance
 * project, so processing reads each feature from its Cloud ALM API. Every request is a distinct
 * FEATURE.UPDATED event (its own `webhook-id` and `modifiedAt`) about one of that project's
 * features, round robin.
 *
 * After each of the hub's turns (but the last when no fixed-rate run follows), the bench waits until
 * the hub has processed what it acknowledged, so that its catching up does not share the machine
 * with the next turn.
 * After the last load, the hub's SQLite file is read (read-only) until every delivery is processed
 * or BENCH_DRAIN_TIMEOUT_S has passed: lag = processed_at - received_at. Every acknowledged delivery
 * (each 202's id, warm-up included) must be a row of the inbox.
 * Goals: hub ≥ 70 % of the raw server's throughput; hub p99 ≤ 10 ms on SQLite.
 * Each server's figure per turn is printed too: a turn far off the others shows a disturbed run.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { landedBytes, landedDeliveries } from '@calmhub/hub';
import { DEMO_PROJECT_ID, startSandbox } from '@calmhub/sandbox';
import Database from 'better-sqlite3';
import { children, json, percentile, spawnLines, tsxArgs } from '../shared/process.js';
import type { LoadResult, LoadSettings } from './load.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 1);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
const DRAIN_TIMEOUT_S = Number(process.env.BENCH_DRAIN_TIMEOUT_S ?? 180);
/** The hub's call budget towards Cloud ALM (default of the product: 50/s); processing needs one call per event. */
const CALM_RPS = Number(process.env.BENCH_CALM_RPS ?? 1000);
/** Diagnosis: the integration disabled, so deliveries are stored as `ignored` and nothing is enqueued. */
const INGEST_ONLY = process.env.BENCH_INGEST_ONLY === '1';
/** Share of the raw throughput offered to the hub in the fixed-rate run (0: no such run). */
const FIXED_RATE_SHARE = Number(process.env.BENCH_FIXED_RATE_SHARE ?? 0.5);
/**
 * The servers are loaded in turns, BENCH_ROUNDS times (each turn DURATION_S / ROUNDS seconds):
 * a slow spell of a shared machine then falls on every server alike instead of on one of them.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
/** Diagnosis: only these servers are loaded (comma-separated labels, e.g. `raw,lean-edge,hub`); the others' figures print as NaN. */
const ONLY = process.env.BENCH_SERVERS?.split(',');
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const sandbox = await startSandbox({ port: 0, memory: true, seed: 'demo', logLevel: 'silent' });
const dataDir = mkdtempSync(join(tmpdir(), 'calmhub-bench-webhook-'));

/** The ids files of every run, by label: every id acknowledged must be in the inbox. */
const idsFiles = new Map<string, string[]>();

async function load(
  url: string,
  label: string,
  featureIds: string[],
  turn: { durationSeconds: number; warmupSeconds: number; index: number },
  overallRate?: number,
): Promise<{ result: LoadResult; latencies: number[] }> {
  const file = (kind: string) => join(dataDir, `${label}-${turn.index}-${kind}.json`);
  const settings: LoadSettings = {
    ...(overallRate ? { overallRate } : {}),
    url,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    durationSeconds: turn.durationSeconds,
    warmupSeconds: turn.warmupSeconds,
    featureIds,
    runTag: `${label}-${turn.index}-${Date.now()}`,
    idsFile: file('ids'),
    latenciesFile: file('latencies'),
  };
  idsFiles.set(label, [...(idsFiles.get(label) ?? []), settings.idsFile]);
  const { match } = spawnLines(
    [...tsxArgs, here('./load.ts')],
    { BENCH_LOAD: JSON.stringify(settings) },
    /^(\{"requestsPerSecond".*\})$/m,
    2 * (turn.warmupSeconds + turn.durationSeconds) + 60,
  );
  const result = JSON.parse((await match)[1] as string) as LoadResult;
  return { result, latencies: JSON.parse(readFileSync(file('latencies'), 'utf8')) as number[] };
}

/** Runs of one server combined: requests over time, and percentiles over every latency. */
function combine(runs: Array<{ result: LoadResult; latencies: number[] }>): LoadResult {
  const sorted = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const sum = (pick: (r: LoadResult) => number) => runs.reduce((total, r) => total + pick(r.result), 0);
  const statusCodes: Record<string, number> = {};
  for (const { result } of runs)
    for (const [code, n] of Object.entries(result.statusCodes))
      statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    requestsPerSecond: sum((r) => r.requests) / sum((r) => r.durationSeconds),
    requests: sum((r) => r.requests),
    durationSeconds: sum((r) => r.durationSeconds),
    statusCodes,
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    latency: {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
      mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    },
    acknowledged: sum((r) => r.acknowledged),
    warmupRequests: sum((r) => r.warmupRequests),
  };
}

try {
  // Cloud ALM side: a token and the Finance project's features.
  const key = sandbox.serviceKey;
  const token = await json<{ access_token: string }>(`${key.uaa.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: key.uaa.clientid,
      client_secret: key.uaa.clientsecret,
    }).toString(),
  });
  const features = (
    await json<{ value: Array<{ uuid: string }> }>(
      `${key.endpoints.Api}/calm-features/v1/Features?$filter=projectId eq ${DEMO_PROJECT_ID}&$select=uuid`,
      { headers: { authorization: `Bearer ${token.access_token}` } },
    )
  ).value.map((f) => f.uuid);
  if (features.length === 0) throw new Error('The demo Finance project has no features');

  // The baseline servers, each its own process; each prints its URL.
  const baseline = async (file: string, env: Record<string, string> = {}) =>
    (
      await spawnLines(
        [...(process.env.BENCH_BASELINE_NODE_ARGS ?? '').split(' ').filter(Boolean), ...tsxArgs, here(file)],
        env,
        /"url":"(http:\/\/[^"]+)"/,
        60,
      ).match
    )[1] as string;
  const rawUrl = await baseline('./raw-server.ts');
  const rawSqliteUrl = await baseline('./raw-server.ts', {
    BENCH_RAW_SQLITE: join(dataDir, 'raw-baseline.sqlite'),
  });
  const leanEdgeUrl = await baseline('./raw-server.ts', {
    BENCH_LEAN_EDGE: join(dataDir, 'lean-edge.sqlite'),
  });
  const fastifyUrl = await baseline('./fastify-server.ts');

  // The hub, its own process: the built CLI as users run it, the sources through tsx otherwise.
  const built = here('../../packages/cli/dist/main.js');
  const hubArgs = existsSync(built) ? [built] : [...tsxArgs, here('../../packages/cli/src/main.ts')];
  // The node flags the `calmhub` command runs with (its shebang line), as users run it; then
  // BENCH_HUB_NODE_ARGS: extra ones, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const shebang = readFileSync(here('../../packages/cli/bin/calmhub.js'), 'utf8').split('\n')[0] ?? '';
  const hubNodeArgs = [
    ...(/^#!\/usr\/bin\/env -S node (.*)$/.exec(shebang)?.[1] ?? '').split(' '),
    ...(process.env.BENCH_HUB_NODE_ARGS ?? '').split(' '),
  ].filter(Boolean);
  const hubSpawn = spawnLines(
    [...hubNodeArgs, ...hubArgs, 'serve', '--port', '0', '--data-dir', dataDir],
    {
      // The listening line (info) gives the hub's URL; info is also the product's default level.
      CALMHUB_LOG_LEVEL: 'info',
      CALMHUB_SYNC_DELTA_INTERVAL_MS: '86400000',
      CALMHUB_SYNC_SWEEP_INTERVAL_MS: '86400000',
      CALMHUB_CALM_REQUESTS_PER_SECOND: String(CALM_RPS),
    },
    /"url":"(http:\/\/[^"]+)".*calmhub hub listening/,
    120,
  );
  const hubUrl = (await hubSpawn.match)[1] as string;
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const hub = <T = unknown>(method: string, path: string, body?: unknown) =>
    json<T>(`${hubUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const project = await hub<{ id: string }>('POST', '/api/v1/projects', { name: 'Bench' });
  const credential = await hub<{ id: string }>('POST', '/api/v1/credentials', {
    name: 'Cloud ALM',
    serviceKey: key,
  });
  const integration = await hub<{ id: string }>('POST', `/api/v1/projects/${project.id}/integrations`, {
    name: 'Finance',
    credentialId: credential.id,
    calmProjectId: DEMO_PROJECT_ID,
  });
  if (INGEST_ONLY) await hub('PATCH', `/api/v1/integrations/${integration.id}`, { enabled: false });
  const webhook = await hub<{ path: string; url: string }>(
    'GET',
    `/api/v1/integrations/${integration.id}/webhook`,
  );

  // The same load against each in turns, ROUNDS times; then the hub again at a fixed rate.
  const servers = [
    ['raw', rawUrl],
    ['raw-sqlite', rawSqliteUrl],
    ['lean-edge', leanEdgeUrl],
    ['fastify', fastifyUrl],
    ['hub', webhook.url],
  ] as const;
  // The hub's SQLite file, read-only: what is still waiting for processing (landed or received).
  const hubFile = join(dataDir, 'calmhub.sqlite');
  const db = new Database(hubFile, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const pending = db.prepare<[string], { n: number }>(
    "SELECT count(*) AS n FROM hub_webhook_inbox WHERE integration_id = ? AND self_test = 0 AND state = 'received'",
  );
  // On SQLite the edge lands deliveries in its journal first (a file next to the database);
  // processing moves them into the inbox, and this row says up to where.
  const moved = db.prepare<[], { generation: number; position: number }>(
    'SELECT generation, position FROM hub_webhook_landing_moved WHERE id = 1',
  );
  const landed = (id: string) => landedDeliveries(hubFile, moved.get()).filter((d) => d.integrationId === id);
  const journalLeft = () => landedBytes(hubFile, moved.get()) > 0;
  // Cheap enough to poll: a delivery still in the journal counts as one until the journal is empty.
  const waiting = (id: string) => (pending.get(id)?.n ?? 0) + (journalLeft() ? 1 : 0);
  /** Until the hub has processed what it acknowledged (or the timeout): its catching up must not load the next server's turn. */
  const drained = async (since: number) => {
    let left = waiting(integration.id);
    while (left > 0 && performance.now() - since < DRAIN_TIMEOUT_S * 1000) {
      await new Promise((r) => setTimeout(r, 100));
      left = waiting(integration.id);
    }
    return left;
  };

  const runs = new Map<string, Array<{ result: LoadResult; latencies: number[] }>>();
  for (let index = 0; index < ROUNDS; index++) {
    const turn = { durationSeconds: DURATION_S / ROUNDS, warmupSeconds: index === 0 ? WARMUP_S : 1, index };
    for (const [label, url] of servers) {
      if (ONLY && !ONLY.includes(label)) continue;
      runs.set(label, [...(runs.get(label) ?? []), await load(url, label, features, turn)]);
      if (label === 'hub' && (index < ROUNDS - 1 || FIXED_RATE_SHARE > 0)) await drained(performance.now());
    }
  }
  const [rawResult, rawSqliteResult, leanEdgeResult, fastifyResult, hubResult] = servers.map(([label]) =>
    combine(runs.get(label) ?? []),
  ) as [LoadResult, LoadResult, LoadResult, LoadResult, LoadResult];
  const fixedRate = Math.max(1, Math.round(rawResult.requestsPerSecond * FIXED_RATE_SHARE));
  const hubFixedResult =
    FIXED_RATE_SHARE > 0
      ? combine([
          await load(
            webhook.url,
            'hub-fixed',
            features,
            { durationSeconds: DURATION_S, warmupSeconds: 1, index: 0 },
            fixedRate,
          ),
        ])
      : undefined;
  const loadEnded = performance.now();

  // Processing after the last load: until nothing is left waiting.
  const leftAtLoadEnd = (pending.get(integration.id)?.n ?? 0) + landed(integration.id).length;
  const left = await drained(loadEnded);
  const drainSeconds = (performance.now() - loadEnded) / 1000;
  const rows = [
    ...db
      .prepare<[string], { id: string; state: string; received_at: number; processed_at: number | null }>(
        'SELECT id, state, received_at, processed_at FROM hub_webhook_inbox WHERE integration_id = ? AND self_test = 0',
      )
      .all(integration.id),
    ...landed(integration.id)
      .filter((d) => d.selfTest === 0)
      .map((d) => ({ id: d.id, state: 'landed', received_at: d.receivedAt, processed_at: null })),
  ];
  db.close();
  const states: Record<string, number> = {};
  for (const row of rows) states[row.state] = (states[row.state] ?? 0) + 1;
  const lags = rows
    .filter((r) => r.processed_at !== null)
    .map((r) => (r.processed_at as number) - r.received_at)
    .sort((a, b) => a - b);
  const firstReceived = rows.reduce((min, r) => Math.min(min, r.received_at), Number.POSITIVE_INFINITY);
  const lastProcessed = rows.reduce((max, r) => Math.max(max, r.processed_at ?? 0), 0);
  const acknowledgedIds = ['hub', 'hub-fixed']
    .flatMap((label) => idsFiles.get(label) ?? [])
    .flatMap((file) => JSON.parse(readFileSync(file, 'utf8')) as string[]);
  const stored = new Set(rows.map((r) => r.id));
  const missing = acknowledgedIds.filter((id) => !stored.has(id)).length;

  const ratio = hubResult.requestsPerSecond / rawResult.requestsPerSecond;
  const ratioToSqlite = hubResult.requestsPerSecond / rawSqliteResult.requestsPerSecond;
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  const pct = (n: number) => `${(n * 100).toFixed(1)} %`;
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const codes = (r: LoadResult) =>
    `${Object.entries(r.statusCodes)
      .map(([c, n]) => `${n}×${c}`)
      .join(', ')}${r.errors ? `, ${r.errors} errors (${r.timeouts} timeouts)` : ''}`;
  const figures = (r: LoadResult) =>
    `${r.requestsPerSecond.toFixed(0)} req/s, p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)}, max ${ms(r.latency.max)} (${codes(r)})`;
  const out = [
    [
      'load',
      `autocannon, ${CONNECTIONS} connections, pipelining ${PIPELINING}, ${DURATION_S} s per server in ${ROUNDS} turns (${WARMUP_S} s warm-up first, 1 s before each later turn), ${features.length} features round robin`,
    ],
    ['raw node:http (202 no-op)', figures(rawResult)],
    ['raw node:http + 1 SQLite insert', figures(rawSqliteResult)],
    ['lean durable edge (reference)', figures(leanEdgeResult)],
    ['hub HTTP skeleton, no-op route', figures(fastifyResult)],
    [
      INGEST_ONLY ? 'hub webhook (SQLite, integration off)' : 'hub webhook (SQLite, worker on)',
      figures(hubResult),
    ],
    ...(hubFixedResult
      ? [
          [
            `hub webhook at a fixed rate`,
            `offered ${fixedRate} req/s (${pct(FIXED_RATE_SHARE)} of raw), got ${figures(hubFixedResult)}`,
          ],
        ]
      : []),
    ['ratio hub / raw', `${pct(ratio)}`],
    ['ratio hub / raw+SQLite', `${pct(ratioToSqlite)} (second baseline, for reference)`],
    ['ratio hub / lean edge', `${pct(hubResult.requestsPerSecond / leanEdgeResult.requestsPerSecond)}`],
    ['ratio raw+SQLite / raw', `${pct(rawSqliteResult.requestsPerSecond / rawResult.requestsPerSecond)}`],
    ['ratio lean edge / raw', `${pct(leanEdgeResult.requestsPerSecond / rawResult.requestsPerSecond)}`],
    ['ratio no-op skeleton / raw', `${pct(fastifyResult.requestsPerSecond / rawResult.requestsPerSecond)}`],
    ['goal: throughput >= 70 % of raw', `${pct(ratio)}: ${verdict(ratio >= 0.7)}`],
    [
      'goal: p99 <= 10 ms (saturation)',
      `${ms(hubResult.latency.p99)}: ${verdict(hubResult.latency.p99 <= 10)}`,
    ],
    ...(hubFixedResult
      ? [
          [
            `p99 at the fixed rate (for reference)`,
            `${ms(hubFixedResult.latency.p99)}: ${hubFixedResult.latency.p99 <= 10 ? 'within' : 'over'} 10 ms`,
          ],
        ]
      : []),
    [
      'goal: acknowledged in inbox',
      `${acknowledgedIds.length - missing} / ${acknowledgedIds.length} acknowledged (202) deliveries stored: ${verdict(missing === 0)}${missing === 0 ? '' : `, ${missing} missing`} (${rows.length} rows; the extra ones were in flight when autocannon stopped)`,
    ],
    [
      'processing lag (received -> processed)',
      `p50 ${(percentile(lags, 50) / 1000).toFixed(2)} s, p99 ${(percentile(lags, 99) / 1000).toFixed(2)} s, max ${((lags.at(-1) ?? Number.NaN) / 1000).toFixed(2)} s over ${lags.length} processed`,
    ],
    [
      'drain',
      left === 0
        ? `all processed ${drainSeconds.toFixed(2)} s after the load ended (${leftAtLoadEnd} were waiting then); ${(lags.length / ((lastProcessed - firstReceived) / 1000)).toFixed(0)} deliveries/s processed from first receipt to last processing; Cloud ALM budget ${CALM_RPS} calls/s`
        : `NOT DRAINED: ${left} still waiting after ${DRAIN_TIMEOUT_S} s (${leftAtLoadEnd} at load end); Cloud ALM budget ${CALM_RPS} calls/s`,
    ],
    [
      'turns (req/s, p99 ms)',
      servers
        .map(
          ([label]) =>
            `${label} ${(runs.get(label) ?? []).map((r) => `${r.result.requestsPerSecond.toFixed(0)}/${r.result.latency.p99.toFixed(1)}`).join(' ')}`,
        )
        .join('; '),
    ],
    [
      'states',
      Object.entries(states)
        .map(([s, n]) => `${s} ${n}`)
        .join(', '),
    ],
  ];
  const width = Math.max(...out.map(([k]) => (k as string).length));
  for (const [k, v] of out) console.log(`${(k as string).padEnd(width)}  ${v}`);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    children.map((child) =>
      child.exitCode === null ? new Promise((r) => child.once('exit', r)) : Promise.resolve(),
    ),
  );
  await sandbox.stop();
  if (process.env.BENCH_KEEP_DATA === '1') console.log(`data kept in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}
