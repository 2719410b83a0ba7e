/**
 * A feature status change in Cloud ALM, end to end through the hub: pushed by the sandbox's
 * External API Management, stored by the hub's webhook edge, the feature read back from Cloud ALM,
 * the transition recorded, the status → action map's promotion consumed as a pipeline run (stage
 * started), and the run's write-back comment posted on the story's Cloud ALM task (comment visible).
 * Next to it, in the same run, the sandbox's own push latency to a no-op receiver.
 *
 *   npm run bench:e2e                                  (100 changes, one at a time)
 *   BENCH_CHANGES=20 npm run bench:e2e
 *   BENCH_HUB_CALM_RPS=1000 npm run bench:e2e          (tunes the spawned hub; printed as such)
 *   BENCH_WRITEBACK_OFF=feature_line,feature_reference npm run bench:e2e   (diagnosis; printed)
 *
 * Processes: the sandbox (seeded with one project of BENCH_FEATURES features, each with exactly one
 * user story) runs in this process; the hub (`calmhub serve`, the built CLI when present, SQLite in
 * a temporary directory, write-back batch window 0) and the baseline (a raw `node:http` receiver
 * answering 200, bench/e2e/receiver.ts) are their own processes. Both are subscribed at once, each
 * through its own destination, webhook and FEATURE subscription, and the project opted in to both:
 * every change is pushed to both, so each change has its own baseline.
 *
 * Each change is a distinct feature, In Implementation → In Testing through the public Features API
 * (`PATCH …/Features/{uuid}`, the sandbox's status rules apply); the hub's map says In Testing
 * promotes into stage `test` of the project's default pipeline (Development → Quality, no tasks).
 * t0 is taken right before the PATCH; the next change starts once the previous one's comment is
 * there and both systems are idle again (no due jobs, no delivery in flight).
 *
 * Points per change (all epoch ms, one clock):
 * - baseline arrival: when the receiver had read the push's body;
 * - stage started: `at` of the run's first `hub_run_events` row (the hub's SQLite, read-only);
 * - comment visible: `createdTimestamp` (ms precision) of the comment on the story's task, read
 *   through the public Tasks API; it is stamped in the transaction that makes it visible.
 * "Added by the hub" = (point − t0) − (baseline arrival − t0), per change.
 * Goal: added by the hub at the comment point, p50 ≤ 30 ms and p99 ≤ 150 ms.
 * The hops come from the hub's tables (inbox, transitions, promotion requests, runs, write-backs)
 * and the sandbox's (change events, push attempts), and are printed as p50/p99 each, with the
 * pushes the hub got and the calls it made to Cloud ALM per change (the sandbox's request log).
 * Percentiles are nearest-rank. BENCH_KEEP_DATA=1 keeps the hub's data directory; BENCH_HUB_LOG=1
 * copies its log to stderr.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Sandbox, startSandbox } from '@calmhub/sandbox';
import Database from 'better-sqlite3';
import { children, json, percentile, spawnLines, tsxArgs } from '../shared/process.js';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
/** Features (and stories, one each) in the seeded project; about a seventh start In Implementation. */
const FEATURES = Number(process.env.BENCH_FEATURES ?? 1000);
/** Longest wait for one change's comment before the change counts as missing. */
const CHANGE_TIMEOUT_S = Number(process.env.BENCH_CHANGE_TIMEOUT_S ?? 20);
/** Tuning of the spawned hub, applied only when set (and then printed with the figures). */
const HUB_TUNING: Record<string, string> = Object.fromEntries(
  [
    ['BENCH_HUB_JOB_POLL_INTERVAL_MS', 'CALMHUB_JOB_POLL_INTERVAL_MS'],
    ['BENCH_HUB_JOB_CONCURRENCY', 'CALMHUB_JOB_CONCURRENCY'],
    ['BENCH_HUB_SQLITE_SYNCHRONOUS', 'CALMHUB_SQLITE_SYNCHRONOUS'],
    ['BENCH_HUB_CALM_RPS', 'CALMHUB_CALM_REQUESTS_PER_SECOND'],
    ['BENCH_HUB_CALM_CONCURRENCY', 'CALMHUB_CALM_MAX_CONCURRENCY'],
  ].flatMap(([bench, hub]) => {
    const value = process.env[bench as string];
    return value ? [[hub as string, value]] : [];
  }),
);
/**
 * Diagnosis only (changes what the hub writes back, printed as such): write-back targets and action
 * kinds switched off, comma-separated, e.g. `promotion.requested,feature_line,feature_reference`.
 */
