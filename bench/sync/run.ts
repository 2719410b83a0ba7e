/**
 * Hub full sync against the sandbox, next to a baseline in the same run.
 *
 *   npm run bench:sync                      (5,000 features, 25,000 user stories, page size 500)
 *   BENCH_FEATURES=1000 BENCH_STORIES=5000 npm run bench:sync
 *
 * The sandbox (this process) is seeded with one large project. The hub runs as its own process
 * (`calmhub serve`, SQLite in a temporary directory), linked to that project over its API, and
 * runs a full sync; its peak RSS is read from /proc. The baseline fetches the same collections
 * with a raw HTTP client (undici) at the same page size and concurrency (one call at a time) and
 * discards them. Calls are counted by the sandbox's request log, not by the hub.
 * Then 1 % of the features and stories change and the hub runs a delta.
 * Goals: wall ≤ 1.3x baseline; calls = Σ ⌈items / page size⌉ + the code lists; RSS ≤ 200 MB.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '@calmhub/sandbox';
import { json } from '../shared/process.js';

const FEATURES = Number(process.env.BENCH_FEATURES ?? 5_000);
const STORIES = Number(process.env.BENCH_STORIES ?? 25_000);
const PAGE = Number(process.env.BENCH_PAGE_SIZE ?? 500);
const CHANGE_SHARE = 0.01;

const sandbox = await startSandbox({
  port: 0,
  memory: true,
  seedFeatures: FEATURES,
  seedStories: STORIES,
  logLevel: 'silent',
});
const key = sandbox.serviceKey;
const adminHeaders = { authorization: `Bearer ${sandbox.adminToken}` };
const admin = <T = unknown>(method: string, path: string) =>
  json<T>(`${sandbox.url}/admin${path}`, { method, headers: adminHeaders });

async function calmToken(): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: key.uaa.clientid,
    client_secret: key.uaa.clientsecret,
  });
  const token = await json<{ access_token: string }>(`${key.uaa.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return token.access_token;
}

const api = key.endpoints.Api;
const bearer = { authorization: `Bearer ${await calmToken()}` };
const projects = await json<Array<{ id: string; name: string }>>(`${api}/calm-projects/v1/projects`, {
  headers: bearer,
});
const project = projects.find((p) => p.name.startsWith('Load Test')) as { id: string; name: string };

/** The baseline: the same collections at the same page size, one call at a time, discarded. */
async function baseline(): Promise<{ seconds: number; counts: Record<string, number> }> {
  const started = performance.now();
  const counts: Record<string, number> = {};
  const odata = async (set: string, filter?: string) => {
    let skip = 0;
    let seen = 0;
    for (;;) {
      const params = new URLSearchParams({
        $top: String(PAGE),
        $skip: String(skip),
        $count: 'true',
        ...(filter ? { $filter: filter } : {}),
      });
      const body = await json<{ value: unknown[]; '@count': number }>(
        `${api}/calm-features/v1/${set}?${params}`,
        { headers: bearer },
      );
      seen += body.value.length;
      skip += PAGE;
      if (seen >= body['@count'] || body.value.length === 0) break;
    }
    counts[set] = seen;
  };
  await json(`${api}/calm-features/v1/FeatureStatus`, { headers: bearer });
  await json(`${api}/calm-features/v1/FeaturePriorities`, { headers: bearer });
  await odata('Features', `projectId eq ${project.id}`);
  let offset = 0;
  let stories = 0;
  for (;;) {
    const page = await json<unknown[]>(
      `${api}/calm-tasks/v1/tasks?projectId=${project.id}&type=CALMUS&offset=${offset}&limit=${PAGE}`,
      { headers: bearer },
    );
    stories += page.length;
    offset += PAGE;
    if (page.length < PAGE) break;
  }
  counts.stories = stories;
  await odata('TaskAssignments', `projectId eq ${project.id}`);
  await odata('TransportReferences');
  await odata('Transports');
  return { seconds: (performance.now() - started) / 1000, counts };
}

const apiCalls = async () => {
  const log = await admin<{ routes: Record<string, { total: number }> }>('GET', '/request-log');
  return Object.entries(log.routes)
    .filter(([route]) => route.includes('/api/calm-'))
    .reduce((n, [, c]) => n + c.total, 0);
};

