import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresTestStore, type TestStore } from '@calmhub/platform/testing';
import type { Sandbox } from '@calmhub/sandbox';
import { request } from 'undici';

/** The sandbox's Finance project (demo seed). */
export const FINANCE = '17a825f9-b4b5-4685-8396-59d5c80dc15c';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));

/** A Cloud ALM client written out in full, to learn what the tenant holds without trusting the hub. */
export async function calmApi(sandbox: Sandbox) {
  const key = sandbox.serviceKey;
  const tokenResponse = await request(`${key.uaa.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: key.uaa.clientid,
      client_secret: key.uaa.clientsecret,
    }).toString(),
  });
  const { access_token } = (await tokenResponse.body.json()) as { access_token: string };
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, narrowed by each caller
  return async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await request(`${key.endpoints.Api}${path}`, {
      method: method as 'GET',
      headers: {
        authorization: `Bearer ${access_token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/** The sandbox's admin API: test set-up only, never called by the hub. */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers, narrowed by each caller
export async function sandboxAdmin<T = any>(
  sandbox: Sandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await request(`${sandbox.url}/admin${path}`, {
    method: method as 'GET',
    headers: {
      authorization: `Bearer ${sandbox.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A `calmhub` process run from source, its output kept. */
export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Runs `calmhub <args>` from the TypeScript sources, with a clean environment for the server keys. */
export function runCalmhub(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, ['--conditions=calmhub-source', '--import', 'tsx', main, ...args], {
    env: { ...process.env, HOST: '', PORT: '', DATABASE_URL: '', CALMHUB_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The URL from the hub's "calmhub hub listening" log line. */
export async function listeningUrl(run: CliRun, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of run.stdout().split('\n')) {
      if (line.includes('calmhub hub listening')) return (JSON.parse(line) as { url: string }).url;
    }
    if (run.child.exitCode !== null) throw new Error(`exited early: ${run.stderr()}${run.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no listening line: ${run.stdout()}`);
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, narrowed by each caller
export interface HubAnswer<T = any> {
  status: number;
  body: T;
  text: string;
}

/** One call to a hub's API with a bearer token. */
// biome-ignore lint/suspicious/noExplicitAny: JSON answers, narrowed by each caller
export async function hubCall<T = any>(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<HubAnswer<T>> {
  const response = await request(`${url}${path}`, {
    method: method as 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as T, text };
}

/**
 * Links a fresh hub project to the sandbox's Finance project over the hub's API and runs a full
 * sync; answers the integration id.
 */
export async function linkAndSync(url: string, token: string, sandbox: Sandbox): Promise<string> {
  const project = await hubCall(url, token, 'POST', '/api/v1/projects', { name: 'Finance' });
  if (project.status !== 201) throw new Error(`project: ${project.text}`);
  const credential = await hubCall(url, token, 'POST', '/api/v1/credentials', {
    name: 'Cloud ALM',
    serviceKey: sandbox.serviceKey,
  });
  if (credential.status !== 201) throw new Error(`credential: ${credential.text}`);
  const integration = await hubCall(url, token, 'POST', `/api/v1/projects/${project.body.id}/integrations`, {
    name: 'Cloud ALM',
    credentialId: credential.body.id,
    calmProjectId: FINANCE,
  });
  if (integration.status !== 201) throw new Error(`integration: ${integration.text}`);
  const started = await hubCall(url, token, 'POST', `/api/v1/integrations/${integration.body.id}/sync`, {
    mode: 'full',
  });
  if (started.status >= 300) throw new Error(`sync: ${started.text}`);
  for (let i = 0; i < 1200; i++) {
    const run = await hubCall(url, token, 'GET', `/api/v1/sync-runs/${started.body.id}`);
    if (run.body.state === 'succeeded') return integration.body.id;
    if (run.body.state === 'failed') throw new Error(`sync failed: ${run.body.error}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('sync did not finish');
}

/**
 * The seed's "Webhook Configuration" in the sandbox's External API Management: a destination to
 * the hub, a webhook with the integration's path, a FEATURE subscription and the project's
 * opt-in. Answers the subscription id. (The admin API is test set-up only.)
 */
export async function pushFeaturesTo(sandbox: Sandbox, hubUrl: string, webhookPath: string): Promise<string> {
  await sandboxAdmin(sandbox, 'POST', '/eam/destinations', {
    Name: 'calmhub',
    Type: 'HTTP',
    URL: hubUrl,
    ProxyType: 'Internet',
    Authentication: 'NoAuthentication',
  });
  const webhook = await sandboxAdmin(sandbox, 'POST', '/eam/webhooks', {
    name: 'calmhub',
    destinationName: 'calmhub',
    path: webhookPath,
  });
  const subscription = await sandboxAdmin(sandbox, 'POST', '/eam/subscriptions', {
    name: 'calmhub features',
    type: 'EXTERNAL',
    resourceType: 'FEATURE',
    webhookId: webhook.id,
  });
  await sandboxAdmin(sandbox, 'POST', `/projects/${FINANCE}/subscriptions`, {
    itemType: 'FEATURE',
    subscriptionId: subscription.id,
  });
  return subscription.id;
}

/** Polls `probe` until it answers something truthy. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Hub processes for crash tests (run from the sources, killed with SIGKILL), each test with its
 * own data directory and, on PostgreSQL, its own database clone. `stopAll` (in afterEach) kills
 * what still runs and removes what the test made.
 */
export function hubProcesses() {
  const running: CliRun[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  return {
    cleanups,
    /** A data directory and the hub's environment on `engine`, `env` added. */
    async environment(engine: 'sqlite' | 'postgres', env: Record<string, string>) {
      const dataDir = mkdtempSync(join(tmpdir(), 'calmhub-crash-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const all: Record<string, string> = { CALMHUB_DATA_DIR: dataDir, ...env };
      let pg: TestStore | undefined;
      if (engine === 'postgres') {
        const clone = await createPostgresTestStore([]);
        cleanups.push(() => clone.cleanup());
        all.DATABASE_URL = clone.location;
        pg = clone;
      }
      return { dataDir, env: all, pg };
    },
    async start(env: Record<string, string>): Promise<{ run: CliRun; url: string }> {
      const run = runCalmhub(['serve', '--port', '0'], env);
      running.push(run);
      return { run, url: await listeningUrl(run) };
    },
    async stopAll() {
      for (const run of running.splice(0)) {
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
        await run.exited;
      }
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
  };
}
