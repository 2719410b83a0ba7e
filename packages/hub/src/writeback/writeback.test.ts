import { testEngines } from '@calmhub/platform/testing';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';
import { RemoteCallError } from '../connectors/remote-call-error.js';
import type { HubTables } from '../store/tables.js';
import { type SeededCalmProject, seedCalmProject } from '../testing/calm-project.js';
import { fakeConnectors } from '../testing/fake-connectors.js';
import {
  FAKE_CALM_PROJECT,
  FAKE_SECRET,
  givenScenario,
  type Scenario,
  seedFakeCalm,
} from '../testing/scenario.js';
import { startTestHub, type TestHub, waitForIdle } from '../testing/test-hub.js';
import { waitForJobs } from '../testing/wait-for-jobs.js';
import { WRITE_BACK_FLUSH } from './jobs.js';
import { carries, commentText, featureLine } from './markers.js';

describe('write-back texts', () => {
  it('one comment line per action, each ending in its marker; feature lines dated, escaped, marked', () => {
    const rows = [
      { text: 'calmhub: transport S4DK900121 attached by dev@example.com', marker: '[calmhub:aaaaaaaaaaaa]' },
      { text: 'calmhub: transport S4DK900122 attached by dev@example.com', marker: '[calmhub:bbbbbbbbbbbb]' },
    ];
    expect(commentText(rows)).toBe(
      'calmhub: transport S4DK900121 attached by dev@example.com [calmhub:aaaaaaaaaaaa]\n' +
        'calmhub: transport S4DK900122 attached by dev@example.com [calmhub:bbbbbbbbbbbb]',
    );
    expect(
      featureLine({
        text: 'deliverable <Spec> & co',
        marker: '[calmhub:cccccccccccc]',
        created_at: Date.UTC(2026, 10, 30, 8, 5, 59),
      }),
    ).toBe('<p>2026-11-30 08:05 UTC — deliverable &#60;Spec&#62; &#38; co [calmhub:cccccccccccc]</p>');
    expect(carries('<p>x [calmhub:cccccccccccc]</p>', '[calmhub:cccccccccccc]')).toBe(true);
    expect(carries(undefined, '[calmhub:cccccccccccc]')).toBe(false);
  });
});

