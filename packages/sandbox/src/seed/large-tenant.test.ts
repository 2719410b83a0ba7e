import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrations } from '../store/migrations.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

const FEATURES = 5000;
const STORIES = 25000;

describe.each(testEngines)('a large tenant (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let projectId: string;

  beforeAll(async () => {
    testStore = await createTestStore(engine, [sandboxMigrations]);
    h = await startHarness({ store: testStore.store, seedFeatures: FEATURES, seedStories: STORIES });
    const seeded = h.sandbox.seeded.large;
    expect(seeded?.features).toBe(FEATURES);
    expect(seeded?.tasks).toBe(STORIES);
    projectId = seeded?.projectId as string;
    // Seeding time is reported, not asserted: timing assertions make suites flaky.
    process.stdout.write(
      `[sandbox] seeded ${FEATURES} features / ${STORIES} stories on ${engine} in ${Math.round(seeded?.millis ?? 0)} ms\n`,
    );
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('pages through every feature exactly once by following @nextLink', async () => {
    const seen = new Set<string>();
    let pages = 0;
    let url: string | undefined =
      `${h.api}/calm-features/v1/Features?${new URLSearchParams({ $filter: `projectId eq ${projectId}`, $select: 'uuid,displayId', $count: 'true' })}`;
    while (url) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${h.token}` } });
      expect(response.status).toBe(200);
      const body = await json<{ '@count': number; '@nextLink'?: string; value: { uuid: string }[] }>(
        response,
      );
      expect(body['@count']).toBe(FEATURES);
      for (const feature of body.value) {
        expect(seen.has(feature.uuid)).toBe(false);
        seen.add(feature.uuid);
      }
      pages++;
      url = body['@nextLink'] ? new URL(body['@nextLink'], url).toString() : undefined;
    }
    expect(seen.size).toBe(FEATURES);
    expect(pages).toBe(FEATURES / 1000);
  });

  it('pages through every feature exactly once with client-driven $top/$skip', async () => {
    const seen = new Set<string>();
    for (let skip = 0; ; skip += 500) {
      const body = await json<{ value: { uuid: string }[] }>(
        await h.call(
          `/calm-features/v1/Features?projectId=${projectId}&$select=uuid&$orderby=modifiedAt&$top=500&$skip=${skip}`,
        ),
      );
      for (const feature of body.value) seen.add(feature.uuid);
      if (body.value.length < 500) break;
    }
    expect(seen.size).toBe(FEATURES);
  });

  it('pages through every user story exactly once with offset/limit=500', async () => {
    const seen = new Set<string>();
    let requests = 0;
    for (let offset = 0; ; offset += 500) {
      const response = await h.call(`/calm-tasks/v1/tasks?projectId=${projectId}&offset=${offset}&limit=500`);
      expect(response.status).toBe(200);
      const page = await json<{ id: string; type: string }[]>(response);
      requests++;
      for (const task of page) {
        expect(task.type).toBe('CALMUS');
        expect(seen.has(task.id)).toBe(false);
        seen.add(task.id);
      }
      if (page.length < 500) break;
    }
    expect(seen.size).toBe(STORIES);
    expect(requests).toBe(STORIES / 500 + 1);
  });

  it('links every story to a feature', async () => {
    const counted = await json<{ '@count': number }>(
      await h.call(
        `/calm-features/v1/TaskAssignments?$filter=${encodeURIComponent(`projectId eq ${projectId}`)}&$top=0&$count=true`,
      ),
    );
    expect(counted['@count']).toBe(STORIES);
  });
});