// The hub, as its own process.
const dataDir = mkdtempSync(join(tmpdir(), 'calmhub-bench-sync-'));
// The built hub, as users run it (`npm run bench:sync` builds first); the sources through tsx otherwise.
const built = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
const source = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
const hubArgs = existsSync(built) ? [built] : ['--conditions=calmhub-source', '--import', 'tsx', source];
const hubProcess: ChildProcess = spawn(
  process.execPath,
  [...hubArgs, 'serve', '--port', '0', '--data-dir', dataDir],
  {
    env: {
      ...process.env,
      CALMHUB_LOG_LEVEL: process.env.BENCH_HUB_LOG_LEVEL ?? 'info',
      CALMHUB_SYNC_PAGE_SIZE: String(PAGE),
      CALMHUB_SYNC_DELTA_INTERVAL_MS: '86400000',
      CALMHUB_SYNC_SWEEP_INTERVAL_MS: '86400000',
      CALMHUB_SYNC_OVERLAP_MS: '0',
      CALMHUB_CALM_REQUESTS_PER_SECOND: '1000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const hubUrl = await new Promise<string>((resolve, reject) => {
  let out = '';
  hubProcess.stdout?.on('data', (chunk: Buffer) => {
    if (process.env.BENCH_HUB_LOG) process.stderr.write(chunk);
    out += chunk;
    const match = /"url":"(http:\/\/[^"]+)".*calmhub hub listening/.exec(out);
    if (match) resolve(match[1] as string);
  });
  hubProcess.on('exit', (code) => reject(new Error(`hub exited ${code}`)));
});
const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
const hub = <T = unknown>(method: string, path: string, body?: unknown) =>
  json<T>(`${hubUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const peakRssMb = () => {
  const status = readFileSync(`/proc/${hubProcess.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
};

try {
  const hubProject = await hub<{ id: string }>('POST', '/api/v1/projects', { name: 'Bench' });
  const credential = await hub<{ id: string }>('POST', '/api/v1/credentials', {
    name: 'Cloud ALM',
    serviceKey: key,
  });
  const integration = await hub<{ id: string }>('POST', `/api/v1/projects/${hubProject.id}/integrations`, {
    name: 'Cloud ALM',
    credentialId: credential.id,
    calmProjectId: project.id,
  });
  const sync = async (mode: 'full' | 'delta') => {
    await admin('DELETE', '/request-log');
    const started = performance.now();
    let run = await hub<{ id: string; state: string; counts: Record<string, number>; error: string | null }>(
      'POST',
      `/api/v1/integrations/${integration.id}/sync`,
      { mode },
    );
    while (run.state === 'queued' || run.state === 'running') {
      await new Promise((r) => setTimeout(r, 20));
      run = await hub<typeof run>('GET', `/api/v1/sync-runs/${run.id}`);
    }
    const seconds = (performance.now() - started) / 1000;
    if (run.state !== 'succeeded') throw new Error(`${mode} sync ${run.state}: ${run.error}`);
    return { seconds, calls: await apiCalls(), run };
  };

  await baseline(); // warm the sandbox's caches, so neither side pays for it
  await admin('DELETE', '/request-log');
  const base = await baseline();
  const baseCalls = await apiCalls();
  const full = await sync('full');
  const pages = (n: number) => Math.max(1, Math.ceil(n / PAGE));
  const expectedCalls =
    2 +
    pages(base.counts.Features ?? 0) +
    Math.floor((base.counts.stories ?? 0) / PAGE) +
    1 +
    pages(base.counts.TaskAssignments ?? 0) +
    pages(base.counts.TransportReferences ?? 0) +
    pages(base.counts.Transports ?? 0);

  // 1 % of the features and stories change; the delta should ask only for what that needs.
  const features = (
    await json<{ value: Array<{ uuid: string }> }>(
      `${api}/calm-features/v1/Features?$filter=projectId eq ${project.id}&$select=uuid&$top=${Math.ceil(FEATURES * CHANGE_SHARE)}`,
      { headers: bearer },
    )
  ).value;
  const stories = await json<Array<{ id: string }>>(
    `${api}/calm-tasks/v1/tasks?projectId=${project.id}&type=CALMUS&limit=${Math.ceil(STORIES * CHANGE_SHARE)}`,
    { headers: bearer },
  );
  await new Promise((r) => setTimeout(r, 5));
  for (const f of features)
    await json(`${api}/calm-features/v1/Features/${f.uuid}`, {
      method: 'PATCH',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `Changed ${f.uuid}` }),
    });
  for (const s of stories)
    await json(`${api}/calm-tasks/v1/tasks/${s.id}`, {
      method: 'PATCH',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ title: `Changed ${s.id}` }),
    });
  const delta = await sync('delta');
  const linkChunks = Math.ceil((features.length + stories.length) / 40);
  const deltaNeeds =
    pages(features.length) + pages(stories.length) + linkChunks + 1 + Math.ceil(features.length / 40) + 1;

  const rss = peakRssMb();
  const rows = [
    [
      'collections',
      `${base.counts.Features} features, ${base.counts.stories} stories, ${base.counts.TaskAssignments} links, ${base.counts.TransportReferences} transport references, ${base.counts.Transports} transports; page size ${PAGE}`,
    ],
    ['baseline (raw undici)', `${base.seconds.toFixed(2)} s, ${baseCalls} calls`],
    [
      'hub full sync',
      `${full.seconds.toFixed(2)} s, ${full.calls} calls (sandbox count), ${full.run.counts.created} items written`,
    ],
    ['wall time ratio', `${(full.seconds / base.seconds).toFixed(2)}x baseline (goal <= 1.3x)`],
    [
      'calls ratio',
      `${(full.calls / expectedCalls).toFixed(2)}x (${full.calls} / ${expectedCalls} = Σ ⌈items/page⌉ + 2 code lists; baseline made ${baseCalls})`,
    ],
    [
      `hub delta after ${features.length} feature + ${stories.length} story changes`,
      `${delta.seconds.toFixed(2)} s, ${delta.calls} calls (what the changes need: ${deltaNeeds}), ${delta.run.counts.updated} updated`,
    ],
    ['hub peak RSS', `${rss.toFixed(0)} MB (goal <= 200 MB)`],
  ];
  const width = Math.max(...rows.map(([k]) => (k as string).length));
  for (const [k, v] of rows) console.log(`${(k as string).padEnd(width)}  ${v}`);
} finally {
  hubProcess.kill('SIGTERM');
  await sandbox.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
