import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import type { SandboxEvent } from '../events/events.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import type { CtmsServiceKey } from './keys.js';

type Node = { id: number; name: string };
type QueueItem = {
  id: number;
  status: string;
  origin: string;
  entries: { contentType: string; uri: string }[];
};
type Transport = {
  uuid: string;
  transportId: string;
  status: string;
  sourceSystem: string | null;
  modifiedAt: string;
  objects: { pgmid: string; type: string; name: string }[];
};
type Message = { messageId: string; severity: string; message: string };

const FINAL = new Set(['succeeded', 'warning', 'error', 'fatal']);

describe.each(testEngines)('released Cloud ALM transports reach CTMS on %s', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let key: CtmsServiceKey;
  let token: string;
  let nodes: Record<string, Node>;

  const ctms = (path: string, body?: unknown) =>
    fetch(`${key.uri}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function queue(node: string, status: string): Promise<QueueItem[]> {
    const response = await ctms(`/v2/nodes/${nodes[node]?.id}/transportRequests?status=${status}`);
    expect(response.status).toBe(200);
    return (await json<{ transportRequests: QueueItem[] }>(response)).transportRequests;
  }

  /** Imports one request into a node through the public API and waits for the action to end. */
  async function importInto(node: string, trId: number) {
    const started = await ctms(`/v2/nodes/${nodes[node]?.id}/transportRequests/import`, {
      transportRequests: [trId],
      namedUser: 'release.manager@example.com',
    });
    expect(started.status).toBe(200);
    const { actionId } = await json<{ actionId: number }>(started);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const action = await json<{ status: string }>(await ctms(`/v2/actions/${actionId}`));
      if (FINAL.has(action.status) || Date.now() > deadline) return { actionId, status: action.status };
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function transport(transportId: string): Promise<Transport> {
    const all = await json<Transport[]>(await h.admin('/transports'));
    const found = all.find((candidate) => candidate.transportId === transportId);
    if (!found) throw new Error(`no transport ${transportId}`);
    return found;
  }

  async function latestSeq(): Promise<number> {
    const { events } = await json<{ events: SandboxEvent[] }>(await h.admin('/events?latest=true&limit=1'));
    return events[0]?.seq ?? 0;
  }

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store, seed: 'demo' });
    key = await json<CtmsServiceKey>(await h.admin('/ctms/service-key'));
    token = await h.tokenFor(key as unknown as Parameters<Harness['tokenFor']>[0]);
    await h.admin('/ctms/settings', { method: 'PATCH', json: { importDurationMs: 50 } });
    const list = await json<{ nodes: Node[] }>(await ctms('/v2/nodes'));
    nodes = Object.fromEntries(list.nodes.map((node) => [node.name, node]));
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('knows which ABAP system each demo node stands for', async () => {
    const admin = await json<{ name: string; system: string | null }[]>(await h.admin('/ctms/nodes'));
    expect(admin.map((node) => [node.name, node.system])).toEqual([
      ['DEV', 'S4D'],
      ['QAS', 'S4Q'],
      ['PRD', 'S4P'],
    ]);
  });

  it('releases the demo transport of a feature in implementation and imports it DEV → QAS → PRD', async () => {
    // "Close periods" is in implementation; its transport S4DK900121 is still modifiable.
    const before = await transport('S4DK900121');
    expect(before).toMatchObject({ status: 'modifiable', sourceSystem: 'S4D' });
    expect(before.objects.map((object) => `${object.type} ${object.name}`)).toContain(
      'PROG ZFI_CLOSE_PERIODS',
    );
    const refs = await json<{ value: { parentUuid: string }[] }>(
      await h.call(`/calm-features/v1/TransportReferences?$filter=transportId eq 'S4DK900121'`),
    );
    const featureUuid = refs.value[0]?.parentUuid as string;
    const feature = await json<{ title: string; statusCode: string; modifiedAt: string }>(
      await h.call(`/calm-features/v1/Features/${featureUuid}`),
    );
    expect(feature).toMatchObject({ title: 'Close periods', statusCode: 'IN_REALIZATION' });
    // Not queued anywhere before the release.
    for (const node of ['DEV', 'QAS', 'PRD']) {
      expect((await queue(node, 'in,su')).flatMap((tr) => tr.entries.map((e) => e.uri))).not.toContain(
        'S4DK900121',
      );
    }
    const cursor = await latestSeq();

    const released = await h.admin(`/transports/${before.uuid}`, {
      method: 'PATCH',
      json: { status: 'released' },
    });
    expect(released.status).toBe(200);
    const after = await json<Transport>(released);
    expect(after.status).toBe('released');
    expect(Date.parse(after.modifiedAt)).toBeGreaterThan(Date.parse(before.modifiedAt));

    // The feature shows the change, with its change event like every other Cloud ALM change.
    const touched = await json<{ modifiedAt: string }>(
      await h.call(`/calm-features/v1/Features/${featureUuid}`),
    );
    expect(Date.parse(touched.modifiedAt)).toBeGreaterThan(Date.parse(feature.modifiedAt));
    const { events } = await json<{ events: SandboxEvent[] }>(await h.admin(`/events?after=${cursor}`));
    expect(events.map((event) => [event.eventType, event.resourceId, event.actor])).toEqual([
      ['FEATURE.UPDATED', featureUuid, 'sandbox-admin'],
    ]);
    expect(events[0]?.resource.modifiedAt).toBe(touched.modifiedAt);

    // CTMS: the request waits in the node that follows DEV (the node of system S4D).
    const waiting = (await queue('QAS', 'initial')).find((tr) => tr.entries[0]?.uri === 'S4DK900121');
    expect(waiting).toMatchObject({ status: 'initial', origin: 'DEV', entries: [{ contentType: 'ABAP' }] });
    const trId = waiting?.id as number;
    expect((await queue('DEV', 'in')).map((tr) => tr.id)).not.toContain(trId);
    expect((await queue('PRD', 'in')).map((tr) => tr.id)).not.toContain(trId);
    const exportLog = await json<{ logs: { actionType: string; messages: Message[] }[] }>(
      await ctms(`/v2/nodes/${nodes.DEV?.id}/transportRequests/${trId}/logs`),
    );
    expect(exportLog.logs.map((log) => log.actionType)).toEqual(['EXPORT']);

    // Importing into QAS succeeds and the log lists the transport's objects.
    const qas = await importInto('QAS', trId);
    expect(qas.status).toBe('succeeded');
    const importLog = await json<{ logs: { transportRequestId: number; messages: Message[] }[] }>(
      await ctms(`/v2/actions/${qas.actionId}/logs`),
    );
    const messages = importLog.logs[0]?.messages.map((message) => message.message) ?? [];
    for (const object of before.objects) {
      expect(messages).toContain(`Imported object ${object.pgmid} ${object.type} ${object.name}`);
    }
    expect(messages).toContain(`Transport request ${trId} forwarded to node PRD`);

    // Forwarded after the import: production has it, and importing there succeeds too.
    expect((await queue('QAS', 'succeeded')).map((tr) => tr.id)).toContain(trId);
    expect((await queue('PRD', 'initial')).map((tr) => tr.id)).toContain(trId);
    const prd = await importInto('PRD', trId);
    expect(prd.status).toBe('succeeded');
    expect((await queue('PRD', 'succeeded')).map((tr) => tr.id)).toContain(trId);
    const prdLog = await json<{ logs: { actionType: string; status: string }[] }>(
      await ctms(`/v2/nodes/${nodes.PRD?.id}/transportRequests/${trId}/logs`),
    );
    expect(prdLog.logs.map((log) => [log.actionType, log.status])).toEqual([['IMPORT', 'succeeded']]);

    // A released transport cannot be released again, nor have its objects changed.
    expect((await h.admin(`/transports/${before.uuid}/release`, { method: 'POST' })).status).toBe(409);
    const frozen = await h.admin(`/transports/${before.uuid}`, {
      method: 'PATCH',
      json: { objects: [{ type: 'PROG', name: 'ZLATE' }] },
    });
    expect(frozen.status).toBe(409);
  });

  it('exports a registered transport with its own object list through the release endpoint', async () => {
    const created = await h.admin('/transports', {
      method: 'POST',
      json: {
        transportId: 'S4DK901001',
        description: 'Hotfix: dunning texts',
        owner: 'li.wei@example.com',
        sourceSystem: 'S4D',
        objects: [
          { pgmid: 'R3TR', type: 'FUGR', name: 'ZFI_DUNNING' },
          { pgmid: 'LIMU', type: 'REPS', name: 'LZFI_DUNNINGU01' },
          { type: 'TABU', name: 'T047E' },
        ],
      },
    });
    expect(created.status).toBe(201);
    const row = await json<Transport>(created);
    expect(row.objects[2]).toEqual({ pgmid: 'R3TR', type: 'TABU', name: 'T047E' });
    expect((await queue('QAS', 'in')).flatMap((tr) => tr.entries.map((e) => e.uri))).not.toContain(
      'S4DK901001',
    );

    const released = await h.admin(`/transports/${row.uuid}/release`, { method: 'POST' });
    expect(released.status).toBe(200);
    expect((await json<Transport>(released)).status).toBe('released');
    const waiting = (await queue('QAS', 'in')).find((tr) => tr.entries[0]?.uri === 'S4DK901001');
    expect(waiting).toBeDefined();
    const result = await importInto('QAS', waiting?.id as number);
    expect(result.status).toBe('succeeded');
    const logs = await json<{ logs: { messages: Message[] }[] }>(
      await ctms(`/v2/actions/${result.actionId}/logs`),
    );
    expect(logs.logs[0]?.messages.map((message) => message.message)).toEqual(
      expect.arrayContaining([
        'Imported object R3TR FUGR ZFI_DUNNING',
        'Imported object LIMU REPS LZFI_DUNNINGU01',
        'Imported object R3TR TABU T047E',
      ]),
    );
  });

  it('releases without exporting when no node stands for the source system, and follows node systems set later', async () => {
    const created = await json<Transport>(
      await h.admin('/transports', {
        method: 'POST',
        json: { transportId: 'BWDK900001', sourceSystem: 'BWD', status: 'released', objects: [] },
      }),
    );
    expect(created.status).toBe('released');
    const requests = await json<{ abapNumber: string | null }[]>(await h.admin('/ctms/transport-requests'));
    expect(requests.map((tr) => tr.abapNumber)).not.toContain('BWDK900001');

    // A node for system BWD with a route to QAS: later releases from BWD arrive in QAS.
    expect(
      (await h.admin('/ctms/nodes', { method: 'POST', json: { name: 'BWDEV', system: 'BWD' } })).status,
    ).toBe(201);
    expect(
      (await h.admin('/ctms/nodes', { method: 'POST', json: { name: 'BWX', system: 'BWD' } })).status,
    ).toBe(409);
    expect(
      (await h.admin('/ctms/routes', { method: 'POST', json: { sourceNode: 'BWDEV', targetNode: 'QAS' } }))
        .status,
    ).toBe(201);
    const second = await json<Transport>(
      await h.admin('/transports', {
        method: 'POST',
        json: {
          transportId: 'BWDK900002',
          sourceSystem: 'BWD',
          objects: [{ type: 'ODSO', name: 'ZFI_O01' }],
        },
      }),
    );
    await h.admin(`/transports/${second.uuid}`, { method: 'PATCH', json: { status: 'released' } });
    const waiting = (await queue('QAS', 'in')).find((tr) => tr.entries[0]?.uri === 'BWDK900002');
    expect(waiting?.origin).toBe('BWDEV');
  });
});