describe.each(testEngines)('write-back to Cloud ALM over a fake (%s)', (engine) => {
  let hub: TestHub;
  let s: Scenario;
  let calm: FakeCloudAlm;
  let seeded: SeededCalmProject;
  let storyId: string;
  let taskId: string;
  let featureUuid: string;

  beforeEach(async () => {
    calm = new FakeCloudAlm(FAKE_SECRET);
    seedFakeCalm(calm);
    seeded = seedCalmProject(calm, {
      projectId: FAKE_CALM_PROJECT.id,
      tag: 1,
      features: 1,
      storiesPerFeature: 2,
    });
    hub = await startTestHub({ engine, connectors: fakeConnectors(calm) });
    s = await givenScenario(hub);
    taskId = seeded.stories[0]?.id as string;
    featureUuid = seeded.features[0]?.uuid as string;
    const story = await hub.hub.deps.db
      .selectFrom('hub_calm_stories')
      .select('id')
      .where('calm_id', '=', taskId)
      .executeTakeFirstOrThrow();
    storyId = story.id;
    // The scenario's webhook delivery is processed in the background: done before a test arms
    // the fake's one-shot failure, which would otherwise go to that read.
    await waitForIdle(hub);
  });
  afterEach(async () => {
    await hub?.stop();
  });

  const attach = async (number: string) => {
    const response = await hub.call('POST', `/api/v1/stories/${storyId}/components`, {
      token: s.admin,
      body: { abapTransport: { number } },
    });
    expect(response.status, response.text).toBe(201);
    return response.body.id as string;
  };
  const writeBacks = async () => {
    const response = await hub.call('GET', `/api/v1/stories/${storyId}/writebacks`, { token: s.admin });
    expect(response.status, response.text).toBe(200);
    return response.body.items as Array<{
      target: string;
      action: string;
      marker: string;
      text: string;
      state: string;
      attempts: number;
      lastError: string | null;
    }>;
  };
  const settings = async (body: unknown) => {
    const response = await hub.call('PUT', `/api/v1/integrations/${s.integrationId}/writeback-settings`, {
      token: s.admin,
      body,
    });
    expect(response.status, response.text).toBe(200);
    return response.body;
  };
  const description = () => calm.features.find((f) => f.uuid === featureUuid)?.description ?? '';
  const occurrences = (text: string, part: string) => text.split(part).length - 1;

  it('an attach becomes one comment on the story, a dated line under the feature (its HTML kept) and one reference', async () => {
    await attach('S4DK900001');
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    const rows = await writeBacks();
    expect(rows.map((r) => [r.target, r.action, r.state]).sort()).toEqual([
      ['feature_line', 'component.attached', 'written'],
      ['feature_reference', 'component.attached', 'written'],
      ['story_comment', 'component.attached', 'written'],
    ]);
    const comment = rows.find((r) => r.target === 'story_comment');
    const comments = calm.commentsOf(taskId);
    expect(comments.map((c) => c.text)).toEqual([
      `calmhub: transport S4DK900001 attached by admin@localhost ${comment?.marker}`,
    ]);
    const line = rows.find((r) => r.target === 'feature_line');
    expect(description()).toMatch(
      new RegExp(
        `^<p>Feature 1</p><p>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC — calmhub: transport S4DK900001 attached by admin@localhost \\[calmhub:${line?.marker.slice(9, -1)}\\]</p>$`,
      ),
    );
    expect(calm.externalReferences).toEqual([
      {
        id: storyId,
        parentUuid: featureUuid,
        name: expect.stringContaining('calmhub: US-1-1'),
        url: `${hub.url}/stories/${storyId}`,
      },
    ]);

    // The reference is owed once per feature and story: a detach adds a comment and a line, no reference.
    const components = await hub.call('GET', `/api/v1/stories/${storyId}/components`, { token: s.admin });
    await hub.call('DELETE', `/api/v1/components/${components.body.items[0].id}`, { token: s.admin });
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    expect(calm.commentsOf(taskId).map((c) => c.text)[1]).toMatch(
      /^calmhub: transport S4DK900001 detached by admin@localhost \[calmhub:[0-9a-f]{12}\]$/,
    );
    expect(occurrences(description(), '<p>')).toBe(3);
    expect(calm.externalReferences).toHaveLength(1);
  });

  it('three attaches in a row become ONE comment with a line per marker; the feature gets the three lines', async () => {
    for (const number of ['S4DK900001', 'S4DK900002', 'S4DK900003']) await attach(number);
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    const comments = calm.commentsOf(taskId);
    expect(comments).toHaveLength(1);
    const markers = (await writeBacks()).filter((r) => r.target === 'story_comment').map((r) => r.marker);
    expect(markers).toHaveLength(3);
    expect(comments[0]?.text.split('\n')).toHaveLength(3);
    for (const marker of markers) expect(occurrences(comments[0]?.text ?? '', marker)).toBe(1);
    expect(occurrences(description(), 'calmhub: transport')).toBe(3);
    expect(calm.externalReferences).toHaveLength(1);
  });

  it('a lost answer (the write landed, the caller saw a failure) is found by its marker on the retry: nothing twice', async () => {
    calm.loseResponse('postComment');
    calm.loseResponse('updateFeatureDescription');
    calm.loseResponse('createExternalReference');
    await attach('S4DK900001');
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    const rows = await writeBacks();
    expect(rows.every((r) => r.state === 'written' && r.attempts === 1)).toBe(true);
    const comment = rows.find((r) => r.target === 'story_comment');
    expect(calm.commentsOf(taskId).map((c) => c.text)).toEqual([
      `calmhub: transport S4DK900001 attached by admin@localhost ${comment?.marker}`,
    ]);
    const line = rows.find((r) => r.target === 'feature_line');
    expect(occurrences(description(), line?.marker ?? '?')).toBe(1);
    expect(calm.externalReferences).toHaveLength(1);
  });

  it('a crash between the remote write and the local commit does not write again', async () => {
    await settings({ targets: { feature_line: false, feature_reference: false } });
    // The store fails once, right after Cloud ALM took the comment: as if the process died there.
    const deps = hub.hub.deps;
    const real = deps.db;
    let crashed = false;
    deps.db = new Proxy(real, {
      get(target, property) {
        // Marking rows written (and auditing it) is one transaction: fail as it starts.
        if (property === 'transaction' && calm.comments.length > 0 && !crashed) {
          crashed = true;
          throw new Error('simulated crash before the commit');
        }
        if (property === 'updateTable')
          return (table: keyof HubTables) => {
            if (table === 'hub_writebacks' && calm.comments.length > 0 && !crashed) {
              crashed = true;
              throw new Error('simulated crash before the commit');
            }
            return target.updateTable(table);
          };
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Kysely<HubTables>;
    try {
      await attach('S4DK900001');
      await waitForJobs(hub, WRITE_BACK_FLUSH);
    } finally {
      deps.db = real;
    }
    expect(crashed).toBe(true);
    const rows = await writeBacks();
    expect(rows.map((r) => [r.target, r.state, r.attempts])).toEqual([['story_comment', 'written', 1]]);
    expect(calm.commentsOf(taskId)).toHaveLength(1);
  });

  it('a switched-off kind or target writes nothing; settings default to on', async () => {
    const initial = await hub.call('GET', `/api/v1/integrations/${s.integrationId}/writeback-settings`, {
      token: s.viewer.token,
    });
    expect(initial.status, initial.text).toBe(200);
    expect(Object.values(initial.body.targets)).toEqual([true, true, true]);
    expect(initial.body.actions['component.attached']).toBe(true);
    const changed = await settings({
      actions: { 'component.attached': false },
      targets: { feature_line: false },
    });
    expect(changed).toMatchObject({
      actions: { 'component.attached': false, 'component.detached': true },
      targets: { story_comment: true, feature_line: false, feature_reference: true },
    });
    const componentId = await attach('S4DK900001');
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    expect(await writeBacks()).toEqual([]);
    expect(calm.comments).toEqual([]);
    // Detaching is on, feature lines are off: a comment and the reference, no line.
    await hub.call('DELETE', `/api/v1/components/${componentId}`, { token: s.admin });
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    expect((await writeBacks()).map((r) => r.target).sort()).toEqual(['feature_reference', 'story_comment']);
    expect(description()).toBe('<p>Feature 1</p>');
    expect(calm.commentsOf(taskId)).toHaveLength(1);
  });

  it('a busy Cloud ALM is waited out (Retry-After), the wait visible on the story, then written once', async () => {
    await settings({ targets: { feature_line: false, feature_reference: false } });
    calm.failNext = new RemoteCallError('cloud_alm', 'Cloud ALM answered 503: Service busy', {
      remoteStatus: 503,
      retryable: true,
      retryAt: Date.now() + 1500,
    });
    await attach('S4DK900001');
    let waiting: Awaited<ReturnType<typeof writeBacks>>[number] | undefined;
    for (let i = 0; i < 200 && !waiting; i++) {
      waiting = (await writeBacks()).find((r) => r.lastError !== null);
      if (!waiting) await new Promise((r) => setTimeout(r, 20));
    }
    expect(waiting).toMatchObject({
      state: 'pending',
      attempts: 1,
      lastError: 'Cloud ALM answered 503: Service busy',
    });
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    expect(await writeBacks()).toEqual([
      expect.objectContaining({ state: 'written', attempts: 2, lastError: null }),
    ]);
    expect(calm.commentsOf(taskId)).toHaveLength(1);
  });

  it('a failure retrying cannot fix is visible on the story with Cloud ALM’s words, and nothing else is tried', async () => {
    await settings({ targets: { feature_line: false, feature_reference: false } });
    calm.failNext = RemoteCallError.fromStatus(
      'cloud_alm',
      400,
      'Cloud ALM answered 400: Comment text is too long',
    );
    await attach('S4DK900001');
    await waitForJobs(hub, WRITE_BACK_FLUSH);
    const rows = await writeBacks();
    expect(rows).toEqual([
      expect.objectContaining({
        target: 'story_comment',
        state: 'failed',
        attempts: 1,
        lastError: 'Cloud ALM answered 400: Comment text is too long',
      }),
    ]);
    expect(calm.comments).toEqual([]);
  });
});
