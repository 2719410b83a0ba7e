import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets, startSandbox } from '../app/start-sandbox.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import type { CtmsServiceKey } from './keys.js';

type Node = { id: number; name: string; forwardMode: string };
type QueueItem = {
  id: number;
  status: string;
  position: number;
  description: string;
  origin: string;
  createdByNamedUser: string | null;
  entries: { id: number; storageType: string; contentType: string; uri: string }[];
};
type Action = {
  id: number;
  type: string;
  status: string;
  endedAt: string | null;
  nodeName: string;
  triggeredByNamedUser: string | null;
  transportRequests: { id: number; status: string; entities: { fileName: string; status: string }[] }[];
};
type Logs = {
  logs: {
    transportRequestId: number;
    status: string;
    messages: { messageId: string; severity: string; message: string }[];
  }[];
};

const FINAL = new Set(['succeeded', 'warning', 'error', 'fatal']);

/** Fetches a client-credentials token the way Project "Piper" does (trailing slash, query, Basic). */
async function piperToken(key: CtmsServiceKey): Promise<string> {
  const response = await fetch(
    `${key.uaa.url}/oauth/token/?grant_type=client_credentials&response_type=token`,
    {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${key.uaa.clientid}:${key.uaa.clientsecret}`).toString('base64')}`,
      },
    },
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe.each(testEngines)('CTMS v2 emulator on %s', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let key: CtmsServiceKey;
  let token: string;
  let nodes: Record<string, Node>;

  const ctms = (path: string, init: RequestInit & { json?: unknown; token?: string } = {}) => {
    const { json: body, token: explicit, ...rest } = init;
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = explicit ?? token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${key.uri}${path}`, {
      ...rest,
      headers: { ...headers, ...(rest.headers as Record<string, string> | undefined) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };

  async function upload(name: string, content: string): Promise<number> {
    const form = new FormData();
    form.append('file', new Blob([content]), name);
    form.append('namedUser', 'jane@corp.com');
    const response = await ctms('/v2/files/upload', { method: 'POST', body: form });
    expect(response.status).toBe(201);
    const body = await json<{ fileId: number; fileName: string }>(response);
    expect(body.fileName).toBe(name);
    return body.fileId;
  }

  async function pollAction(actionId: number): Promise<Action> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const action = await json<Action>(await ctms(`/v2/actions/${actionId}`));
      if (FINAL.has(action.status) || Date.now() > deadline) return action;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function queue(node: string, status: string): Promise<QueueItem[]> {
    const response = await ctms(`/v2/nodes/${nodes[node]?.id}/transportRequests?status=${status}`);
    expect(response.status).toBe(200);
    return (await json<{ transportRequests: QueueItem[] }>(response)).transportRequests;
  }

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store, seed: 'demo' });
    key = await json<CtmsServiceKey>(await h.admin('/ctms/service-key'));
    token = await piperToken(key);
    const patched = await h.admin('/ctms/settings', { method: 'PATCH', json: { importDurationMs: 50 } });
    expect(await json(patched)).toEqual({ importDurationMs: 50 });
    const list = await json<{ nodes: Node[] }>(await ctms('/v2/nodes'));
    nodes = Object.fromEntries(list.nodes.map((node) => [node.name, node]));
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('hands out a CTMS service key with uaa credentials and the API uri', () => {
    expect(key.uri).toBe(`${h.sandbox.url}/ctms`);
    expect(key.uaa.url).toBe(h.sandbox.url);
    expect(key.uaa.clientid).toMatch(/^sb-.+!b\d+\|/);
    expect(h.sandbox.endpoints['CTMS API (v2)']).toBe(`${h.sandbox.url}/ctms/v2`);
  });

  it('lists the seeded landscape DEV → QAS → PRD', async () => {
    expect(Object.keys(nodes)).toEqual(['DEV', 'QAS', 'PRD']);
    const one = await json<Node>(await ctms(`/v2/nodes/${nodes.QAS?.id}`));
    expect(one).toMatchObject({ name: 'QAS', forwardMode: 'POST_IMPORT' });
    const { routes } = await json<{
      routes: { sourceNode: { name: string }; targetNode: { name: string } }[];
    }>(await ctms('/v2/routes'));
    expect(routes.map((route) => `${route.sourceNode.name}->${route.targetNode.name}`)).toEqual([
      'DEV->QAS',
      'QAS->PRD',
    ]);
  });

  it('queues the demo project transports where their features stand', async () => {
    const imported = await queue('QAS', 'su');
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.every((tr) => tr.entries[0]?.contentType === 'ABAP')).toBe(true);
    expect(imported.map((tr) => tr.entries[0]?.uri)).toContain('S4DK900122');
    const waiting = await queue('PRD', 'in');
    expect(waiting.length).toBeGreaterThan(0);
    const known = await json<{ number: string; objects: unknown[] }[]>(
      await h.admin('/ctms/abap-transports'),
    );
    expect(known.length).toBe(8);
    expect(known.every((tr) => tr.objects.length > 0)).toBe(true);
  });

  it('walks upload, node upload, import, action polling and logs as Piper does', async () => {
    const fileId = await upload('com.example.finance.mtar', 'PK fake mta archive');
    const created = await ctms('/v2/nodes/upload', {
      method: 'POST',
      json: {
        contentType: 'MTA',
        storageType: 'FILE',
        nodeName: 'QAS',
        description: 'US-123 Close periods',
        namedUser: 'jane@corp.com',
        entries: [{ uri: String(fileId) }],
      },
    });
    expect(created.status).toBe(200);
    const tr = await json<{
      transportRequestId: number;
      transportRequestDescription: string;
      queueEntries: { queueId: number; nodeId: number; nodeName: string }[];
    }>(created);
    expect(tr.transportRequestDescription).toBe('US-123 Close periods');
    expect(tr.queueEntries).toEqual([
      { queueId: expect.any(Number), nodeId: nodes.QAS?.id, nodeName: 'QAS' },
    ]);

    const waiting = await queue('QAS', 'in,re,er,fa');
    const mine = waiting.find((item) => item.id === tr.transportRequestId);
    expect(mine).toMatchObject({
      status: 'initial',
      origin: 'QAS',
      createdByNamedUser: 'jane@corp.com',
      entries: [{ storageType: 'FILE', contentType: 'MTA', uri: String(fileId) }],
    });

    const started = await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests/import`, {
      method: 'POST',
      json: { transportRequests: [tr.transportRequestId], namedUser: 'jane@corp.com' },
    });
    expect(started.status).toBe(200);
    const { actionId, monitoringURL } = await json<{ actionId: number; monitoringURL: string }>(started);
    expect(monitoringURL).toContain(`/v2/actions/${actionId}`);

    const action = await pollAction(actionId);
    expect(action).toMatchObject({
      id: actionId,
      type: 'IMPORT',
      status: 'succeeded',
      nodeName: 'QAS',
      triggeredByNamedUser: 'jane@corp.com',
    });
    expect(action.endedAt).not.toBeNull();
    expect(action.transportRequests[0]?.entities[0]).toMatchObject({
      fileName: 'com.example.finance.mtar',
      status: 'succeeded',
    });

    const logs = await json<Logs>(await ctms(`/v2/actions/${actionId}/logs`));
    expect(logs.logs[0]?.transportRequestId).toBe(tr.transportRequestId);
    expect(logs.logs[0]?.status).toBe('succeeded');
    expect(logs.logs[0]?.messages.map((message) => message.messageId)).toEqual(
      expect.arrayContaining(['TMS_IMPORT_STARTED', 'TMS_DEPLOY', 'TMS_IMPORT_FINISHED', 'TMS_FORWARD']),
    );

    // Post-import forwarding along the route QAS → PRD.
    expect((await queue('PRD', 'initial')).map((item) => item.id)).toContain(tr.transportRequestId);
    expect((await queue('QAS', 'succeeded')).map((item) => item.id)).toContain(tr.transportRequestId);

    const requestLogs = await json<{ logs: { actionId: number; actionType: string; status: string }[] }>(
      await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests/${tr.transportRequestId}/logs`),
    );
    expect(requestLogs.logs.map((log) => [log.actionType, log.status])).toEqual([
      ['UPLOAD', 'initial'],
      ['IMPORT', 'succeeded'],
    ]);
  });

  it('ends an import marked to fail in error, with the message in the logs; reset makes it importable', async () => {
    const fileId = await upload('broken.mtar', 'PK broken');
    const created = await json<{ transportRequestId: number }>(
      await ctms('/v2/nodes/upload', {
        method: 'POST',
        json: {
          contentType: 'MTA',
          storageType: 'FILE',
          nodeName: 'PRD',
          entries: [{ uri: String(fileId) }],
        },
      }),
    );
    const id = created.transportRequestId;
    const marked = await h.admin(`/ctms/transport-requests/${id}/import-failure`, {
      method: 'PUT',
      json: { status: 'error', message: 'Deployment of module finance-srv failed: service binding missing' },
    });
    expect(marked.status).toBe(200);

    const start = await ctms(`/v2/nodes/${nodes.PRD?.id}/transportRequests/import`, {
      method: 'POST',
      json: { transportRequests: [id] },
    });
    const action = await pollAction((await json<{ actionId: number }>(start)).actionId);
    expect(action.status).toBe('error');
    const logs = await json<Logs>(await ctms(`/v2/actions/${action.id}/logs`));
    expect(logs.logs[0]?.messages).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          severity: 'E',
          message: 'Deployment of module finance-srv failed: service binding missing',
        }),
      ]),
    );

    const again = await ctms(`/v2/nodes/${nodes.PRD?.id}/transportRequests/import`, {
      method: 'POST',
      json: { transportRequests: [id] },
    });
    expect(again.status).toBe(400);
    expect(await json(again)).toEqual({
      errorType: 'BAD_REQUEST',
      errorMessage: expect.stringContaining('error'),
    });

    await h.admin(`/ctms/transport-requests/${id}/import-failure`, { method: 'DELETE' });
    const reset = await ctms(`/v2/nodes/${nodes.PRD?.id}/transportRequests/reset`, {
      method: 'POST',
      json: { transportRequests: [id] },
    });
    expect(reset.status).toBe(200);
    expect((await queue('PRD', 're')).map((item) => item.id)).toContain(id);
    const retry = await ctms(`/v2/nodes/${nodes.PRD?.id}/transportRequests/import`, {
      method: 'POST',
      json: { transportRequests: [id] },
    });
    expect((await pollAction((await json<{ actionId: number }>(retry)).actionId)).status).toBe('succeeded');
  });

  it('exports into the follow-on queues, forwards and removes', async () => {
    const fileId = await upload('export.mtar', 'PK export');
    const exported = await json<{ transportRequestId: number; queueEntries: { nodeName: string }[] }>(
      await ctms('/v2/nodes/export', {
        method: 'POST',
        json: {
          contentType: 'MTA',
          storageType: 'FILE',
          nodeName: 'DEV',
          entries: [{ uri: String(fileId) }],
        },
      }),
    );
    expect(exported.queueEntries.map((entry) => entry.nodeName)).toEqual(['QAS']);
    const id = exported.transportRequestId;
    const forwarded = await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests/forward`, {
      method: 'POST',
      json: { transportRequests: [id] },
    });
    expect(forwarded.status).toBe(200);
    expect((await queue('PRD', 'in')).map((item) => item.id)).toContain(id);
    await ctms(`/v2/nodes/${nodes.PRD?.id}/transportRequests/remove`, {
      method: 'POST',
      json: { transportRequests: [id] },
    });
    expect((await queue('PRD', 'de')).map((item) => item.id)).toContain(id);
    expect((await queue('PRD', 'in')).map((item) => item.id)).not.toContain(id);
  });

  it('imports a known ABAP transport put into a queue through the admin API, listing its objects', async () => {
    const known = await json<{ number: string; objects: { name: string }[] }[]>(
      await h.admin('/ctms/abap-transports'),
    );
    const listed = new Set(
      [...(await queue('QAS', 'in,su,er,wa')), ...(await queue('PRD', 'in,su'))].map(
        (tr) => tr.entries[0]?.uri,
      ),
    );
    const pending = known.find((tr) => !listed.has(tr.number));
    expect(pending).toBeDefined();
    const put = await h.admin(`/ctms/abap-transports/${pending?.number}/enqueue`, {
      method: 'POST',
      json: { nodeName: 'QAS', namedUser: 'dev@corp.com' },
    });
    expect(put.status).toBe(200);
    const start = await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests/importAll`, {
      method: 'POST',
      json: { namedUser: 'ops@corp.com' },
    });
    const action = await pollAction((await json<{ actionId: number }>(start)).actionId);
    expect(action.status).toBe('succeeded');
    const logs = await json<Logs>(await ctms(`/v2/actions/${action.id}/logs`));
    const text = logs.logs.flatMap((log) => log.messages.map((message) => message.message)).join('\n');
    expect(text).toContain(`Importing ABAP transport request ${pending?.number}`);
    expect(text).toContain(pending?.objects[0]?.name);
  });

  it('answers bad input and missing authorisation with 4xx in the CTMS error shape', async () => {
    const missingStatus = await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests`);
    expect(missingStatus.status).toBe(400);
    expect(await json(missingStatus)).toEqual({ errorType: 'BAD_REQUEST', errorMessage: expect.any(String) });
    expect((await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests?status=xx`)).status).toBe(400);
    expect(
      (await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests?status=in&createdAtFrom=yesterday`)).status,
    ).toBe(400);
    expect((await ctms('/v2/nodes/abc')).status).toBe(400);
    expect((await ctms('/v2/nodes/99999999999')).status).toBe(400);
    expect((await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests?status=in&owner=%00`)).status).toBe(400);
    const hugeId = await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests/import`, {
      method: 'POST',
      json: { transportRequests: [99999999999] },
    });
    expect(hugeId.status).toBe(400);
    const nulUser = await ctms('/v2/nodes/upload', {
      method: 'POST',
      json: { nodeName: 'QAS', namedUser: 'a\u0000b', entries: [{ uri: '1' }] },
    });
    expect(nulUser.status).toBe(400);
    const missing = await ctms('/v2/nodes/9999');
    expect(missing.status).toBe(404);
    expect((await json<{ errorType: string }>(missing)).errorType).toBe('NOT_FOUND');
    expect((await ctms('/v2/actions/9999')).status).toBe(404);
    expect((await ctms('/v2/nodes', { token: '' })).status).toBe(401);
    expect((await ctms('/v2/nodes', { token: h.token })).status).toBe(403);
    const notQueued = await ctms(`/v2/nodes/${nodes.DEV?.id}/transportRequests/import`, {
      method: 'POST',
      json: { transportRequests: [1] },
    });
    expect(notQueued.status).toBe(400);
    const badJson = await ctms('/v2/nodes/upload', {
      method: 'POST',
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    const unknownFile = await ctms('/v2/nodes/upload', {
      method: 'POST',
      json: { nodeName: 'QAS', entries: [{ uri: '999999' }] },
    });
    expect(unknownFile.status).toBe(400);
    const unknownNode = await ctms('/v2/nodes/upload', {
      method: 'POST',
      json: { nodeName: 'NOPE', entries: [{ uri: '1' }] },
    });
    expect(unknownNode.status).toBe(404);
    const notMultipart = await ctms('/v2/files/upload', { method: 'POST', json: { file: 'x' } });
    expect(notMultipart.status).toBe(400);
    const noFile = new FormData();
    noFile.append('namedUser', 'x');
    expect((await ctms('/v2/files/upload', { method: 'POST', body: noFile })).status).toBe(400);

    const reader = await json<CtmsServiceKey>(
      await h.admin('/ctms/clients', { method: 'POST', json: { name: 'reader', scopes: ['ctms.read'] } }),
    );
    const readerToken = await piperToken(reader);
    expect((await ctms('/v2/nodes', { token: readerToken })).status).toBe(200);
    const denied = await ctms(`/v2/nodes/${nodes.QAS?.id}/transportRequests/importAll`, {
      method: 'POST',
      token: readerToken,
    });
    expect(denied.status).toBe(403);
    expect((await json<{ errorType: string }>(denied)).errorType).toBe('FORBIDDEN');
  });

  it('applies fault rules to /ctms paths (429 with Retry-After)', async () => {
    const put = await h.admin('/faults', {
      method: 'PUT',
      json: [{ path: '/ctms/v2/*', kind: 'status', status: 429, retryAfterSeconds: 7, limit: 1 }],
    });
    expect(put.status).toBe(200);
    const limited = await ctms('/v2/nodes');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await json(limited)).toEqual({ errorType: 'TOO_MANY_REQUESTS', errorMessage: expect.any(String) });
    expect((await ctms('/v2/nodes')).status).toBe(200);
    await h.admin('/faults', { method: 'DELETE' });
  });
});

