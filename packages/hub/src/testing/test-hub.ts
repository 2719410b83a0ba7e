import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Config, createLogger, loadConfig } from '@calmhub/platform';
import { createTestStore, type TestEngine } from '@calmhub/platform/testing';
import { request } from 'undici';
import { createTenant } from '../access/tenants.js';
import { issueToken } from '../access/tokens.js';
import { createUser } from '../access/users.js';
import { type BuildHubOptions, buildHub, type Hub } from '../app/build-hub.js';
import { hubMigrationSets } from '../store/migrations.js';

// biome-ignore lint/suspicious/noExplicitAny: tests read answers by path; the API's schemas are checked by the server
export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  /** Sent as is (for malformed input). */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestHub {
  hub: Hub;
  url: string;
  dataDir: string;
  /** The first admin's token (tenant "default"). */
  adminToken: string;
  /** Every log line the hub wrote. */
  logLines: string[];
  // biome-ignore lint/suspicious/noExplicitAny: see ApiResponse
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

export interface StartTestHubOptions extends Omit<BuildHubOptions, 'config' | 'logger' | 'store'> {
  engine?: TestEngine;
  config?: Partial<Config>;
}

/**
 * A hub on an ephemeral port over a fresh test store (SQLite file or a PostgreSQL clone), spoken
 * to over HTTP as a user would. Its log goes to `logLines`.
 */
export async function startTestHub(options: StartTestHubOptions = {}): Promise<TestHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'calmhub-hub-'));
  const testStore = await createTestStore(options.engine ?? 'sqlite', hubMigrationSets);
  const config = loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      logLevel: 'warn',
      jobPollIntervalMs: 50,
      // The reconcile tick would start syncs in the middle of a test; tests that want it set a period.
      syncDeltaIntervalMs: 86_400_000,
      syncSweepIntervalMs: 86_400_000,
      ...options.config,
    },
  });
  const logLines: string[] = [];
  const logger = createLogger(
    config.logLevel,
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
  );
  const { engine: _engine, config: _config, ...rest } = options;
  const hub = await buildHub({ ...rest, config, logger, store: testStore.store });
  const url = await hub.start();
  const call = async <T>(
    method: string,
    path: string,
    callOptions: CallOptions = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
    let body: string | undefined;
    if (callOptions.rawBody !== undefined) body = callOptions.rawBody;
    else if (callOptions.body !== undefined) body = JSON.stringify(callOptions.body);
    if (body !== undefined) headers['content-type'] = callOptions.contentType ?? 'application/json';
    const response = await request(`${url}${path}`, {
      method: method as 'GET',
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; keep the text
    }
    return { status: response.statusCode, headers: response.headers, body: parsed as T, text };
  };
  return {
    hub,
    url,
    dataDir,
    adminToken: hub.firstToken as string,
    logLines,
    call,
    async stop() {
      await hub.stop();
      await testStore.cleanup().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TenantScenario {
  tenantId: string;
  adminToken: string;
}

/** Another tenant with its own admin, as `calmhub tenants add` makes one. */
export async function givenTenant(testHub: TestHub, name: string): Promise<TenantScenario> {
  const { tenantId, token } = await createTenant(testHub.hub.deps, {
    name,
    adminEmail: `admin@${name}.example`,
  });
  return { tenantId, adminToken: token };
}

/** A tenant member with a token, optionally given a role in a project. */
export async function givenUser(
  testHub: TestHub,
  tenantId: string,
  email: string,
  membership?: { projectId: string; role: string },
): Promise<{ userId: string; token: string }> {
  const deps = testHub.hub.deps;
  const user = await createUser(deps, tenantId, { email });
  if (membership) {
    await deps.db
      .insertInto('hub_project_members')
      .values({
        project_id: membership.projectId,
        user_id: user.id,
        tenant_id: tenantId,
        role: membership.role,
        created_at: deps.clock.now(),
      })
      .execute();
  }
  const { token } = await issueToken(deps, { tenantId, userId: user.id, name: 'test', expiresAt: null });
  return { userId: user.id, token };
}

/**
 * Waits until the hub's worker has nothing due (jobs scheduled a minute or more ahead aside), so a
 * test compares stored state without background work changing it underneath.
 */
export async function waitForIdle(testHub: TestHub, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Idle three looks in a row: a job's follow-up may become visible only as the job completes.
  let quiet = 0;
  while (Date.now() < deadline) {
    const jobs = await testHub.hub.queue.list({ limit: 1000 });
    quiet = jobs.some((job) => job.state !== 'dead' && job.runAt < Date.now() + 60_000) ? 0 : quiet + 1;
    if (quiet >= 3) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the hub did not become idle');
}
