import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Hub, hubSqliteFile, landedDeliveries } from '@calmhub/hub';
import { createStore, loadConfig, type Store } from '@calmhub/platform';
import { testDatabaseUrl } from '@calmhub/platform/testing';
import { type Sandbox, startSandbox } from '@calmhub/sandbox';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  calmApi,
  FINANCE,
  type HubAnswer,
  hubCall,
  hubProcesses,
  linkAndSync,
  sandboxAdmin,
} from './helpers.js';

type HubDb = Hub['deps']['db'];
type JobsTables = {
  calmhub_jobs: { id: number; name: string; state: string; last_error: string | null };
};

const EVENTS = 1000;
const BATCH = 50;
const BATCHES = EVENTS / BATCH;
/** Every this many events, one names a feature Cloud ALM does not have (processed to `ignored`). */
const UNKNOWN_EVERY = 50;
const POLL_MS = 100;
const MARKER = /\[calmhub:[0-9a-f]{12}\]/g;

/**
 * Status moves done in the sandbox between batches (the lifecycle buttons): the events sent after
 * a move carry it. One move per feature, so each leads to exactly one transition whenever its
 * events are processed. The last move comes right before the last batch: its guard runs after
 * the restart.
 */
const MOVES = [
  { beforeBatch: 2, title: 'Cash position forecast', action: 'start-implementation', to: 'IN_REALIZATION' },
  { beforeBatch: 6, title: 'Close periods', action: 'handover-to-test', to: 'IN_TESTING' },
  {
    beforeBatch: 10,
    title: 'Payment approval workflow',
    action: 'start-implementation',
    to: 'IN_REALIZATION',
  },
  {
    beforeBatch: 14,
    title: 'Intercompany reconciliation',
    action: 'confirm-successful-test',
    to: 'SUCCESSFULLY_TESTED',
  },
  {
    beforeBatch: BATCHES - 1,
    title: 'Dunning by e-mail',
    action: 'start-implementation',
    to: 'IN_REALIZATION',
  },
] as const;
/** What the default status → action map does with each target status, as write-back actions. */
const WRITE_BACK_OF: Record<string, string> = {
  IN_REALIZATION: 'guard.failed', // no story of a CREATED feature has a transport
  IN_TESTING: 'promotion.requested',
  SUCCESSFULLY_TESTED: 'status.changed',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

interface AuditPage {
  items: Array<{ kind: string; object: { kind: string; id: string } }>;
  nextBefore: number | null;
}

const engines = testDatabaseUrl ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe('webhook inbox: SIGKILL right after a burst of 1,000 acknowledged events', () => {
  const hubs = hubProcesses();
  const { cleanups } = hubs;
  afterEach(() => hubs.stopAll());

  it.each(engines)(
    'processes every acknowledged event exactly once after a restart (%s)',
    async (engine) => {
      const started = Date.now();
      const sandbox: Sandbox = await startSandbox({
        port: 0,
        memory: true,
        seed: 'demo',
        logLevel: 'silent',
      });
      cleanups.push(() => sandbox.stop());
      const calm = await calmApi(sandbox);

      const { dataDir, env, pg } = await hubs.environment(engine, {
        CALMHUB_LOG_LEVEL: 'info',
        CALMHUB_JOB_CONCURRENCY: '10',
        CALMHUB_JOB_POLL_INTERVAL_MS: String(POLL_MS),
        // A dead worker's jobs are taken again once their lease expires: keep the wait short.
        CALMHUB_JOB_LEASE_MS: '2000',
        // The webhook is the only path that sees the status moves (no reconcile delta or sweep).
        CALMHUB_SYNC_DELTA_INTERVAL_MS: '3600000',
        CALMHUB_SYNC_SWEEP_INTERVAL_MS: '3600000',
        CALMHUB_CALM_MAX_CONCURRENCY: '10',
        CALMHUB_CALM_REQUESTS_PER_SECOND: '1000',
      });
      const startHub = () => hubs.start(env);

      // First life: link and sync over the API.
      let hub = await startHub();
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const integrationId = await linkAndSync(hub.url, token, sandbox);
      const webhook = await hubCall(hub.url, token, 'GET', `/api/v1/integrations/${integrationId}/webhook`);
      expect(webhook.status, webhook.text).toBe(200);
      const webhookPath = `/${webhook.body.path as string}`;

      // The hub's store, read directly (the hub is another process; reads only).
      let store: Store;
      if (pg) store = pg.store;
      else {
        store = createStore({
          sqliteFile: hubSqliteFile(loadConfig({ env: { CALMHUB_DATA_DIR: dataDir } })),
        });
        cleanups.push(() => store.close());
      }
      const db = store.db as unknown as HubDb;
      const jobs = store.db.withTables<JobsTables>();

      const features = (
        await calm<{ value: Array<{ uuid: string; title: string; statusCode: string }> }>(
          'GET',
          `/calm-features/v1/Features?$filter=projectId eq ${FINANCE}`,
        )
      ).value;
      expect(features.length).toBeGreaterThan(MOVES.length);
      const byTitle = new Map(features.map((f) => [f.title, f]));
      const moves = MOVES.map((move) => {
        const feature = byTitle.get(move.title);
        if (!feature) throw new Error(`the demo seed has no feature "${move.title}"`);
        return { ...move, uuid: feature.uuid, from: feature.statusCode };
      });
      const transitionsBefore = await db.selectFrom('hub_status_transitions').select('id').execute();

      // The burst: 1,000 distinct deliveries, 50 at a time, over all features of the project.
      const acknowledged: string[] = [];
      const unknownIds = new Set<string>();
      let killedAt = 0;
      const deliver = async (index: number, last: { remaining: number } | undefined) => {
        const unknown = index % UNKNOWN_EVERY === UNKNOWN_EVERY - 1;
        const uuid = unknown ? randomUUID() : (features[index % features.length]?.uuid as string);
        const response = await request(`${hub.url}${webhookPath}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': `msg_crash_${engine}_${index}`,
            'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          },
          body: JSON.stringify({
            subscriptionId: '5b742b3e-36c9-467e-8b37-1c1e633da489',
            resourceType: 'FEATURE',
            eventType: 'FEATURE.UPDATED',
            resourceId: uuid,
            resource: { uuid, modifiedAt: new Date().toISOString() },
          }),
        });
        const text = await response.body.text();
        if (response.statusCode === 202) {
          // SIGKILL right after the last acknowledgement of the burst.
          if (last && --last.remaining === 0) {
            hub.run.child.kill('SIGKILL');
            killedAt = Date.now();
          }
          const { id, outcome } = JSON.parse(text) as { id: string; outcome: string };
          expect(outcome).toBe('accepted');
          acknowledged.push(id);
          if (unknown) unknownIds.add(id);
        } else if (last) last.remaining--;
        return response.statusCode;
      };
      const burstStarted = Date.now();
      for (let batch = 0; batch < BATCHES; batch++) {
        for (const move of moves.filter((m) => m.beforeBatch === batch)) {
          await sandboxAdmin(sandbox, 'POST', `/features/${move.uuid}/actions/${move.action}`);
        }
        const last = batch === BATCHES - 1 ? { remaining: BATCH } : undefined;
        const statuses = await Promise.all(
          Array.from({ length: BATCH }, (_, i) => deliver(batch * BATCH + i, last)),
        );
        expect(statuses.filter((s) => s !== 202)).toEqual([]);
      }
      expect(killedAt).toBeGreaterThan(0);
      await hub.run.exited;
      expect(hub.run.child.signalCode).toBe('SIGKILL');
      expect(new Set(acknowledged).size).toBe(EVENTS);

      // What the kill left behind: deliveries not yet processed, jobs still leased by the dead worker.
      const leftBehind = await db
        .selectFrom('hub_webhook_inbox')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('integration_id', '=', integrationId)
        .groupBy('state')
        .execute();
      const leased = await jobs
        .selectFrom('calmhub_jobs')
        .select(['name', (eb) => eb.fn.countAll<number>().as('n')])
        .where('state', '=', 'running')
        .groupBy('name')
        .execute();
      // On SQLite the edge lands deliveries in its journal first (inbox/landing.ts); processing
      // moves them into the inbox, and hub_webhook_landing_moved says up to where.
      const landed =
        engine === 'sqlite'
          ? landedDeliveries(
              hubSqliteFile(loadConfig({ env: { CALMHUB_DATA_DIR: dataDir } })),
              await db
                .selectFrom('hub_webhook_landing_moved')
                .select(['generation', 'position'])
                .where('id', '=', 1)
                .executeTakeFirst(),
            ).filter((d) => d.integrationId === integrationId).length
          : 0;
      const pendingAtKill = Number(leftBehind.find((r) => r.state === 'received')?.n ?? 0) + landed;
      console.info(
        `[${engine}] burst of ${EVENTS} acknowledged in ${killedAt - burstStarted} ms; at the kill: inbox`,
        Object.fromEntries(leftBehind.map((r) => [r.state, Number(r.n)])),
        'landed',
        landed,
        'running jobs',
        Object.fromEntries(leased.map((r) => [r.name, Number(r.n)])),
      );
      // The kill must have interrupted work, or the test proves nothing.
      expect(pendingAtKill).toBeGreaterThan(0);

      // Second life on the same data directory (and database).
      hub = await startHub();
      const restartedAt = Date.now();
      await until('no delivery left in state received', 60_000, async () => {
        const open = await hubCall(
          hub.url,
          token,
          'GET',
          `/api/v1/integrations/${integrationId}/inbox?state=received&limit=1`,
        );
        expect(open.status, open.text).toBe(200);
        return open.body.items.length === 0 ? true : undefined;
      });
      // Then what the deliveries caused: actions on transitions and their write-backs.
      const watched = ['hub.inbox.process', 'hub.transition.recorded', 'hub.writeback.flush'];
      await until('the inbox, action and write-back jobs to finish', 30_000, async () => {
        const open = await jobs
          .selectFrom('calmhub_jobs')
          .select('id')
          .where('name', 'in', watched)
          .where('state', 'in', ['queued', 'running'])
          .execute();
        return open.length === 0 ? true : undefined;
      });
      const drained = Date.now();
      const dead = await jobs
        .selectFrom('calmhub_jobs')
        .select(['name', 'last_error'])
        .where('name', 'in', watched)
        .execute();
      expect(dead).toEqual([]);

      // 1. None lost: every acknowledged delivery is in the inbox, processed or ignored; nothing else is.
      const inbox = await db
        .selectFrom('hub_webhook_inbox')
        .select(['id', 'state', 'reason', 'duplicates', 'resource_id'])
        .where('integration_id', '=', integrationId)
        .execute();
      expect(inbox.map((row) => row.id).sort()).toEqual([...acknowledged].sort());
      for (const row of inbox) {
        const expected = unknownIds.has(row.id) ? 'ignored' : 'processed';
        expect({ id: row.id, state: row.state, duplicates: row.duplicates }).toEqual({
          id: row.id,
          state: expected,
          duplicates: 0,
        });
      }

      // 2. None twice: exactly one webhook.processed / webhook.ignored audit entry per delivery (the API, paged).
      const outcomes = new Map<string, string[]>();
      let before: number | null = null;
      do {
        const page: HubAnswer<AuditPage> = await hubCall<AuditPage>(
          hub.url,
          token,
          'GET',
          `/api/v1/audit?kind=webhook.processed&kind=webhook.ignored&limit=500${before ? `&before=${before}` : ''}`,
        );
        expect(page.status, page.text).toBe(200);
        for (const entry of page.body.items) {
          expect(entry.object.kind).toBe('webhook_delivery');
          outcomes.set(entry.object.id, [...(outcomes.get(entry.object.id) ?? []), entry.kind]);
        }
        before = page.body.nextBefore;
      } while (before !== null);
      const twice = [...outcomes].filter(([, kinds]) => kinds.length !== 1);
      expect(twice).toEqual([]);
      expect([...outcomes.keys()].sort()).toEqual([...acknowledged].sort());
      for (const id of acknowledged) {
        expect(outcomes.get(id)).toEqual([unknownIds.has(id) ? 'webhook.ignored' : 'webhook.processed']);
      }

      // 3. Each status move recorded once, by the webhook, and nothing else recorded.
      const featureRows = await db
        .selectFrom('hub_calm_features')
        .select(['id', 'calm_uuid', 'status_code'])
        .where('integration_id', '=', integrationId)
        .execute();
      const transitions = await db
        .selectFrom('hub_status_transitions')
        .select(['id', 'item_id', 'calm_id', 'from_status', 'to_status', 'source'])
        .where('id', 'not in', [-1, ...transitionsBefore.map((t) => t.id)])
        .execute();
      expect(transitions.map((t) => [t.calm_id, t.from_status, t.to_status, t.source]).sort()).toEqual(
        moves.map((m) => [m.uuid, m.from, m.to, 'webhook']).sort(),
      );
      for (const move of moves) {
        expect(featureRows.find((f) => f.calm_uuid === move.uuid)?.status_code).toBe(move.to);
      }

      // 4. Each transition acted on once: guard results, promotion requests, the plain echo.
      const stories = await db
        .selectFrom('hub_calm_stories')
        .select(['id', 'calm_id', 'feature_calm_uuid'])
        .where('integration_id', '=', integrationId)
        .where('obsolete', '=', 0)
        .execute();
      const storiesOf = (uuid: string) => stories.filter((s) => s.feature_calm_uuid === uuid);
      const actionAudit = await db
        .selectFrom('hub_audit_log')
        .select(['kind', 'object_id'])
        .where('kind', 'in', [
          'action.guard_passed',
          'action.guard_failed',
          'promotion.requested',
          'transition.recorded',
        ])
        .execute();
      const expectedAudit = moves.flatMap((move) => {
        const transition = transitions.find((t) => t.calm_id === move.uuid);
        if (move.to === 'SUCCESSFULLY_TESTED') return [['transition.recorded', transition?.item_id]];
        const kind = move.to === 'IN_REALIZATION' ? 'action.guard_failed' : 'promotion.requested';
        return storiesOf(move.uuid).map((s) => [kind, s.id]);
      });
      expect(actionAudit.map((a) => [a.kind, a.object_id]).sort()).toEqual(expectedAudit.sort());
      const guards = await db.selectFrom('hub_story_guards').select(['story_id', 'transition_id']).execute();
      expect(guards).toHaveLength(
        moves.filter((m) => m.to === 'IN_REALIZATION').reduce((n, m) => n + storiesOf(m.uuid).length, 0),
      );

      // 5. In Cloud ALM: each write-back comment exactly once, found by its marker.
      const writeBacks = await db
        .selectFrom('hub_writebacks')
        .select(['item_id', 'target_kind', 'target_calm_id', 'action', 'marker', 'state'])
        .where('integration_id', '=', integrationId)
        .execute();
      const comments = writeBacks.filter((w) => w.target_kind === 'story_comment');
      expect(comments.map((w) => [w.action, w.item_id]).sort()).toEqual(
        moves.flatMap((m) => storiesOf(m.uuid).map((s) => [WRITE_BACK_OF[m.to] as string, s.id])).sort(),
      );
      expect(writeBacks.filter((w) => w.state !== 'written')).toEqual([]);
      const tasks = (
        await calm<Array<{ id: string }>>('GET', `/calm-tasks/v1/tasks?projectId=${FINANCE}`)
      ).map((t) => t.id);
      const seen = new Map<string, number>();
      for (const taskId of tasks) {
        const taskComments = await calm<Array<{ text: string }>>(
          'GET',
          `/calm-tasks/v1/tasks/${taskId}/comments`,
        );
        for (const comment of taskComments) {
          for (const marker of comment.text.match(MARKER) ?? []) {
            const where = comments.find((w) => w.marker === marker)?.target_calm_id;
            expect(where, `marker ${marker} on task ${taskId}`).toBe(taskId);
            seen.set(marker, (seen.get(marker) ?? 0) + 1);
          }
        }
      }
      expect(
        comments.map((w) => [w.marker, seen.get(w.marker) ?? 0]).filter(([, n]) => n !== 1),
        'comment markers not seen exactly once',
      ).toEqual([]);
      expect(seen.size).toBe(comments.length);
      // The promotion's dated lines under the feature's description, once each too.
      for (const line of writeBacks.filter((w) => w.target_kind === 'feature_line')) {
        const feature = await calm<{ description: string }>(
          'GET',
          `/calm-features/v1/Features/${line.target_calm_id}`,
        );
        expect(feature.description.split(line.marker).length - 1, line.marker).toBe(1);
      }

      console.info(
        `[${engine}] restart to drained: ${drained - restartedAt} ms; ${transitions.length} transitions, ` +
          `${comments.length} comments; whole case ${Date.now() - started} ms`,
      );
    },
    120_000,
  );
});
