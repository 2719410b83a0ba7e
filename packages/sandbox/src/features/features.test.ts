import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import type { SandboxEvent } from '../events/events.js';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { engineLimitError } from './routes.js';

type Feature = Record<string, unknown> & {
  uuid: string;
  displayId: string;
  statusCode: string;
  modifiedAt: string;
  projectId: string;
};
type Collection = { '@count'?: number; '@nextLink'?: string; value: Feature[] };
type ODataError = { error: { code: string; message: string } };

let h: Harness;
const F = '/calm-features/v1';
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

async function list(params: Record<string, string>): Promise<Collection> {
  const response = await h.call(`${F}/Features?${q(params)}`);
  expect(response.status).toBe(200);
  return json<Collection>(response);
}

async function events(resourceId: string): Promise<SandboxEvent[]> {
  return (await json<{ events: SandboxEvent[] }>(await h.admin(`/events?resourceId=${resourceId}`))).events;
}

beforeAll(async () => {
  h = await startHarness({ seed: 'demo' });
});
afterAll(() => h.stop());

describe('GET /Features', () => {
  it('filters by project with an unquoted GUID and counts with $top=0&$count=true', async () => {
    const counted = await list({ $filter: `projectId eq ${DEMO_PROJECT_ID}`, $top: '0', $count: 'true' });
    expect(counted).toEqual({ '@context': '$metadata#Features', '@count': 12, value: [] });
    const all = await list({ $filter: `projectId eq ${DEMO_PROJECT_ID.toUpperCase()}` });
    expect(all.value).toHaveLength(12);
    expect(all.value.every((feature) => feature.projectId === DEMO_PROJECT_ID)).toBe(true);
  });

  it('refuses a quoted GUID with an OData type-mismatch error', async () => {
    const response = await h.call(`${F}/Features?${q({ $filter: `projectId eq '${DEMO_PROJECT_ID}'` })}`);
    expect(response.status).toBe(400);
    const body = await json<ODataError>(response);
    expect(body.error.code).toBe('TYPE_MISMATCH');
    expect(Object.keys(body)).toEqual(['error']);
  });

  it('supports eq, ne, gt, lt, ge, le, and, or, in on strings and numbers', async () => {
    const base = `projectId eq ${DEMO_PROJECT_ID}`;
    const testing = await list({ $filter: `${base} and statusCode eq 'IN_TESTING'` });
    expect(testing.value.map((f) => f.title).sort()).toEqual([
      'Credit management',
      'Intercompany reconciliation',
    ]);
    const notCreated = await list({ $filter: `${base} and statusCode ne 'CREATED'` });
    expect(notCreated.value.every((f) => f.statusCode !== 'CREATED')).toBe(true);
    expect(notCreated.value).toHaveLength(9);
    const either = await list({
      $filter: `${base} and (statusCode eq 'CONFIRMED' or statusCode eq 'NOT_PLANNED')`,
    });
    expect(either.value).toHaveLength(3);
    const inList = await list({ $filter: `${base} and statusCode in ('CONFIRMED','NOT_PLANNED')` });
    expect(inList.value.map((f) => f.uuid).sort()).toEqual(either.value.map((f) => f.uuid).sort());
    const high = await list({ $filter: `${base} and priorityCode le 20` });
    expect(high.value.every((f) => (f.priorityCode as number) <= 20)).toBe(true);
    const low = await list({ $filter: `${base} and priorityCode gt 20` });
    expect(high.value.length + low.value.length).toBe(12);
    const ge = await list({ $filter: `${base} and priorityCode ge 30 and priorityCode lt 40` });
    expect(ge.value.every((f) => f.priorityCode === 30)).toBe(true);
    const byDisplayId = await list({ $filter: "displayId eq '1-2'", $top: '1' });
    expect(byDisplayId.value).toHaveLength(1);
    expect(byDisplayId.value[0]?.title).toBe('Intercompany reconciliation');
  });

  it('filters modifiedAt with unquoted DateTimeOffset literals and orders by it', async () => {
    const all = await list({ $orderby: 'modifiedAt asc', $filter: `projectId eq ${DEMO_PROJECT_ID}` });
    const times = all.value.map((f) => Date.parse(f.modifiedAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const pivot = all.value[5]?.modifiedAt as string;
    const after = await list({ $filter: `projectId eq ${DEMO_PROJECT_ID} and modifiedAt gt ${pivot}` });
    expect(after.value).toHaveLength(6);
    const offset = new Date(Date.parse(pivot)).toISOString().replace('Z', '+00:00');
    const atOrAfter = await list({ $filter: `projectId eq ${DEMO_PROJECT_ID} and modifiedAt ge ${offset}` });
    expect(atOrAfter.value).toHaveLength(7);
    const quoted = await h.call(`${F}/Features?${q({ $filter: `modifiedAt gt '${pivot}'` })}`);
    expect(quoted.status).toBe(400);
  });

  it('supports $select (key always kept), $orderby desc, $top and $skip', async () => {
    const page = await list({
      $select: 'displayId,statusCode',
      $orderby: 'displayId desc',
      $top: '3',
      $skip: '1',
      $filter: `projectId eq ${DEMO_PROJECT_ID}`,
    });
    expect(page.value).toHaveLength(3);
    for (const feature of page.value)
      expect(Object.keys(feature).sort()).toEqual(['displayId', 'statusCode', 'uuid']);
    const ids = page.value.map((f) => f.displayId);
    expect([...ids].sort().reverse()).toEqual(ids);
  });

  it('accepts projectId as a plain query parameter too', async () => {
    const body = await list({ projectId: DEMO_SECOND_PROJECT_ID });
    expect(body.value).toHaveLength(2);
    const bad = await h.call(`${F}/Features?projectId=nope`);
    expect(bad.status).toBe(400);
  });

  it('returns the full entity shape with priorityCode as a number and HTML descriptions', async () => {
    const body = await list({ $filter: "displayId eq '1-1'" });
    const feature = body.value[0] as Feature;
    expect(Object.keys(feature).sort()).toEqual(
      [
        'createdAt',
        'description',
        'displayId',
        'modifiedAt',
        'priorityCode',
        'projectId',
        'releaseId',
        'responsibleId',
        'scopeId',
        'statusCode',
        'tags',
        'title',
        'type',
        'uuid',
        'workstreamId',
      ].sort(),
    );
    expect(typeof feature.priorityCode).toBe('number');
    expect(feature.description).toMatch(/^<p>/);
    expect(feature.modifiedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('answers 400 OData errors for bad options, never a 5xx', async () => {
    for (const params of [
      { $top: '-1' },
      { $skip: 'x' },
      { $count: 'yes' },
      { $orderby: 'nope' },
      { $orderby: 'tags' },
      { $select: 'nope' },
      { $filter: "title eq 'unterminated" },
      { $filter: 'nope eq 1' },
      { $expand: 'toNothing' },
      { $apply: 'groupby((statusCode))' },
      { $filter: "title eq 'x''; drop table sandbox_features; --'" },
    ]) {
      const response = await h.call(`${F}/Features?${q(params)}`);
      const body = await json<ODataError>(response);
      if (params.$filter?.includes('drop')) {
        expect(response.status).toBe(200);
        continue;
      }
      expect(response.status, JSON.stringify(params)).toBe(400);
      expect(typeof body.error.code).toBe('string');
      expect(typeof body.error.message).toBe('string');
    }
    expect((await list({ $top: '0', $count: 'true' }))['@count']).toBe(14);
  });

  it('pages server-side with a relative @nextLink above the page size', async () => {
    await h.admin('/settings', { method: 'PATCH', json: { pageSize: 5 } });
    try {
      const seen: string[] = [];
      let url: string | undefined = `${h.api}${F}/Features?${q({ $count: 'true', $select: 'displayId' })}`;
      let pages = 0;
      while (url) {
        const response = await fetch(url, { headers: { authorization: `Bearer ${h.token}` } });
        const body = await json<Collection>(response);
        expect(body['@count']).toBe(14);
        seen.push(...body.value.map((f) => f.uuid));
        url = body['@nextLink'] ? new URL(body['@nextLink'], url).toString() : undefined;
        if (body['@nextLink']) expect(body['@nextLink']).toMatch(/^Features\?.*\$skiptoken=\d+/);
        pages++;
      }
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(14);
      const capped = await list({ $top: '7' });
      expect(capped.value).toHaveLength(5);
      const rest = await fetch(new URL(capped['@nextLink'] as string, `${h.api}${F}/`), {
        headers: { authorization: `Bearer ${h.token}` },
      });
      expect((await json<Collection>(rest)).value).toHaveLength(2);
    } finally {
      await h.admin('/settings', { method: 'PATCH', json: { pageSize: 1000 } });
    }
  });

  it('expands navigation properties', async () => {
    const body = await list({
      $filter: "displayId eq '1-1'",
      $expand: 'toURLReferences,toTaskAssignments,toTransportReferences,toExternalReferences',
    });
    const feature = body.value[0] as Feature & {
      toURLReferences: unknown[];
      toTaskAssignments: { taskType: string }[];
      toTransportReferences: unknown[];
    };
    expect(feature.toURLReferences).toHaveLength(1);
    expect(feature.toTaskAssignments.length).toBe(3);
    expect(feature.toTaskAssignments.every((a) => a.taskType === 'CALMUS')).toBe(true);
    expect(feature.toTransportReferences).toHaveLength(1);
  });
});

describe('single feature', () => {
  it('is addressed as /Features/{uuid} and /Features({uuid}); unknown keys 404, malformed 400', async () => {
    const [first] = (await list({ $top: '1' })).value;
    const uuid = (first as Feature).uuid;
    const segment = await h.call(`${F}/Features/${uuid}`);
    expect(segment.status).toBe(200);
    const byParens = await h.call(`${F}/Features(${uuid})`);
    expect(byParens.status).toBe(200);
    const a = await json<Feature>(segment);
    const b = await json<Feature>(byParens);
    expect(a).toEqual(b);
    expect(a.uuid).toBe(uuid);
    const missing = await h.call(`${F}/Features/00000000-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);
    expect((await json<ODataError>(missing)).error.code).toBe('NOT_FOUND');
    expect((await h.call(`${F}/Features/1-1`)).status).toBe(400);
    expect((await h.call(`${F}/Features('${uuid}')`)).status).toBe(400);
  });

  it('cannot be deleted (405 OData error)', async () => {
    const [first] = (await list({ $top: '1' })).value;
    const response = await h.call(`${F}/Features/${(first as Feature).uuid}`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect((await json<ODataError>(response)).error.message).toMatch(/cannot be deleted/);
  });
});

describe('POST /Features', () => {
  it('creates with deep URL and external references, priorityCode as string, and emits FEATURE.CREATED', async () => {
    const response = await h.call(`${F}/Features`, {
      method: 'POST',
      json: {
        title: 'Close periods faster',
        projectId: DEMO_PROJECT_ID,
        description: '<p>HTML</p>',
        priorityCode: '20',
        responsibleId: 'jane.doe@example.com',
        workstreamId: 'WS003',
        toURLReferences: [{ name: 'Spec', url: 'https://example.com/spec' }],
        toExternalReferences: [
          { id: 'JIRA-123', name: 'Jira', url: 'https://jira.example.com/browse/JIRA-123' },
        ],
      },
    });
    expect(response.status).toBe(201);
    const created = await json<Feature>(response);
    expect(created.statusCode).toBe('CREATED');
    expect(created.priorityCode).toBe(20);
    expect(created.displayId).toBe('1-13');
    const expanded = await json<
      Feature & {
        toURLReferences: { name: string }[];
        toExternalReferences: { id: string; parentUuid: string }[];
      }
    >(await h.call(`${F}/Features/${created.uuid}?$expand=toURLReferences,toExternalReferences`));
    expect(expanded.toURLReferences.map((r) => r.name)).toEqual(['Spec']);
    expect(expanded.toExternalReferences).toEqual([
      {
        id: 'JIRA-123',
        parentUuid: created.uuid,
        name: 'Jira',
        url: 'https://jira.example.com/browse/JIRA-123',
      },
    ]);
    const [event] = await events(created.uuid);
    expect(event?.eventType).toBe('FEATURE.CREATED');
    expect(event?.resourceType).toBe('FEATURE');
    expect(event?.resource).toEqual(
      Object.fromEntries(Object.entries(created).filter(([k]) => k !== '@context')),
    );
  });

  it('validates input with 400 OData errors', async () => {
    const cases: unknown[] = [
      { projectId: DEMO_PROJECT_ID },
      { title: 'x' },
      { title: 'x', projectId: 'not-a-guid' },
      { title: 'x', projectId: '00000000-0000-4000-8000-000000000000' },
      { title: 'x', projectId: DEMO_PROJECT_ID, priorityCode: 'high' },
      { title: 'x', projectId: DEMO_PROJECT_ID, priorityCode: 15 },
      { title: 'x', projectId: DEMO_PROJECT_ID, statusCode: 'DONE' },
      { title: 'x', projectId: DEMO_PROJECT_ID, unknownField: 1 },
      { title: 'x'.repeat(601), projectId: DEMO_PROJECT_ID },
      { title: 'x', projectId: DEMO_PROJECT_ID, toURLReferences: [{ name: 'a', url: 'ftp://x' }] },
      [],
    ];
    for (const body of cases) {
      const response = await h.call(`${F}/Features`, { method: 'POST', json: body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await json<ODataError>(response)).error.message).toBeTruthy();
    }
    const broken = await h.call(`${F}/Features`, {
      method: 'POST',
      body: '{"title":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
  });
});

describe('PATCH /Features/{uuid}', () => {
  async function fresh(): Promise<Feature> {
    const response = await h.call(`${F}/Features`, {
      method: 'POST',
      json: { title: 'Lifecycle', projectId: DEMO_PROJECT_ID, priorityCode: 30 },
    });
    return json<Feature>(response);
  }

  it('updates the fields sent, bumps modifiedAt and emits FEATURE.UPDATED', async () => {
    const feature = await fresh();
    const response = await h.call(`${F}/Features/${feature.uuid}`, {
      method: 'PATCH',
      json: { title: 'Renamed', priorityCode: '10', description: null },
    });
    expect(response.status).toBe(200);
    const updated = await json<Feature>(response);
    expect(updated.title).toBe('Renamed');
    expect(updated.priorityCode).toBe(10);
    expect(updated.description).toBeNull();
    expect(Date.parse(updated.modifiedAt)).toBeGreaterThan(Date.parse(feature.modifiedAt));
    const all = await events(feature.uuid);
    expect(all.map((e) => e.eventType)).toEqual(['FEATURE.CREATED', 'FEATURE.UPDATED']);
    expect(all[1]?.resource.title).toBe('Renamed');
  });

  it('refuses a status move outside the matrix and allows a listed one with an event carrying the new statusCode', async () => {
    const feature = await fresh();
    const forbidden = await h.call(`${F}/Features/${feature.uuid}`, {
      method: 'PATCH',
      json: { statusCode: 'CONFIRMED' },
    });
    expect(forbidden.status).toBe(400);
    const error = await json<ODataError>(forbidden);
    expect(error.error.code).toBe('INVALID_STATUS_TRANSITION');
    expect(error.error.message).toMatch(/invalid status transition/i);
    expect((await events(feature.uuid)).map((e) => e.eventType)).toEqual(['FEATURE.CREATED']);

    const allowed = await h.call(`${F}/Features(${feature.uuid})`, {
      method: 'PATCH',
      json: { statusCode: 'IN_REALIZATION' },
    });
    expect(allowed.status).toBe(200);
    expect((await json<Feature>(allowed)).statusCode).toBe('IN_REALIZATION');
    const updates = (await events(feature.uuid)).filter((e) => e.eventType === 'FEATURE.UPDATED');
    expect(updates).toHaveLength(1);
    expect(updates[0]?.resource.statusCode).toBe('IN_REALIZATION');
    expect(updates[0]?.actor).toBe(h.sandbox.serviceKey.uaa.clientid);
  });

  it('follows a matrix changed at runtime', async () => {
    const feature = await fresh();
    const put = await h.admin('/feature-status-transitions', {
      method: 'PUT',
      json: { CREATED: ['CONFIRMED'] },
    });
    expect(put.status).toBe(200);
    try {
      expect(
        (
          await h.call(`${F}/Features/${feature.uuid}`, {
            method: 'PATCH',
            json: { statusCode: 'IN_REALIZATION' },
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await h.call(`${F}/Features/${feature.uuid}`, {
            method: 'PATCH',
            json: { statusCode: 'CONFIRMED' },
          })
        ).status,
      ).toBe(200);
    } finally {
      await h.admin('/feature-status-transitions', { method: 'PUT', json: {} });
    }
    const restored = await json<Record<string, string[]>>(await h.admin('/feature-status-transitions'));
    expect(restored.CREATED).toEqual(['IN_REALIZATION', 'NOT_PLANNED']);
  });

  it('refuses changes to projectId and unknown statuses, and answers 204 when configured', async () => {
    const feature = await fresh();
    expect(
      (
        await h.call(`${F}/Features/${feature.uuid}`, {
          method: 'PATCH',
          json: { projectId: DEMO_SECOND_PROJECT_ID },
        })
      ).status,
    ).toBe(400);
    expect(
      (await h.call(`${F}/Features/${feature.uuid}`, { method: 'PATCH', json: { statusCode: 'WHATEVER' } }))
        .status,
    ).toBe(400);
    expect(
      (
        await h.call(`${F}/Features/00000000-0000-4000-8000-000000000000`, {
          method: 'PATCH',
          json: { title: 'x' },
        })
      ).status,
    ).toBe(404);
    await h.admin('/settings', { method: 'PATCH', json: { featurePatchStatus: 204 } });
    try {
      const response = await h.call(`${F}/Features/${feature.uuid}`, {
        method: 'PATCH',
        json: { title: 'quiet' },
      });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
    } finally {
      await h.admin('/settings', { method: 'PATCH', json: { featurePatchStatus: 200 } });
    }
  });
});

describe('code lists and link entity sets', () => {
  it('serves FeatureStatus and FeaturePriorities with code and name', async () => {
    const statuses = await json<{ value: { code: string; name: string }[] }>(
      await h.call(`${F}/FeatureStatus`),
    );
    expect(statuses.value.map((s) => s.code)).toEqual([
      'CREATED',
      'NOT_PLANNED',
      'IN_REALIZATION',
      'IN_TESTING',
      'SUCCESSFULLY_TESTED',
      'APPROVED_FOR_DEPLOYMENT',
      'CONFIRMED',
    ]);
    expect(statuses.value[0]?.name).toBe('In Specification');
    const priorities = await json<{ value: { code: number; name: string }[] }>(
      await h.call(`${F}/FeaturePriorities`),
    );
    expect(priorities.value).toEqual([
      { code: 10, name: 'Very High' },
      { code: 20, name: 'High' },
      { code: 30, name: 'Medium' },
      { code: 40, name: 'Low' },
    ]);
  });

  it('creates, lists and deletes URLReferences', async () => {
    const [feature] = (await list({ $filter: "displayId eq '1-2'" })).value;
    const uuid = (feature as Feature).uuid;
    const created = await h.call(`${F}/URLReferences`, {
      method: 'POST',
      json: { parentUuid: uuid, name: 'Pipeline run', url: 'https://ci.example.com/run/42' },
    });
    expect(created.status).toBe(201);
    const ref = await json<{ uuid: string; parentUuid: string }>(created);
    expect(ref.parentUuid).toBe(uuid);
    const listed = await json<{ value: { uuid: string }[] }>(
      await h.call(`${F}/URLReferences?${q({ $filter: `parentUuid eq ${uuid}` })}`),
    );
    expect(listed.value.map((r) => r.uuid)).toContain(ref.uuid);
    expect((await h.call(`${F}/URLReferences/${ref.uuid}`)).status).toBe(200);
    expect((await h.call(`${F}/URLReferences(${ref.uuid})`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.call(`${F}/URLReferences/${ref.uuid}`, { method: 'DELETE' })).status).toBe(404);
    expect(
      (
        await h.call(`${F}/URLReferences`, {
          method: 'POST',
          json: { parentUuid: uuid, name: 'x', url: 'javascript:alert(1)' },
        })
      ).status,
    ).toBe(400);
    const kinds = (await events(uuid)).map((e) => e.eventType);
    expect(kinds).toEqual(['FEATURE.UPDATED', 'FEATURE.UPDATED']);
  });

  it('creates and deletes ExternalReferences by either key syntax', async () => {
    const [feature] = (await list({ $filter: "displayId eq '1-3'" })).value;
    const uuid = (feature as Feature).uuid;
    for (const id of ['JIRA-1', 'JIRA-2']) {
      const created = await h.call(`${F}/ExternalReferences`, {
        method: 'POST',
        json: { id, parentUuid: uuid, name: 'Jira', url: `https://jira.example.com/browse/${id}` },
      });
      expect(created.status).toBe(201);
    }
    const duplicate = await h.call(`${F}/ExternalReferences`, {
      method: 'POST',
      json: { id: 'JIRA-1', parentUuid: uuid, name: 'Jira' },
    });
    expect(duplicate.status).toBe(409);
    expect((await h.call(`${F}/ExternalReferences/JIRA-1/${uuid}`)).status).toBe(200);
    expect((await h.call(`${F}/ExternalReferences/JIRA-1/${uuid}`, { method: 'DELETE' })).status).toBe(204);
    expect(
      (await h.call(`${F}/ExternalReferences(id='JIRA-2',parentUuid=${uuid})`, { method: 'DELETE' })).status,
    ).toBe(204);
    expect(
      (await h.call(`${F}/ExternalReferences(id='JIRA-2',parentUuid=${uuid})`, { method: 'DELETE' })).status,
    ).toBe(404);
  });

  it('serves TaskAssignments, Transports and TransportReferences read-only', async () => {
    const assignments = await json<{ value: { parentUuid: string; taskId: string }[] }>(
      await h.call(`${F}/TaskAssignments?$count=true`),
    );
    expect(assignments.value.length).toBeGreaterThan(20);
    const transports = await json<{ value: { uuid: string; transportId: string; status: string }[] }>(
      await h.call(`${F}/Transports`),
    );
    expect(transports.value[0]?.transportId).toMatch(/^S4DK\d+$/);
    const refs = await json<{ value: { transportUuid: string; transportId: string }[] }>(
      await h.call(`${F}/TransportReferences?$filter=transportId eq '${transports.value[0]?.transportId}'`),
    );
    expect(refs.value[0]?.transportUuid).toBe(transports.value[0]?.uuid);
    for (const set of ['TaskAssignments', 'Transports', 'TransportReferences']) {
      const response = await h.call(`${F}/${set}`, { method: 'POST', json: {} });
      expect(response.status).toBe(405);
      expect((await json<ODataError>(response)).error.code).toBe('METHOD_NOT_ALLOWED');
    }
  });

  it('answers unknown entity sets with an OData 404 and serves the service document and $metadata', async () => {
    const missing = await h.call(`${F}/Documents`);
    expect(missing.status).toBe(404);
    expect((await json<ODataError>(missing)).error.code).toBe('NOT_FOUND');
    const root = await json<{ value: { name: string }[] }>(await h.call(`${F}/`));
    expect(root.value.map((s) => s.name)).toContain('Features');
    const metadata = await h.call(`${F}/$metadata`);
    expect(await metadata.text()).toContain('<EntitySet Name="Features"');
    const count = await h.call(`${F}/Features/$count`);
    expect(await count.text()).toMatch(/^\d+$/);
  });
});

describe('review fixes', () => {
  async function fresh(extra: Record<string, unknown> = {}): Promise<Feature> {
    const response = await h.call(`${F}/Features`, {
      method: 'POST',
      json: { title: 'Review', projectId: DEMO_PROJECT_ID, priorityCode: 30, ...extra },
    });
    expect(response.status).toBe(201);
    return json<Feature>(response);
  }

  it('answers 999 nested nots with a 400 OData error instead of a SQLite 500', async () => {
    const response = await h.call(
      `${F}/Features?${q({ $filter: `${'not '.repeat(999)}priorityCode eq 1` })}`,
    );
    expect(response.status).toBe(400);
    const body = await json<ODataError>(response);
    expect(body.error.code).toBe('FILTER_TOO_COMPLEX');
    expect(body.error.message).toMatch(/100 levels/);
  });

  it('caps nesting at 100 levels of parentheses, not and and/or combined', async () => {
    const status = async (filter: string) =>
      (await h.call(`${F}/Features?${q({ $filter: filter, $top: '1' })}`)).status;
    expect(await status(`${'('.repeat(100)}priorityCode eq 1${')'.repeat(100)}`)).toBe(200);
    expect(await status(`${'('.repeat(101)}priorityCode eq 1${')'.repeat(101)}`)).toBe(400);
    expect(await status(`${'not '.repeat(100)}priorityCode eq 1`)).toBe(200);
    expect(await status(`${'not ('.repeat(60)}priorityCode eq 1${')'.repeat(60)}`)).toBe(400);
    expect(await status(Array.from({ length: 100 }, () => 'priorityCode eq 1').join(' or '))).toBe(200);
    expect(await status(Array.from({ length: 150 }, () => 'priorityCode eq 1').join(' and '))).toBe(400);
  });

  it('maps engine "too complex" errors to a 400 and leaves others alone', () => {
    for (const message of [
      'Expression tree is too large (maximum depth 1000)',
      'too many terms in compound SELECT',
      'parser stack overflow',
      'stack depth limit exceeded',
    ]) {
      const mapped = engineLimitError(new Error(message));
      expect(mapped?.status, message).toBe(400);
      expect(mapped?.code).toBe('QUERY_TOO_COMPLEX');
    }
    expect(engineLimitError(new Error('disk I/O error'))).toBeUndefined();
  });

  it('answers an oversized body with 413 and a readable OData code', async () => {
    const response = await h.call(`${F}/Features`, {
      method: 'POST',
      body: JSON.stringify({ title: 'x'.repeat(11 * 1024 * 1024), projectId: DEMO_PROJECT_ID }),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(413);
    expect(await json(response)).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large' },
    });
    const media = await h.call(`${F}/Features`, {
      method: 'POST',
      body: '<feature/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(media.status).toBe(415);
    expect((await json<ODataError>(media)).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('does not bump modifiedAt or emit FEATURE.UPDATED for a PATCH that changes nothing', async () => {
    const feature = await fresh({ tags: ['a', 'b'] });
    for (const patch of [
      {},
      { title: 'Review', priorityCode: '30', tags: ['a', 'b'], statusCode: 'CREATED' },
    ]) {
      const response = await h.call(`${F}/Features/${feature.uuid}`, { method: 'PATCH', json: patch });
      expect(response.status).toBe(200);
      expect((await json<Feature>(response)).modifiedAt).toBe(feature.modifiedAt);
    }
    expect((await events(feature.uuid)).map((e) => e.eventType)).toEqual(['FEATURE.CREATED']);
    const changed = await h.call(`${F}/Features/${feature.uuid}`, { method: 'PATCH', json: { tags: ['a'] } });
    expect(Date.parse((await json<Feature>(changed)).modifiedAt)).toBeGreaterThan(
      Date.parse(feature.modifiedAt),
    );
    expect((await events(feature.uuid)).map((e) => e.eventType)).toEqual([
      'FEATURE.CREATED',
      'FEATURE.UPDATED',
    ]);
  });

  it('creates features only in the featureCreateStatuses (default CREATED), so POST cannot skip the matrix', async () => {
    const skipping = await h.call(`${F}/Features`, {
      method: 'POST',
      json: { title: 'Skip', projectId: DEMO_PROJECT_ID, statusCode: 'CONFIRMED' },
    });
    expect(skipping.status).toBe(400);
    expect((await json<ODataError>(skipping)).error.code).toBe('INVALID_STATUS_TRANSITION');
    expect((await fresh({ statusCode: 'CREATED' })).statusCode).toBe('CREATED');
    expect((await json(await h.admin('/settings'))).featureCreateStatuses).toEqual(['CREATED']);
    const bad = await h.admin('/settings', { method: 'PATCH', json: { featureCreateStatuses: ['DONE'] } });
    expect(bad.status).toBe(400);
    const patched = await h.admin('/settings', {
      method: 'PATCH',
      json: { featureCreateStatuses: ['CREATED', 'NOT_PLANNED'] },
    });
    expect(patched.status).toBe(200);
    try {
      expect((await fresh({ statusCode: 'NOT_PLANNED' })).statusCode).toBe('NOT_PLANNED');
    } finally {
      await h.admin('/settings', { method: 'PATCH', json: { featureCreateStatuses: ['CREATED'] } });
    }
  });

  it('answers 403 to a restricted client asking for a hidden project, on Features as on tasks', async () => {
    const { token } = await h.client({
      scopes: ['features.read', 'tasks.read'],
      projectIds: [DEMO_SECOND_PROJECT_ID],
    });
    const features = await h.call(`${F}/Features?projectId=${DEMO_PROJECT_ID}`, { token });
    expect(features.status).toBe(403);
    expect((await json<ODataError>(features)).error.code).toBe('FORBIDDEN');
    const tasks = await h.call(`/calm-tasks/v1/tasks?projectId=${DEMO_PROJECT_ID}`, { token });
    expect(tasks.status).toBe(403);
    const visible = await h.call(`${F}/Features?projectId=${DEMO_SECOND_PROJECT_ID}`, { token });
    expect(visible.status).toBe(200);
    const unscoped = await json<Collection>(await h.call(`${F}/Features`, { token }));
    expect(unscoped.value.every((feature) => feature.projectId === DEMO_SECOND_PROJECT_ID)).toBe(true);
  });
});

describe.each(testEngines)('not and ne with null values on %s', (engine) => {
  let testStore: TestStore;
  let s: Harness;
  let projectId: string;
  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    s = await startHarness({ store: testStore.store });
    const project = await s.call('/calm-projects/v1/projects', { method: 'POST', json: { name: 'Nulls' } });
    projectId = (await json<{ id: string }>(project)).id;
    for (const priorityCode of [10, 20, null, null]) {
      const created = await s.call(`${F}/Features`, {
        method: 'POST',
        json: { title: `p${priorityCode}`, projectId, priorityCode },
      });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await s?.stop();
    await testStore?.cleanup();
  });

  const titles = async (filter: string) => {
    const response = await s.call(
      `${F}/Features?${q({ $filter: `projectId eq ${projectId} and (${filter})` })}`,
    );
    expect(response.status, await response.clone().text()).toBe(200);
    return (await json<Collection>(response)).value.map((feature) => String(feature.title)).sort();
  };

  it('keeps rows whose comparison is null under not, as OData does (null eq 10 is false)', async () => {
    expect(await titles('priorityCode ne 10')).toEqual(['p20', 'pnull', 'pnull']);
    expect(await titles('not (priorityCode eq 10)')).toEqual(['p20', 'pnull', 'pnull']);
    expect(await titles('not (priorityCode gt 10)')).toEqual(['p10', 'pnull', 'pnull']);
    expect(await titles('not (priorityCode in (10, 20))')).toEqual(['pnull', 'pnull']);
    expect(await titles('not not (priorityCode eq 10)')).toEqual(['p10']);
    expect(await titles('not (priorityCode ne 10)')).toEqual(['p10']);
    expect(await titles('not (priorityCode eq 10 or priorityCode eq 20)')).toEqual(['pnull', 'pnull']);
    expect(await titles('priorityCode eq null')).toEqual(['pnull', 'pnull']);
  });
});
