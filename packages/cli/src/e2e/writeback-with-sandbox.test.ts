import { startTestHub, type TestHub, waitForJobs } from '@calmhub/hub/testing';
import { testEngines } from '@calmhub/platform/testing';
import { type Sandbox, startSandbox } from '@calmhub/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxAdmin as admin, calmApi, FINANCE } from './helpers.js';

const PUBLIC_URL = 'https://calmhub.example.com';
const FLUSH = 'hub.writeback.flush';

/** Links a hub project to the sandbox's Finance project and brings its stories over (a full sync). */
async function linkAndSync(hub: TestHub, sandbox: Sandbox): Promise<string> {
  const token = hub.adminToken;
  const project = await hub.call('POST', '/api/v1/projects', { token, body: { name: 'Finance' } });
  const credential = await hub.call('POST', '/api/v1/credentials', {
    token,
    body: { name: 'Cloud ALM', serviceKey: sandbox.serviceKey },
  });
  const integration = await hub.call('POST', `/api/v1/projects/${project.body.id}/integrations`, {
    token,
    body: { name: 'Cloud ALM', credentialId: credential.body.id, calmProjectId: FINANCE },
  });
  expect(integration.status, integration.text).toBe(201);
  const started = await hub.call('POST', `/api/v1/integrations/${integration.body.id}/sync`, { token });
  for (let i = 0; i < 1200; i++) {
    const run = await hub.call('GET', `/api/v1/sync-runs/${started.body.id}`, { token });
    if (run.body.state === 'succeeded') return integration.body.id;
    if (run.body.state === 'failed') throw new Error(`sync failed: ${run.body.error}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('sync did not finish');
}

interface Comment {
  id: string;
  text: string;
}

describe.each(testEngines)('write-back to the sandbox Cloud ALM, over HTTP (%s)', (engine) => {
  let sandbox: Sandbox;
  let hub: TestHub;
  let calm: Awaited<ReturnType<typeof calmApi>>;
  /** Synced stories that have a feature, distinct per test so counts stay exact. */
  let stories: Array<{ id: string; calm_id: string; feature_calm_uuid: string }>;

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, memory: true, seed: 'demo', logLevel: 'silent' });
    calm = await calmApi(sandbox);
    hub = await startTestHub({ engine, config: { publicUrl: PUBLIC_URL } });
    const integrationId = await linkAndSync(hub, sandbox);
    stories = (await hub.hub.deps.db
      .selectFrom('hub_calm_stories')
      .select(['id', 'calm_id', 'feature_calm_uuid'])
      .where('integration_id', '=', integrationId)
      .where('feature_calm_uuid', 'is not', null)
      .where('obsolete', '=', 0)
      .orderBy('display_id')
      .execute()) as typeof stories;
    // Two stories on two different features.
    const [first] = stories;
    const second = stories.find((s) => s.feature_calm_uuid !== first?.feature_calm_uuid);
    expect(first && second, 'the demo seed needs stories on two features').toBeTruthy();
    stories = [first, second] as typeof stories;
  }, 120_000);
  afterAll(async () => {
    await hub?.stop();
    await sandbox?.stop();
  });

  const attach = async (storyId: string, number: string) => {
    const response = await hub.call('POST', `/api/v1/stories/${storyId}/components`, {
      token: hub.adminToken,
      body: { abapTransport: { number } },
    });
    expect(response.status, response.text).toBe(201);
  };
  const commentsOf = (taskId: string) => calm<Comment[]>('GET', `/calm-tasks/v1/tasks/${taskId}/comments`);
  const writeBacksOf = async (storyId: string) =>
    (await hub.call('GET', `/api/v1/stories/${storyId}/writebacks`, { token: hub.adminToken })).body
      .items as Array<{
      target: string;
      marker: string;
      state: string;
      attempts: number;
    }>;

  it('an attach becomes exactly one comment on the task, a line under the feature with its HTML kept, and one reference', async () => {
    const story = stories[0] as (typeof stories)[number];
    const existing = '<p>Close the posting periods <b>per company code</b></p>';
    await calm('PATCH', `/calm-features/v1/Features/${story.feature_calm_uuid}`, { description: existing });
    const before = await commentsOf(story.calm_id);

    await attach(story.id, 'S4DK900301');
    await waitForJobs(hub, FLUSH);

    const rows = await writeBacksOf(story.id);
    expect(rows.map((r) => [r.target, r.state]).sort()).toEqual([
      ['feature_line', 'written'],
      ['feature_reference', 'written'],
      ['story_comment', 'written'],
    ]);
    const comment = rows.find((r) => r.target === 'story_comment');
    const after = await commentsOf(story.calm_id);
    expect(after.slice(before.length).map((c) => c.text)).toEqual([
      `calmhub: transport S4DK900301 attached by admin@localhost ${comment?.marker}`,
    ]);
    const feature = await calm('GET', `/calm-features/v1/Features/${story.feature_calm_uuid}`);
    const line = rows.find((r) => r.target === 'feature_line');
    expect(feature.description.startsWith(existing)).toBe(true);
    expect(feature.description.slice(existing.length)).toMatch(
      new RegExp(
        `^<p>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC — calmhub: transport S4DK900301 attached by admin@localhost \\[calmhub:${line?.marker.slice(9, -1)}\\]</p>$`,
      ),
    );
    const references = async () =>
      (
        await calm(
          'GET',
          `/calm-features/v1/ExternalReferences?$filter=${encodeURIComponent(`parentUuid eq ${story.feature_calm_uuid}`)}`,
        )
      ).value as Array<{ id: string; url: string }>;
    expect((await references()).filter((r) => r.url.startsWith(PUBLIC_URL))).toEqual([
      expect.objectContaining({ id: story.id, url: `${PUBLIC_URL}/stories/${story.id}` }),
    ]);

    // A second action on the story: another comment and line, still one reference.
    await attach(story.id, 'S4DK900302');
    await waitForJobs(hub, FLUSH);
    expect(await commentsOf(story.calm_id)).toHaveLength(before.length + 2);
    expect((await references()).filter((r) => r.url.startsWith(PUBLIC_URL))).toHaveLength(1);
  }, 60_000);

  it('with the answer to POST …/comments lost once, the comment still appears exactly once', async () => {
    const story = stories[1] as (typeof stories)[number];
    const before = await commentsOf(story.calm_id);
    await admin(sandbox, 'DELETE', '/request-log');
    await admin(sandbox, 'PUT', '/faults', [
      { path: '/api/calm-tasks/v1/tasks/*/comments', methods: ['POST'], kind: 'lost-response', limit: 1 },
    ]);
    try {
      await attach(story.id, 'S4DK900401');
      await waitForJobs(hub, FLUSH);
      const { rules } = await admin<{ rules: Array<{ fired: number }> }>(sandbox, 'GET', '/faults');
      expect(rules[0]?.fired).toBe(1);
    } finally {
      await admin(sandbox, 'PUT', '/faults', []);
    }
    const comment = (await writeBacksOf(story.id)).find((r) => r.target === 'story_comment');
    expect(comment).toMatchObject({ state: 'written', attempts: 1 });
    const added = (await commentsOf(story.calm_id)).slice(before.length);
    expect(added.map((c) => c.text)).toEqual([
      `calmhub: transport S4DK900401 attached by admin@localhost ${comment?.marker}`,
    ]);
    // The retry read the comments, found its marker and posted nothing more.
    const log = await admin(sandbox, 'GET', '/request-log');
    const posts = Object.entries(log.routes as Record<string, { total: number }>)
      .filter(([route]) => route.startsWith('POST ') && route.endsWith('/comments'))
      .reduce((n, [, counts]) => n + counts.total, 0);
    expect(posts).toBe(1);
  }, 60_000);
});
