// biome-ignore-all lint/suspicious/noThenProperty: "then" is the mapping format's own key for switch cases.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${SWITCH(...)} is mapping syntax, not a template literal.
import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import type { ConsoleAttempt } from '../eam/console.js';
import type { Mapping } from '../eam/mappings.js';
import { eventually } from '../eam/test-fixtures/receiver.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

type Credentials = { siteUrl: string; issueUrl: string; email: string; apiToken: string; projectKey: string };
type Issue = { id: string; key: string; self: string; fields: Record<string, unknown> };

/** Reference §5.6 (e), "SAP Cloud ALM Task to Jira Issue", as a customer would paste it. */
const TASK_TO_JIRA = {
  _information: {
    _version: '1',
    _source: 'SAP Cloud ALM Task',
    _destination: 'Jira Issue API',
    _name: 'SAP Cloud ALM Task to Jira Issue',
    _comment: 'reconstructed',
  },
  switches: [
    {
      name: 'switchType',
      cases: [
        { when: 'CALMDEF', then: 'Bug' },
        { when: 'CALMUS', then: 'Story' },
        { when: 'CALMST', then: 'Sub-task' },
      ],
      default: 'Task',
    },
  ],
  structure: {
    request: {
      fields: {
        project: { key: '#{@USER_VAR(jiraProjectKey)}' },
        summary: '#{title}',
        description:
          '#{description}\n\nSAP Cloud ALM: #{@CLOUD_ALM_URL}/launchpad#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/#{id}',
        issuetype: { name: '${SWITCH(switchType,type)}' },
      },
    },
    response: { externalId: '#{id}', externalNumber: '#{key}', displayUrl: '#{self}' },
  },
  eventTypeMapping: {
    operationMappings: [
      { eventType: 'TASK.CREATED', operation: 'POST', responseRoot: '', externalIdProperty: '/id' },
      {
        eventType: 'TASK.UPDATED',
        operation: 'PUT',
        path: '/#{@CLOUD_ALM_EXTERNAL_ID}',
        responseRoot: '',
        structure: {
          request: { fields: { summary: '#{title}', description: '#{description}' } },
          response: {},
        },
      },
    ],
  },
};

/** Tasks of an opted-in project become Jira issues, over HTTP only (reference §10 items 2 and 6). */
describe.each(testEngines)('tasks to the Jira emulator (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let jira: Credentials;
  let basic: string;

  async function created<T = Record<string, unknown>>(response: Response): Promise<T> {
    expect(response.status, await response.clone().text()).toBe(201);
    return json<T>(response);
  }
  const issue = async (idOrKey: string) =>
    json<Issue>(await fetch(`${jira.issueUrl}/${idOrKey}`, { headers: { authorization: basic } }));

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

  it('creates an issue for a new defect and edits it when the defect changes', async () => {
    await created(
      await h.admin('/eam/destinations', {
        method: 'POST',
        json: {
          Name: 'JIRA_SITE',
          Type: 'HTTP',
          URL: jira.siteUrl,
          ProxyType: 'Internet',
          Authentication: 'BasicAuthentication',
          User: jira.email,
          Password: jira.apiToken,
        },
      }),
    );
    const webhook = await created(
      await h.admin('/eam/webhooks', {
        method: 'POST',
        json: {
          name: 'Jira issues',
          destinationName: 'JIRA_SITE',
          path: '/rest/api/2/issue',
          destinationType: 'Jira',
          externalResourceType: 'Task',
        },
      }),
    );
    const mapping = await created<Mapping>(
      await h.admin('/eam/mappings', {
        method: 'POST',
        json: { name: 'Task to Jira', content: TASK_TO_JIRA },
      }),
    );
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: {
          name: 'Tasks to Jira',
          type: 'External',
          resourceType: 'TASK',
          webhookId: webhook.id,
          mappingId: mapping.id,
          userVariables: [{ name: 'jiraProjectKey', value: jira.projectKey }],
        },
      }),
    );
    const project = await json<{ id: string }>(
      await h.call('/calm-projects/v1/projects', { method: 'POST', json: { name: 'Jira project' } }),
    );
    await created(
      await h.admin(`/projects/${project.id}/subscriptions`, {
        method: 'POST',
        json: { itemType: 'DEFECT', subscriptionId: subscription.id },
      }),
    );

    const defect = await created<{ id: string }>(
      await h.call('/calm-tasks/v1/tasks', {
        method: 'POST',
        json: { projectId: project.id, title: 'Posting fails', description: 'FB01 dumps', type: 'CALMDEF' },
      }),
    );
    const attempt = await eventually(
      async () => {
        const attempts = await json<ConsoleAttempt[]>(
          await h.admin(`/eam/console/attempts?subscriptionId=${subscription.id}&outcome=SUCCESS`),
        );
        return attempts.find((a) => a.eventType === 'TASK.CREATED');
      },
      15_000,
      'the TASK.CREATED delivery',
    );
    expect(attempt).toMatchObject({
      method: 'POST',
      url: jira.issueUrl,
      responseStatus: 201,
      resourceId: defect.id,
    });
    const externalId = attempt.externalId as string;
    expect(externalId).toMatch(/^\d+$/);

    const created201 = await issue(externalId);
    expect(created201.key).toMatch(/^CALM-\d+$/);
    expect(attempt.mapped).toMatchObject({
      externalId,
      externalNumber: created201.key,
      displayUrl: `${jira.issueUrl}/${externalId}`,
    });
    expect(created201.fields).toMatchObject({
      summary: 'Posting fails',
      issuetype: { name: 'Bug' },
      project: { key: 'CALM' },
    });
    expect(created201.fields.description).toBe(
      `FB01 dumps\n\nSAP Cloud ALM: ${h.sandbox.url}/launchpad#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/${defect.id}`,
    );

    const patched = await h.call(`/calm-tasks/v1/tasks/${defect.id}`, {
      method: 'PATCH',
      json: { title: 'Posting fails in FI' },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    const update = await eventually(
      async () => {
        const attempts = await json<ConsoleAttempt[]>(
          await h.admin(`/eam/console/attempts?subscriptionId=${subscription.id}&eventType=TASK.UPDATED`),
        );
        return attempts.find((a) => a.outcome === 'SUCCESS');
      },
      15_000,
      'the TASK.UPDATED delivery',
    );
    // PUT answers 204 without a body; the empty response mapping keeps the link's external id.
    expect(update).toMatchObject({
      method: 'PUT',
      url: `${jira.issueUrl}/${externalId}`,
      responseStatus: 204,
    });
    expect(update.externalId).toBe(externalId);
    const edited = await issue(created201.key);
    expect(edited.id).toBe(externalId);
    expect(edited.fields).toMatchObject({ summary: 'Posting fails in FI', description: 'FB01 dumps' });
  });
});