const WRITEBACK_OFF = (process.env.BENCH_WRITEBACK_OFF ?? '').split(',').filter(Boolean);
const FROM_STATUS = 'IN_REALIZATION';
const TO_STATUS = 'IN_TESTING';
const STAGE_NAME = 'Quality';
const STARTED_TEXT = `calmhub: promotion into ${STAGE_NAME} started by`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const ascending = (values: number[]) => values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);

/** Waits for the next onEvent call the predicate accepts (the sandbox runs in this process). */
let eventListener: ((event: { eventType: string; resourceId: string }) => void) | undefined;

let sandbox: Sandbox | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'calmhub-bench-e2e-'));

interface Hops {
  committed: number;
  pushStart: number;
  hubPush: number;
  receivedVsBaseline: number;
  claim: number;
  read: number;
  act: number;
  consume: number;
  flush: number;
  behindRequested: number;
  afterRequested: number;
  merged: number;
}

interface Row {
  runs: number;
  startedComments: number;
  baseline: number;
  stage: number;
  comment: number;
  addedStage: number;
  addedComment: number;
  hops: Hops;
}

interface Change {
  featureUuid: string;
  taskId: string;
  storyId: string;
  /** Right before the status change call. */
  t0: number;
}

try {
  sandbox = await startSandbox({
    port: 0,
    memory: true,
    seedFeatures: FEATURES,
    seedStories: FEATURES,
    logLevel: 'silent',
    onEvent: (event) => eventListener?.(event),
  });
  const sb = sandbox;
  const calmProjectId = sb.seeded.large?.projectId as string;
  const key = sb.serviceKey;
  const api = key.endpoints.Api;
  const token = await json<{ access_token: string }>(`${key.uaa.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: key.uaa.clientid,
      client_secret: key.uaa.clientsecret,
    }).toString(),
  });
  const bearer = { authorization: `Bearer ${token.access_token}` };
  const admin = <T = unknown>(method: string, path: string, body?: unknown) =>
    json<T>(`${sb.url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${sb.adminToken}` },
      ...(body === undefined ? {} : { body }),
    });

  // The baseline receiver, its own process; arrivals are collected as it prints them.
  const arrivals: Array<{ at: number; resourceId: string | null; eventType: string | null }> = [];
  const receiver = spawnLines(
    [...tsxArgs, here('./receiver.ts')],
    {},
    /"url":"(http:\/\/[^"]+)"/,
    60,
    (line) => {
      if (line.startsWith('{"arrival"'))
        arrivals.push((JSON.parse(line) as { arrival: (typeof arrivals)[number] }).arrival);
    },
  );
  const receiverUrl = (await receiver.match)[1] as string;

  // The hub, its own process: the built CLI as users run it, the sources through tsx otherwise.
  const built = here('../../packages/cli/dist/main.js');
  const hubArgs = existsSync(built) ? [built] : [...tsxArgs, here('../../packages/cli/src/main.ts')];
  const hubNodeArgs = (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const hubSpawn = spawnLines(
    [...hubNodeArgs, ...hubArgs, 'serve', '--port', '0', '--data-dir', dataDir],
    {
      // The listening line (info) gives the hub's URL; info is also the product's default level.
      CALMHUB_LOG_LEVEL: 'info',
      CALMHUB_SYNC_DELTA_INTERVAL_MS: '86400000',
      CALMHUB_SYNC_SWEEP_INTERVAL_MS: '86400000',
      CALMHUB_WRITEBACK_BATCH_WINDOW_MS: '0',
      // Links written back to Cloud ALM must be https (the sandbox refuses others, as Cloud ALM does).
      CALMHUB_PUBLIC_URL: 'https://calmhub.example.com',
      ...HUB_TUNING,
    },
    /"url":"(http:\/\/[^"]+)".*calmhub hub listening/,
    120,
  );
  const hubUrl = (await hubSpawn.match)[1] as string;
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const hub = <T = unknown>(method: string, path: string, body?: unknown) =>
    json<T>(`${hubUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}` },
      ...(body === undefined ? {} : { body }),
    });

  // Link the project: credential from the service key, integration, full sync.
  const project = await hub<{ id: string }>('POST', '/api/v1/projects', { name: 'Bench' });
  const credential = await hub<{ id: string }>('POST', '/api/v1/credentials', {
    name: 'Cloud ALM',
    serviceKey: key,
  });
  const integration = await hub<{ id: string }>('POST', `/api/v1/projects/${project.id}/integrations`, {
    name: 'Cloud ALM',
    credentialId: credential.id,
    calmProjectId,
  });
  await hub('POST', `/api/v1/projects/${project.id}/pipelines`, {
    name: 'Bench',
    stages: [
      { key: 'dev', name: 'Development' },
      { key: 'test', name: STAGE_NAME },
    ],
  });
  await hub('PUT', `/api/v1/integrations/${integration.id}/status-actions`, {
    items: [{ statusCode: TO_STATUS, action: 'promote', targetStage: 'test', enabled: true }],
  });
  if (WRITEBACK_OFF.length > 0) {
    const targets = ['story_comment', 'feature_line', 'feature_reference'];
    await hub('PUT', `/api/v1/integrations/${integration.id}/writeback-settings`, {
      targets: Object.fromEntries(WRITEBACK_OFF.filter((k) => targets.includes(k)).map((k) => [k, false])),
      actions: Object.fromEntries(WRITEBACK_OFF.filter((k) => !targets.includes(k)).map((k) => [k, false])),
    });
  }
  let sync = await hub<{ id: string; state: string; error: string | null }>(
    'POST',
    `/api/v1/integrations/${integration.id}/sync`,
    { mode: 'full' },
  );
  while (sync.state === 'queued' || sync.state === 'running') {
    await sleep(50);
    sync = await hub('GET', `/api/v1/sync-runs/${sync.id}`);
  }
  if (sync.state !== 'succeeded') throw new Error(`full sync ${sync.state}: ${sync.error}`);
  const webhook = await hub<{ path: string }>('GET', `/api/v1/integrations/${integration.id}/webhook`);

  // Webhook Configuration in the sandbox's External API Management, once for each receiver.
  const subscribe = async (name: string, url: string, path: string) => {
    await admin('POST', '/eam/destinations', {
      Name: name,
      Type: 'HTTP',
      URL: url,
      ProxyType: 'Internet',
      Authentication: 'NoAuthentication',
    });
    const hook = await admin<{ id: string }>('POST', '/eam/webhooks', { name, destinationName: name, path });
    const subscription = await admin<{ id: string }>('POST', '/eam/subscriptions', {
      name: `${name} features`,
      type: 'EXTERNAL',
      resourceType: 'FEATURE',
      webhookId: hook.id,
    });
    await admin('POST', `/projects/${calmProjectId}/subscriptions`, {
      itemType: 'FEATURE',
      subscriptionId: subscription.id,
    });
    return subscription.id;
  };
  const hubSubscription = await subscribe('calmhub', hubUrl, webhook.path);
  await subscribe('baseline', receiverUrl, '/push');

  // The hub's store, read-only, for the stories it synced and later for what it did.
  const hubDb = new Database(join(dataDir, 'calmhub.sqlite'), { readonly: true, fileMustExist: true });
  hubDb.pragma('busy_timeout = 5000');
  const features = (
    await json<{ value: Array<{ uuid: string; statusCode: string }> }>(
      `${api}/calm-features/v1/Features?$filter=projectId eq ${calmProjectId}&$select=uuid,statusCode&$top=${FEATURES}`,
      { headers: bearer },
    )
  ).value.filter((f) => f.statusCode === FROM_STATUS);
  const storiesOf = hubDb.prepare<[string, string], { id: string; calm_id: string }>(
    'SELECT id, calm_id FROM hub_calm_stories WHERE integration_id = ? AND feature_calm_uuid = ? AND obsolete = 0',
  );
  const changes: Change[] = [];
  for (const feature of features) {
    const stories = storiesOf.all(integration.id, feature.uuid);
    if (stories.length !== 1) continue;
    const story = stories[0] as { id: string; calm_id: string };
    changes.push({
      featureUuid: feature.uuid,
      taskId: story.calm_id,
      storyId: story.id,
      t0: 0,
    });
    if (changes.length === CHANGES) break;
  }
  if (changes.length < CHANGES)
    throw new Error(
      `only ${changes.length} features ${FROM_STATUS} with one story among ${FEATURES}; raise BENCH_FEATURES`,
    );

  // Idle: nothing due or running in either job queue, no push in flight, nothing left in the inbox.
  const hubBusy = hubDb.prepare<[number], { n: number }>(
    "SELECT (SELECT count(*) FROM calmhub_jobs WHERE state = 'running' OR (state = 'queued' AND run_at <= ?)) + (SELECT count(*) FROM hub_webhook_inbox WHERE state = 'received') AS n",
  );
  // The sandbox's job queue and push engine, read in-process (test tooling, not the hub's way).
  const sandboxDb = sb.context.store.db.withTables<{
    calmhub_jobs: { state: string; run_at: number };
    eam_deliveries: { state: string };
    eam_attempts: { subscription_id: string; resource_id: string; started_at: number; duration_ms: number };
  }>();
  const sandboxBusy = async (): Promise<number> => {
    const jobs = await sandboxDb
      .selectFrom('calmhub_jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((eb) =>
        eb.or([
          eb('state', '=', 'running'),
          eb.and([eb('state', '=', 'queued'), eb('run_at', '<=', Date.now())]),
        ]),
      )
      .executeTakeFirst();
    const deliveries = await sandboxDb
      .selectFrom('eam_deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', 'in', ['PENDING', 'RETRYING'])
      .executeTakeFirst();
    return Number(jobs?.n ?? 0) + Number(deliveries?.n ?? 0);
  };
  const settle = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    while (quiet < 3 && Date.now() < deadline) {
      await sleep(10);
      const busy = (hubBusy.get(Date.now())?.n ?? 0) + (await sandboxBusy());
      quiet = busy === 0 ? quiet + 1 : 0;
    }
  };
  const startedComment = async (taskId: string) =>
    (await sb.context.db
      .selectFrom('sandbox_comments')
      .select(['id', 'created_at'])
      .where('task_id', '=', taskId)
      .where('text', 'like', `%${STARTED_TEXT}%`)
      .executeTakeFirst()) !== undefined;
  await settle(10_000);

  // The changes, one at a time; the sandbox counts the calls the hub makes meanwhile.
  sb.context.requestLog.reset();
  const loadBefore = loadavg()[0] as number;
  const runStarted = Date.now();
  let missing = 0;
  for (const change of changes) {
    let seen: () => void = () => {};
    const commentSeen = new Promise<void>((resolve) => {
      seen = resolve;
    });
    eventListener = (event) => {
      if (event.eventType === 'TASK.UPDATED' && event.resourceId === change.taskId)
        void startedComment(change.taskId).then((found) => found && seen());
    };
    change.t0 = Date.now();
    await json(`${api}/calm-features/v1/Features/${change.featureUuid}`, {
      method: 'PATCH',
      headers: bearer,
      body: { statusCode: TO_STATUS },
    });
    // A slow fallback in case an event is missed; it only paces the loop, it measures nothing.
    const deadline = change.t0 + CHANGE_TIMEOUT_S * 1000;
    let done = false;
    void commentSeen.then(() => {
      done = true;
    });
    while (!done && Date.now() < deadline) {
      await Promise.race([commentSeen, sleep(200)]);
      if (!done && (await startedComment(change.taskId))) done = true;
    }
    eventListener = undefined;
    if (!done) missing++;
    await settle(10_000);
  }
  const runSeconds = (Date.now() - runStarted) / 1000;
  const calls = Object.entries(sb.context.requestLog.snapshot().routes)
    .filter(([route]) => route.includes(' /api/'))
    // Less the bench's own PATCH of each change.
    .map(
      ([route, counts]) =>
        [
          route.replace('/api/calm-', '').replace('/v1/', ' '),
          counts.total - (route === 'PATCH /api/calm-features/v1/Features/{key}' ? changes.length : 0),
        ] as const,
    )
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);

  // What each change produced, from the public API (comments) and the hub's store (runs, hops).
  const firstArrival = (change: Change) =>
    arrivals
      .filter(
        (a) => a.resourceId === change.featureUuid && a.eventType === 'FEATURE.UPDATED' && a.at >= change.t0,
      )
      .reduce((min, a) => Math.min(min, a.at), Number.POSITIVE_INFINITY);
  const runsOf = hubDb.prepare<
    [string],
    { id: string; created_at: number; promotion_request_id: string | null }
  >(
    'SELECT id, created_at, promotion_request_id FROM hub_pipeline_runs WHERE story_id = ? ORDER BY created_at',
  );
  const firstEvent = hubDb.prepare<[string], { at: number; state: string }>(
    'SELECT at, state FROM hub_run_events WHERE run_id = ? ORDER BY id LIMIT 1',
  );
  const inboxOf = hubDb.prepare<
    [string, string, number],
    { received_at: number; processed_at: number | null; reason: string | null }
  >(
    'SELECT received_at, processed_at, reason FROM hub_webhook_inbox WHERE integration_id = ? AND resource_id = ? AND received_at >= ? ORDER BY received_at LIMIT 1',
  );
  const transitionOf = hubDb.prepare<[string, string, string], { id: number; recorded_at: number }>(
    'SELECT id, recorded_at FROM hub_status_transitions WHERE integration_id = ? AND calm_id = ? AND to_status = ? ORDER BY id LIMIT 1',
  );
  const promotionOf = hubDb.prepare<[string, number], { id: string; created_at: number }>(
    'SELECT id, created_at FROM hub_promotion_requests WHERE story_id = ? AND transition_id = ?',
  );
  const commentRows = hubDb.prepare<
    [string],
    { action: string; created_at: number; written_at: number | null; remote_id: string | null }
  >(
    "SELECT action, created_at, written_at, remote_id FROM hub_writebacks WHERE item_id = ? AND target_kind = 'story_comment' ORDER BY created_at",
  );
  const rows: Row[] = [];
  for (const change of changes) {
    const comments = await json<Array<{ id: string; text: string; createdTimestamp: string }>>(
      `${api}/calm-tasks/v1/tasks/${change.taskId}/comments`,
      { headers: bearer },
    );
    // A batch is one comment with a line per write-back: the stage-started line may be any of them.
    const started = comments.filter((c) => c.text.split('\n').some((line) => line.startsWith(STARTED_TEXT)));
    const runs = runsOf.all(change.storyId);
    const run = runs[0];
    const event = run ? firstEvent.get(run.id) : undefined;
    const inbox = inboxOf.get(integration.id, change.featureUuid, change.t0);
    const transition = transitionOf.get(integration.id, change.featureUuid, TO_STATUS);
    const promotion = transition ? promotionOf.get(change.storyId, transition.id) : undefined;
    const writes = commentRows.all(change.storyId);
    const startedRow = writes.find((w) => w.action === 'stage.started');
    const requestedRow = writes.find((w) => w.action === 'promotion.requested');
    const changeEvent = await sb.context.db
      .selectFrom('sandbox_events')
      .select('created_at')
      .where('resource_id', '=', change.featureUuid)
      .where('created_at', '>=', change.t0)
      .orderBy('seq')
      .executeTakeFirst();
    const attempt = await sandboxDb
      .selectFrom('eam_attempts')
      .select(['started_at', 'duration_ms'])
      .where('subscription_id', '=', hubSubscription)
      .where('resource_id', '=', change.featureUuid)
      .where('started_at', '>=', change.t0)
      .orderBy('started_at')
      .executeTakeFirst();
    const baseline = firstArrival(change);
    const commentAt = started[0] ? Date.parse(started[0].createdTimestamp) : Number.NaN;
    rows.push({
      runs: runs.length,
      startedComments: started.length,
      baseline: baseline - change.t0,
      stage: (event?.at ?? Number.NaN) - change.t0,
      comment: commentAt - change.t0,
      addedStage: (event?.at ?? Number.NaN) - baseline,
      addedComment: commentAt - baseline,
      hops: {
        committed: Number(changeEvent?.created_at ?? Number.NaN) - change.t0,
        pushStart: (attempt?.started_at ?? Number.NaN) - Number(changeEvent?.created_at ?? Number.NaN),
        hubPush: (inbox?.received_at ?? Number.NaN) - (attempt?.started_at ?? Number.NaN),
        receivedVsBaseline: (inbox?.received_at ?? Number.NaN) - baseline,
        claim: (transition?.recorded_at ?? Number.NaN) - (inbox?.received_at ?? Number.NaN),
        read: (inbox?.processed_at ?? Number.NaN) - (transition?.recorded_at ?? Number.NaN),
        act: (promotion?.created_at ?? Number.NaN) - (inbox?.processed_at ?? Number.NaN),
        consume: (event?.at ?? Number.NaN) - (promotion?.created_at ?? Number.NaN),
        flush: commentAt - (startedRow?.created_at ?? Number.NaN),
        behindRequested:
          requestedRow?.written_at != null && startedRow
            ? Math.max(0, requestedRow.written_at - startedRow.created_at)
            : Number.NaN,
        afterRequested:
          commentAt - Math.max(startedRow?.created_at ?? Number.NaN, requestedRow?.written_at ?? Number.NaN),
        merged: startedRow && requestedRow && startedRow.remote_id === requestedRow.remote_id ? 1 : 0,
      },
    });
  }
  // Outcomes of the pushes the hub got (its own write-backs to a feature are pushed back to it too).
  const deliveries = new Map<string, number>();
  for (const { reason } of hubDb
    .prepare<[string, number], { reason: string | null }>(
      'SELECT reason FROM hub_webhook_inbox WHERE integration_id = ? AND self_test = 0 AND received_at >= ?',
    )
    .all(integration.id, runStarted)) {
    const key = (reason ?? 'not processed')
      .replace(/ for delivery .*/, ' for another delivery')
      .replace(/ \(changed [^)]*\)/, '');
    deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
  }
  hubDb.close();

  const stats = (values: number[]) => {
    const sorted = ascending(values);
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
      n: sorted.length,
    };
  };
  const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)} ms` : 'n/a');
  const figures = (values: number[]) => {
    const s = stats(values);
    return `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (n=${s.n})`;
  };
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const col = (k: Exclude<keyof Row, 'hops'>) => rows.map((r) => r[k]);
  const hop = (k: keyof Hops) => rows.map((r) => r.hops[k]);
  const added = stats(col('addedComment'));
  const addedStage = stats(col('addedStage'));
  const oneRun = rows.filter((r) => r.runs === 1).length;
  const oneComment = rows.filter((r) => r.startedComments === 1).length;
  const merged = rows.filter((r) => r.hops.merged === 1).length;
  const hops: Array<[string, keyof Hops]> = [
    ['1 change committed in Cloud ALM (PATCH)', 'committed'],
    ['2 sandbox: event -> push to hub sent', 'pushStart'],
    ['3 push sent -> hub stored it (received_at)', 'hubPush'],
    ['4 hub job claimed, reads the feature', 'claim'],
    ['5 feature read + transition committed', 'read'],
    ['6 transition -> promotion requested', 'act'],
    ['7 promotion requested -> stage started', 'consume'],
    ['8 stage started -> comment created', 'flush'],
  ];
  const hopP50 = hops.map(([label, k]) => [label, stats(hop(k)).p50] as const);
  const dominant = [...hopP50.slice(3)].sort((a, b) => b[1] - a[1])[0];
  const out: Array<[string, string]> = [
    [
      'changes',
      `${rows.length} features ${FROM_STATUS} -> ${TO_STATUS} (PATCH Features/{uuid}), one at a time, ${runSeconds.toFixed(1)} s; ${missing} timed out`,
    ],
    [
      'machine',
      `${cpus().length} cores, load average (1 min) ${loadBefore.toFixed(1)} before the changes, ${(loadavg()[0] as number).toFixed(1)} after`,
    ],
    [
      'set-up',
      `sandbox in this process (${FEATURES} features, 1 story each); hub and baseline receiver each their own process, both subscribed at once (each change pushed to both)`,
    ],
    [
      'hub env',
      `write-back batch window 0 ms; ${
        Object.keys(HUB_TUNING).length
          ? `TUNED: ${Object.entries(HUB_TUNING)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`
          : 'everything else at the product defaults (job poll 1000 ms, Cloud ALM budget 50 calls/s, 4 in flight)'
      }${WRITEBACK_OFF.length ? `; EXPERIMENT, write-back switched off: ${WRITEBACK_OFF.join(', ')}` : ''}`,
    ],
    ['baseline: sandbox push to no-op', figures(col('baseline'))],
    ['hub: change -> stage started', figures(col('stage'))],
    ['hub: change -> comment visible', figures(col('comment'))],
    [
      'added by the hub: stage started',
      `p50 ${ms(addedStage.p50)}, p99 ${ms(addedStage.p99)}, max ${ms(addedStage.max)}`,
    ],
    ['added by the hub: comment visible', `p50 ${ms(added.p50)}, p99 ${ms(added.p99)}, max ${ms(added.max)}`],
    [
      'ratio hub / baseline (comment, p50)',
      `${(stats(col('comment')).p50 / stats(col('baseline')).p50).toFixed(1)}x`,
    ],
    ['goal: added p50 <= 30 ms (comment)', `${ms(added.p50)}: ${verdict(added.p50 <= 30)}`],
    ['goal: added p99 <= 150 ms (comment)', `${ms(added.p99)}: ${verdict(added.p99 <= 150)}`],
    ['check: one run per change', `${oneRun} / ${rows.length}: ${verdict(oneRun === rows.length)}`],
    [
      'check: one stage-started comment',
      `${oneComment} / ${rows.length}: ${verdict(oneComment === rows.length)} (${merged} of them in the same comment as "promotion queued")`,
    ],
    ['hops (p50 / p99)', ''],
    ...hops.map(([label, k]): [string, string] => {
      const s = stats(hop(k));
      return [`  ${label}`, `${ms(s.p50)} / ${ms(s.p99)}`];
    }),
    [
      '  (hub received - baseline arrival)',
      `${ms(stats(hop('receivedVsBaseline')).p50)} / ${ms(stats(hop('receivedVsBaseline')).p99)}`,
    ],
    [
      '  8a of which: behind the "promotion queued" comment',
      `${ms(stats(hop('behindRequested')).p50)} / ${ms(stats(hop('behindRequested')).p99)}`,
    ],
    [
      '  8b of which: after it (flush job + POST)',
      `${ms(stats(hop('afterRequested')).p50)} / ${ms(stats(hop('afterRequested')).p99)}`,
    ],
    [
      'pushes the hub got per change',
      `${([...deliveries.values()].reduce((a, b) => a + b, 0) / rows.length).toFixed(1)}: ${[...deliveries]
        .sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => `${(n / rows.length).toFixed(1)} "${reason}"`)
        .join(', ')}`,
    ],
    [
      'hub calls to Cloud ALM per change',
      `${(calls.reduce((n, [, c]) => n + c, 0) / rows.length).toFixed(1)}: ${calls
        .map(([route, n]) => `${route} ${(n / rows.length).toFixed(1)}`)
        .join(', ')}`,
    ],
    ['dominant hub hop (p50)', dominant ? `${dominant[0].replace(/^\d /, '')}: ${ms(dominant[1])}` : 'n/a'],
  ];
  const width = Math.max(...out.map(([k]) => k.length));
  for (const [k, v] of out) console.log(`${k.padEnd(width)}  ${v}`);
} finally {
  eventListener = undefined;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    children.map((child) =>
      child.exitCode === null ? new Promise((r) => child.once('exit', r)) : Promise.resolve(),
    ),
  );
  await sandbox?.stop();
  if (process.env.BENCH_KEEP_DATA === '1') console.log(`data kept in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}
