import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID } from '../seed/seed.js';
import { type Harness, startHarness } from '../test-fixtures/harness.js';
import { sandboxMigrationSets } from './start-sandbox.js';

/** Requests a careless or hostile client might send; each must get a 4xx in its API's shape, never a 5xx. */
const NASTY: { path: string; method?: string; body?: string }[] = [
  { path: '/calm-features/v1/Features?$top=99999999999999999999' },
  { path: '/calm-features/v1/Features?$skiptoken=-1' },
  { path: '/calm-features/v1/Features?$filter=priorityCode%20eq%2099999999999999999999' },
  { path: '/calm-features/v1/Features?$filter=priorityCode%20eq%201.5' },
  { path: '/calm-features/v1/Features?$filter=title%20eq%20%27a%00b%27' },
  { path: '/calm-features/v1/Features?$filter=modifiedAt%20gt%202026-13-45T99:99:99Z' },
  { path: '/calm-features/v1/Features?$filter=((((' },
  { path: '/calm-features/v1/Features?$filter=statusCode%20in%20()' },
  { path: '/calm-features/v1/Features?$orderby=title%20sideways' },
  { path: '/calm-features/v1/Features?$top=1&$top=2' },
  { path: '/calm-features/v1/Features(' },
  { path: '/calm-features/v1/Features/not-a-key/extra/segments' },
  { path: '/calm-features/v1/ExternalReferences/A%25B/00000000-0000-4000-8000-000000000000' },
  {
    path: '/calm-features/v1/ExternalReferences(id=%27x%00%27,parentUuid=00000000-0000-4000-8000-000000000000)',
  },
  {
    path: '/calm-features/v1/Features',
    method: 'POST',
    body: '{"title":"a\\u0000b","projectId":"17a825f9-b4b5-4685-8396-59d5c80dc15c"}',
  },
  {
    path: '/calm-features/v1/Features',
    method: 'POST',
    body: '{"title":"\\ud800","projectId":"17a825f9-b4b5-4685-8396-59d5c80dc15c"}',
  },
  {
    path: '/calm-features/v1/Features',
    method: 'POST',
    body: '{"title":"t","projectId":"17a825f9-b4b5-4685-8396-59d5c80dc15c","tags":["a\\u0000"]}',
  },
  { path: '/calm-features/v1/Features', method: 'POST', body: 'null' },
  { path: '/calm-features/v1/Features', method: 'POST', body: '"just a string"' },
  { path: '/calm-features/v1/Features', method: 'PUT', body: '{}' },
  { path: '/calm-tasks/v1/tasks?projectId=17a825f9-b4b5-4685-8396-59d5c80dc15c&limit=99999999999999' },
  { path: '/calm-tasks/v1/tasks?projectId=17a825f9-b4b5-4685-8396-59d5c80dc15c&offset=1e3' },
  { path: '/calm-tasks/v1/tasks?projectId=17a825f9-b4b5-4685-8396-59d5c80dc15c&lastChangedTimestamp=gt:' },
  { path: '/calm-tasks/v1/tasks?projectId=17a825f9-b4b5-4685-8396-59d5c80dc15c&type=%00' },
  { path: '/calm-tasks/v1/tasks/%00' },
  {
    path: '/calm-tasks/v1/tasks',
    method: 'POST',
    body: '{"projectId":"17a825f9-b4b5-4685-8396-59d5c80dc15c","title":"x","storyPoints":"five"}',
  },
  {
    path: '/calm-tasks/v1/tasks',
    method: 'POST',
    body: '{"projectId":"17a825f9-b4b5-4685-8396-59d5c80dc15c","title":"x","priorityId":1e400}',
  },
  {
    path: '/calm-tasks/v1/tasks',
    method: 'POST',
    body: '{"projectId":"17a825f9-b4b5-4685-8396-59d5c80dc15c","title":"x","timeboxId":"00000000-0000-4000-8000-000000000000"}',
  },
  { path: '/calm-tasks/v1/tasks', method: 'POST', body: '[1,2]' },
  { path: '/calm-tasks/v1/tasks', method: 'POST', body: '{' },
  { path: '/calm-projects/v1/projects', method: 'POST', body: '{"name":"x\\u0000"}' },
  {
    path: '/calm-projects/v1/projects/17a825f9-b4b5-4685-8396-59d5c80dc15c/timeboxes',
    method: 'POST',
    body: '{"type":1.5,"name":"x"}',
  },
];

describe.each(testEngines)('bad input on %s', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store, seed: 'demo' });
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it.each(NASTY)('$method $path -> 4xx', async ({ path, method, body }) => {
    const response = await h.call(path, {
      method: method ?? 'GET',
      ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
    });
    expect(response.status, await response.clone().text()).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const parsed = (await response.json()) as Record<string, unknown>;
    if (path.startsWith('/calm-features/')) expect(parsed).toHaveProperty('error.message');
    else expect(typeof parsed.message).toBe('string');
  });

  it('still serves the demo project afterwards', async () => {
    expect((await h.call(`/calm-projects/v1/projects/${DEMO_PROJECT_ID}`)).status).toBe(200);
  });
});