describe('CTMS imports across a restart', () => {
  it('finishes an import that was running when the sandbox stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calmhub-ctms-restart-'));
    try {
      const first = await startSandbox({ port: 0, dataDir: dir, logLevel: 'silent', seed: 'demo' });
      const admin = { authorization: `Bearer ${first.adminToken}`, 'content-type': 'application/json' };
      await fetch(`${first.url}/admin/ctms/settings`, {
        method: 'PATCH',
        headers: admin,
        body: JSON.stringify({ importDurationMs: 400 }),
      });
      const key = (await (
        await fetch(`${first.url}/admin/ctms/service-key`, { headers: admin })
      ).json()) as CtmsServiceKey;
      const token = await piperToken(key);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const { nodes } = (await (await fetch(`${key.uri}/v2/nodes`, { headers })).json()) as { nodes: Node[] };
      const prd = nodes.find((node) => node.name === 'PRD') as Node;
      const started = await fetch(`${key.uri}/v2/nodes/${prd.id}/transportRequests/importAll`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ namedUser: 'ops@corp.com' }),
      });
      const { actionId } = (await started.json()) as { actionId: number };
      await first.stop();

      const second = await startSandbox({ port: 0, dataDir: dir, logLevel: 'silent' });
      const again = JSON.parse(
        readFileSync(join(dir, 'sandbox', 'ctms-service-key.json'), 'utf8'),
      ) as CtmsServiceKey;
      const bearer = { authorization: `Bearer ${await piperToken(again)}` };
      const deadline = Date.now() + 10_000;
      let status = 'running';
      while (!FINAL.has(status) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (
          (await (await fetch(`${again.uri}/v2/actions/${actionId}`, { headers: bearer })).json()) as Action
        ).status;
      }
      expect(status).toBe('succeeded');
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CTMS service key file', () => {
  it('writes ctms-service-key.json next to the Cloud ALM key and keeps it across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calmhub-ctms-'));
    try {
      const first = await startSandbox({ port: 0, dataDir: dir, logLevel: 'silent' });
      const path = first.files['ctms-service-key.json'];
      expect(path).toBe(join(dir, 'sandbox', 'ctms-service-key.json'));
      const key = JSON.parse(readFileSync(path as string, 'utf8')) as CtmsServiceKey;
      expect(key.uri).toBe(`${first.url}/ctms`);
      await first.stop();
      const second = await startSandbox({ port: 0, dataDir: dir, logLevel: 'silent' });
      const again = JSON.parse(readFileSync(path as string, 'utf8')) as CtmsServiceKey;
      expect(again.uaa.clientid).toBe(key.uaa.clientid);
      expect(again.uaa.clientsecret).toBe(key.uaa.clientsecret);
      const token = await piperToken(again);
      expect(
        (await fetch(`${again.uri}/v2/nodes`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
