import { FakeClock, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { type CalmItems, EXAMPLE_CALM_ITEMS, givenCalmItems } from '../testing/calm-items.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import { FAKE_SECRET, givenScenario, type Scenario, seedFakeCalm } from '../testing/scenario.js';
import { givenUser, startTestHub, type TestHub } from '../testing/test-hub.js';
import { parseTransportObjects } from './parse-objects.js';

const SE09_EXPORT = [
  'Program ID\tObj. Type\tObject Name',
  '* exported from SE09',
  'R3TR\tCLAS\tZCL_PAYMENT_RUN',
  'R3TR PROG ZPAY_REPORT',
  'LIMU METH ZCL_PAYMENT_RUN                 PROPOSE',
  '',
  'R3TR CLAS ZCL_PAYMENT_RUN',
  'TABL ZPAY_LOG',
].join('\r\n');

describe('transport object import', () => {
  it('reads SE09/ADT text exports: tabs or blanks, program id optional, headers, comments, duplicates', () => {
    expect(parseTransportObjects(SE09_EXPORT)).toEqual([
      { pgmid: 'R3TR', type: 'CLAS', name: 'ZCL_PAYMENT_RUN' },
      { pgmid: 'R3TR', type: 'PROG', name: 'ZPAY_REPORT' },
      { pgmid: 'LIMU', type: 'METH', name: 'ZCL_PAYMENT_RUN PROPOSE' },
      { pgmid: null, type: 'TABL', name: 'ZPAY_LOG' },
    ]);
  });

  it("reads JSON: the API's own objects, E071 columns, lines", () => {
    const json = JSON.stringify([
      { pgmid: 'R3TR', type: 'CLAS', name: 'ZCL_A' },
      { PGMID: 'R3TR', OBJECT: 'DEVC', OBJ_NAME: 'ZPAY' },
      'R3TR FUGR ZPAY_FG',
    ]);
    expect(parseTransportObjects(json)).toEqual([
      { pgmid: 'R3TR', type: 'CLAS', name: 'ZCL_A' },
      { pgmid: 'R3TR', type: 'DEVC', name: 'ZPAY' },
      { pgmid: 'R3TR', type: 'FUGR', name: 'ZPAY_FG' },
    ]);
    expect(parseTransportObjects('{"objects":[{"type":"prog","name":"Z1"}]}')).toEqual([
      { pgmid: null, type: 'PROG', name: 'Z1' },
    ]);
  });

  it('names the line or item that is wrong', () => {
    expect(() => parseTransportObjects('R3TR CLAS ZCL_A\nZCL_ALONE')).toThrow(/objectsText line 2: expected/);
    expect(() => parseTransportObjects('R3TR CLASSES ZCL_A')).toThrow(/line 1: object type "CLASSES"/);
    expect(() => parseTransportObjects('[{"type":"CLAS"}]')).toThrow(/item 1: needs "type" and "name"/);
    expect(() => parseTransportObjects('[oops')).toThrow(/is not valid JSON/);
  });
});

describe.each(testEngines)('story components (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let items: CalmItems;
  const clock = new FakeClock();
  const storyId = (key: string) => items.stories[key]?.id as string;
  const attach = (key: string, body: unknown, token = s.developer.token) =>
    hub.call('POST', `/api/v1/stories/${storyId(key)}/components`, { token, body });
  const componentsOf = async (key: string) =>
    (await hub.call('GET', `/api/v1/stories/${storyId(key)}/components`, { token: s.viewer.token })).body
      .items;

  beforeAll(async () => {
    const calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    hub = await startTestHub({ engine, clock, connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    items = await givenCalmItems(hub, s, {
      ...EXAMPLE_CALM_ITEMS,
      stories: [
        ...(EXAMPLE_CALM_ITEMS.stories ?? []),
        { key: 'old', feature: 'reports', displayId: '6-29', title: 'Old story', obsolete: true },
      ],
    });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it("attaches a transport by number, its fields filled from Cloud ALM's copy, stamped with who and when", async () => {
    const attached = await attach('vendor', {
      abapTransport: { number: 'S4DK900121', objectsText: SE09_EXPORT },
    });
    expect(attached.status, attached.text).toBe(201);
    expect(attached.body).toMatchObject({
      storyId: storyId('vendor'),
      kind: 'abap_transport',
      abapTransport: {
        number: 'S4DK900121',
        description: 'Payment run fixes',
        owner: 'DEV1',
        sourceSystem: 'S4D',
        targetSystem: 'S4Q',
        status: 'modifiable',
        calmTransportUuid: expect.any(String),
      },
      cpiArtifact: null,
      deliverable: null,
      createdBy: s.developer.userId,
      createdAt: new Date(clock.now()).toISOString(),
      updatedBy: s.developer.userId,
    });
    expect(attached.body.abapTransport.objects).toHaveLength(4);
    const story = await hub.call('GET', `/api/v1/stories/${storyId('vendor')}`, { token: s.viewer.token });
    expect(story.body.components.map((c: { id: string }) => c.id)).toEqual([attached.body.id]);
    expect(story.body.componentCount).toBe(1);
  });

  it('refuses a transport held by another open story, naming it, unless shared; never twice on one story', async () => {
    const refused = await attach('customer', { abapTransport: { number: 'S4DK900121' } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      'Transport S4DK900121 is already attached to story 6-11 "Vendor payment proposal"; set allowShared to attach it here too',
    );
    expect(refused.body.error.details).toMatchObject({
      field: 'abapTransport.number',
      story: { id: storyId('vendor'), displayId: '6-11', title: 'Vendor payment proposal' },
    });
    const shared = await attach('customer', { abapTransport: { number: 'S4DK900121' }, allowShared: true });
    expect(shared.status, shared.text).toBe(201);
    const twice = await attach('vendor', { abapTransport: { number: 'S4DK900121' }, allowShared: true });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toBe('Transport S4DK900121 is already attached to this story');
  });

  it('lets only one of two simultaneous attaches of a transport to different stories through', async () => {
    const answers = await Promise.all([
      attach('vendor', { abapTransport: { number: 'S4DK977001' } }),
      attach('customer', { abapTransport: { number: 'S4DK977001' } }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
  });

  it('lets an obsolete story hold a transport without blocking others', async () => {
    expect((await attach('old', { abapTransport: { number: 'S4DK900555' } })).status).toBe(201);
    const free = await attach('balance', {
      abapTransport: { number: 'S4DK900555', description: 'Own words' },
    });
    expect(free.status, free.text).toBe(201);
    expect(free.body.abapTransport).toMatchObject({
      description: 'Own words',
      owner: null,
      status: 'modifiable',
      calmTransportUuid: null,
      objects: [],
    });
  });

  it('validates the number, the objects and the one-kind rule, naming the field', async () => {
    const badNumber = await attach('loose', { abapTransport: { number: 'S4D900121' } });
    expect(badNumber.status).toBe(400);
    expect(badNumber.body.error.message).toContain('body/abapTransport/number');
    const badObjects = await attach('loose', {
      abapTransport: { number: 'S4DK900999', objectsText: 'R3TR CLAS A\nB' },
    });
    expect(badObjects.status).toBe(400);
    expect(badObjects.body.error.message).toBe(
      'abapTransport.objectsText line 2: expected "PGMID TYPE NAME" or "TYPE NAME", got "B"',
    );
    const two = await attach('loose', {
      cpiArtifact: { packageId: 'P', artifactId: 'A' },
      deliverable: { name: 'D', url: 'https://example.com' },
    });
    expect(two.status).toBe(400);
    expect(two.body.error.message).toContain('exactly one of abapTransport, cpiArtifact, deliverable');
    const badUrl = await attach('loose', { deliverable: { name: 'D', url: 'javascript:alert(1)' } });
    expect(badUrl.status).toBe(400);
    expect(await componentsOf('loose')).toEqual([]);
  });

  it('attaches CPI artifacts and deliverables, changes and detaches them', async () => {
    const cpi = await attach('loose', {
      cpiArtifact: { packageId: 'com.acme.payments', artifactId: 'PaymentIFlow' },
    });
    expect(cpi.status, cpi.text).toBe(201);
    expect(cpi.body.cpiArtifact).toEqual({
      packageId: 'com.acme.payments',
      artifactId: 'PaymentIFlow',
      version: null,
    });
    const doc = await attach('loose', {
      deliverable: { name: 'Test evidence', url: 'https://wiki.example.com/t/1' },
    });
    expect(doc.status).toBe(201);

    clock.advance(5_000);
    const versioned = await hub.call('PATCH', `/api/v1/components/${cpi.body.id}`, {
      token: s.admin,
      body: { cpiArtifact: { version: '1.0.3' } },
    });
    expect(versioned.status, versioned.text).toBe(200);
    expect(versioned.body).toMatchObject({
      cpiArtifact: { packageId: 'com.acme.payments', artifactId: 'PaymentIFlow', version: '1.0.3' },
      createdBy: s.developer.userId,
      updatedBy: s.adminUserId,
      updatedAt: new Date(clock.now()).toISOString(),
    });
    const wrongKind = await hub.call('PATCH', `/api/v1/components/${cpi.body.id}`, {
      token: s.admin,
      body: { deliverable: { name: 'x' } },
    });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.message).toContain(
      'deliverable cannot be changed on a cpi_artifact component',
    );

    const removed = await hub.call('DELETE', `/api/v1/components/${doc.body.id}`, {
      token: s.developer.token,
    });
    expect(removed.status).toBe(204);
    expect((await componentsOf('loose')).map((c: { id: string }) => c.id)).toEqual([cpi.body.id]);
    const again = await hub.call('DELETE', `/api/v1/components/${doc.body.id}`, { token: s.developer.token });
    expect(again.status).toBe(404);
    const row = await hub.hub.deps.db
      .selectFrom('hub_story_components')
      .selectAll()
      .where('id', '=', doc.body.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ detached_by: s.developer.userId, detached_at: clock.now() });
  });

  it("changes a transport's number and objects, checking the new number for conflicts", async () => {
    const own = await attach('balance', { abapTransport: { number: 'S4DK900777', owner: 'DEV9' } });
    const moved = await hub.call('PATCH', `/api/v1/components/${own.body.id}`, {
      token: s.developer.token,
      body: { abapTransport: { number: 'S4DK900121' } },
    });
    expect(moved.status).toBe(409);
    expect(moved.body.error.message).toContain('story 6-11 "Vendor payment proposal"');
    const released = await hub.call('PATCH', `/api/v1/components/${own.body.id}`, {
      token: s.developer.token,
      body: { abapTransport: { status: 'released', objects: [{ type: 'clas', name: 'ZCL_X' }] } },
    });
    expect(released.status, released.text).toBe(200);
    expect(released.body.abapTransport).toMatchObject({
      number: 'S4DK900777',
      owner: 'DEV9',
      status: 'released',
      objects: [{ pgmid: null, type: 'CLAS', name: 'ZCL_X' }],
    });
  });

  it("suggests the transports Cloud ALM lists on the story's feature that the story lacks", async () => {
    const forVendor = await hub.call('GET', `/api/v1/stories/${storyId('vendor')}/transport-suggestions`, {
      token: s.viewer.token,
    });
    expect(forVendor.status, forVendor.text).toBe(200);
    expect(forVendor.body.items).toEqual([
      expect.objectContaining({ number: 'S4DK900122', status: 'released', owner: 'DEV2', attachedTo: [] }),
    ]);
    const fresh = await hub.call('GET', `/api/v1/stories/${storyId('customer')}/transport-suggestions`, {
      token: s.viewer.token,
    });
    expect(fresh.body.items.map((t: { number: string }) => t.number)).toEqual(['S4DK900122']);
    const loose = await hub.call('GET', `/api/v1/stories/${storyId('loose')}/transport-suggestions`, {
      token: s.viewer.token,
    });
    expect(loose.body.items).toEqual([]);
  });

  it('lets developers and release managers manage components; viewers and approvers may not', async () => {
    const me = await hub.call('GET', '/api/v1/me', { token: s.admin });
    const tenantId = me.body.tenant.id;
    const approver = await givenUser(hub, tenantId, 'approver@example.com', {
      projectId: s.projectId,
      role: 'approver',
    });
    const manager = await givenUser(hub, tenantId, 'rm@example.com', {
      projectId: s.projectId,
      role: 'release_manager',
    });
    const body = { deliverable: { name: 'Cutover plan', url: 'https://example.com/cutover' } };
    for (const token of [s.viewer.token, approver.token]) {
      const denied = await attach('balance', body, token);
      expect(denied.status).toBe(403);
      expect(denied.body.error.message).toContain('components.manage');
    }
    expect((await attach('balance', body, manager.token)).status).toBe(201);
    const other = await attach('balance', body, s.otherTenant.adminToken);
    expect(other.status).toBe(404);
  });
});
