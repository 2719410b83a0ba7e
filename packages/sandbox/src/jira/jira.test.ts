import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

type Credentials = { siteUrl: string; issueUrl: string; email: string; apiToken: string; projectKey: string };
type JiraBody = { errorMessages: string[]; errors: Record<string, string> };

describe.each(testEngines)('Jira emulator (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let jira: Credentials;
  let basic: string;

  const call = (path: string, init: RequestInit & { json?: unknown; auth?: string } = {}) => {
    const { json: body, auth, ...rest } = init;
    const headers: Record<string, string> = { accept: 'application/json', authorization: auth ?? basic };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${jira.issueUrl}${path}`, {
      ...rest,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  };

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store });
    jira = await json<Credentials>(await h.admin('/jira/credentials'));
    basic = `Basic ${Buffer.from(`${jira.email}:${jira.apiToken}`).toString('base64')}`;
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('lists the site and writes jira.json', async () => {
    expect(h.sandbox.endpoints).toMatchObject({ 'Jira issue API': `${h.sandbox.url}/jira/rest/api/2/issue` });
    expect(jira).toMatchObject({ siteUrl: `${h.sandbox.url}/jira`, projectKey: 'CALM' });
    expect(jira.apiToken).toMatch(/^ATATT3x/);
  });

  it('creates, reads and edits issues', async () => {
    const created = await call('', {
      method: 'POST',
      json: {
        fields: {
          project: { key: 'CALM' },
          summary: 'Posting fails',
          description: 'Plain text in v2',
          issuetype: { name: 'Bug' },
          labels: ['calm'],
        },
      },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const issue = await json<{ id: string; key: string; self: string }>(created);
    expect(issue.key).toMatch(/^CALM-\d+$/);
    expect(issue.self).toBe(`${jira.issueUrl}/${issue.id}`);

    const second = await json<{ id: string; key: string }>(
      await call('', {
        method: 'POST',
        json: { fields: { project: { id: '10000' }, summary: 'Second', issuetype: { id: '10001' } } },
      }),
    );
    expect(Number(second.key.split('-')[1])).toBe(Number(issue.key.split('-')[1]) + 1);

    const read = await call(`/${issue.key}`);
    expect(read.status).toBe(200);
    expect(await json(read)).toMatchObject({
      id: issue.id,
      key: issue.key,
      self: issue.self,
      fields: {
        summary: 'Posting fails',
        description: 'Plain text in v2',
        labels: ['calm'],
        issuetype: { name: 'Bug', subtask: false },
        project: { key: 'CALM', id: '10000' },
        status: { name: 'To Do' },
        reporter: { emailAddress: jira.email },
      },
    });

    const edited = await call(`/${issue.id}`, {
      method: 'PUT',
      json: { fields: { summary: 'Posting fails in FI' }, update: { labels: [{ set: ['calm', 'fi'] }] } },
    });
    expect(edited.status).toBe(204);
    expect(await edited.text()).toBe('');
    const after = await json<{ fields: Record<string, unknown> }>(await call(`/${issue.id}`));
    expect(after.fields).toMatchObject({
      summary: 'Posting fails in FI',
      description: 'Plain text in v2',
      labels: ['calm', 'fi'],
      issuetype: { name: 'Bug' },
    });

    const moved = await h.admin(`/jira/issues/${issue.key}/transition`, {
      method: 'POST',
      json: { status: 'In Progress' },
    });
    expect(moved.status).toBe(200);
    expect(
      (await json<{ fields: { status: { name: string } } }>(await call(`/${issue.key}`))).fields.status.name,
    ).toBe('In Progress');
  });

  it('answers errors in Jira shape', async () => {
    const unauthenticated = await call('/CALM-1', { auth: 'Basic bm9ib2R5Ondyb25n' });
    expect(unauthenticated.status).toBe(401);
    expect(await json<JiraBody>(unauthenticated)).toEqual({
      errorMessages: ['You are not authenticated. Authentication required to perform this operation.'],
      errors: {},
    });
    const missing = await call('/CALM-9999');
    expect(missing.status).toBe(404);
    expect(await json<JiraBody>(missing)).toEqual({
      errorMessages: ['Issue does not exist or you do not have permission to see it.'],
      errors: {},
    });
    const invalid = await call('', {
      method: 'POST',
      json: { fields: { project: { key: 'NOPE' }, issuetype: { name: 'Sub-task' }, status: 'Done' } },
    });
    expect(invalid.status).toBe(400);
    expect(await json<JiraBody>(invalid)).toEqual({
      errorMessages: [],
      errors: {
        project: 'Specify a valid project ID or key',
        summary: 'You must specify a summary of the issue.',
        parent: 'Issue type is a sub-task but parent issue key or id not specified.',
        status: "Field 'status' cannot be set. It is not on the appropriate screen, or unknown.",
      },
    });
    const notJson = await fetch(jira.issueUrl, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect((await json<JiraBody>(notJson)).errorMessages).toHaveLength(1);
  });

  it('refuses what PostgreSQL cannot store (NUL, unpaired surrogates) and ids with NUL, never a 500', async () => {
    for (const body of [
      JSON.stringify({
        fields: { project: { key: 'CALM' }, summary: 'a\u0000b', issuetype: { name: 'Task' } },
      }),
      '{"fields":{"project":{"key":"CALM"},"summary":"\\udc00","issuetype":{"name":"Task"}}}',
    ]) {
      const response = await fetch(jira.issueUrl, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body,
      });
      expect(response.status, body).toBe(400);
      expect((await json<JiraBody>(response)).errorMessages[0]).toContain('fields.summary');
    }
    expect((await call('/CALM-1%00')).status).toBe(404);
    // An issue type is an own key of the catalogue, not `constructor`.
    const proto = await call('', {
      method: 'POST',
      json: { fields: { project: { key: 'CALM' }, summary: 's', issuetype: { name: 'constructor' } } },
    });
    expect(proto.status).toBe(400);
  });
});
