import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import type { Mapping } from './mappings.js';
import type { Situation } from './situations.js';
import { eventually } from './test-fixtures/receiver.js';

type Credentials = {
  instanceUrl: string;
  tokenUrl: string;
  user: { userName: string; password: string };
  oauth: { clientId: string; clientSecret: string };
};
type Incident = Record<string, string | { link: string; value: string }>;

/** The ticketing seed (`shared/reference/seed-calm-ticketing.md`) end to end, over HTTP only. */
describe.each(testEngines)('event situations to ServiceNow incidents (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let snow: Credentials;
  let basic: string;

  async function created<T = Record<string, unknown>>(response: Response): Promise<T> {
    expect(response.status, await response.clone().text()).toBe(201);
    return json<T>(response);
  }
  const table = (path: string) =>
    fetch(`${snow.instanceUrl}/api/now/table/${path}`, {
      headers: { authorization: basic, accept: 'application/json' },
    });
  const situation = async (id: string) => json<Situation>(await h.admin(`/situations/${id}`));

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store });
    snow = await json<Credentials>(await h.admin('/servicenow/credentials'));
    basic = `Basic ${Buffer.from(`${snow.user.userName}:${snow.user.password}`).toString('base64')}`;
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('opens, updates, closes and refreshes an incident from an event situation', async () => {
    // Step 1: destination (OAuth2 client credentials against the instance's oauth_token.do)
    const destination = await created(
      await h.admin('/eam/destinations', {
        method: 'POST',
        json: {
          Name: 'SNOW_INCIDENTS',
          Type: 'HTTP',
          Description: 'ServiceNow emulator',
          URL: snow.instanceUrl,
          ProxyType: 'Internet',
          Authentication: 'OAuth2ClientCredentials',
          clientId: snow.oauth.clientId,
          clientSecret: snow.oauth.clientSecret,
          tokenServiceURL: snow.tokenUrl,
          tokenServiceURLType: 'Dedicated',
        },
      }),
    );
    expect(destination).not.toHaveProperty('clientSecret');
    // Step 2: webhook
    const webhook = await created(
      await h.admin('/eam/webhooks', {
        method: 'POST',
        json: {
          name: 'ServiceNow incidents',
          destinationName: 'SNOW_INCIDENTS',
          path: '/api/now/table/incident',
          destinationType: 'SNOW',
          externalResourceType: 'Incident',
        },
      }),
    );
    // Step 3: the standard mapping, copied as customers do
    const mappings = await json<Mapping[]>(await h.admin('/eam/mappings'));
    const builtIn = mappings.find((m) => m.builtIn && m.name === 'Event Situation to ServiceNow Incident');
    expect(builtIn).toBeDefined();
    const mapping = await created<Mapping>(
      await h.admin(`/eam/mappings/${builtIn?.id}/copy`, { method: 'POST', json: { name: 'Our incidents' } }),
    );
    expect(mapping).toMatchObject({ builtIn: false, version: 1, copiedFrom: builtIn?.id });
    // Step 4: subscription
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: {
          name: 'Events to ServiceNow',
          description: 'Create ServiceNow tickets',
          type: 'Built-in',
          resourceType: 'EVENT-SITUATION',
          webhookId: webhook.id,
          mappingId: mapping.id,
          userVariables: [
            { name: 'snowBaseUrl', value: snow.instanceUrl },
            { name: 'callerId', value: 'calm.caller' },
          ],
        },
      }),
    );
    expect(subscription).toMatchObject({ type: 'BUILT_IN', active: true });
    // Step 5: event action "Create ServiceNow Ticket" on the event
    await created(
      await h.admin('/situations/event-actions', {
        method: 'POST',
        json: {
          eventName: 'Ping failed',
          eventType: 'CALM.HM',
          action: 'CREATE_TICKET',
          subscriptionId: subscription.id,
        },
      }),
    );

    const opened = await created<Situation>(
      await h.admin('/situations', {
        method: 'POST',
        json: {
          subject: 'Ping failed to service S4H',
          body: 'System involved: S4H',
          rating: 'ERROR',
          eventName: 'Ping failed',
          eventType: 'CALM.HM',
          serviceId: '190c1314-efd9-44ce-8d2f-2f7dc24ddf04',
          tags: { type: 'httpPing', status: 'DOWN' },
        },
      }),
    );
    expect(opened.subscriptionIds).toEqual([subscription.id]);

    const withTicket = await eventually(
      async () => {
        const current = await situation(opened.id);
        return current.externalNumber ? current : undefined;
      },
      15_000,
      'the incident number on the situation',
    );
    expect(withTicket.externalNumber).toMatch(/^INC\d{7}$/);
    expect(withTicket.externalId).toMatch(/^[0-9a-f]{32}$/);
    expect(withTicket.externalStatus).toBe('NEW');
    expect(withTicket.displayUrl).toBe(
      `${snow.instanceUrl}/nav_to.do?uri=incident.do?sys_id=${withTicket.externalId}`,
    );
    const sysId = withTicket.externalId as string;

    const incident = (await json<{ result: Incident }>(await table(`incident/${sysId}`))).result;
    expect(incident).toMatchObject({
      number: withTicket.externalNumber,
      short_description: '[SAP Cloud ALM] Ping failed to service S4H',
      description: 'System involved: S4H',
      urgency: '1',
      impact: '2',
      priority: '2',
      state: '1',
      correlation_id: opened.id,
      correlation_display: 'SAP Cloud ALM',
      contact_type: 'monitoring',
      sys_created_by: 'calm.integration',
    });
    expect(incident.caller_id).toEqual({
      link: `${snow.instanceUrl}/api/now/table/sys_user/calm.caller`,
      value: 'calm.caller',
    });

    // An agent picks it up in ServiceNow; a ping brings status and assignee back.
    const started = await h.admin(`/servicenow/tables/incident/${sysId}/actions/start`, {
      method: 'POST',
      json: { assignedTo: 'abel.tuter' },
    });
    expect(started.status).toBe(200);
    expect((await h.admin(`/situations/${opened.id}/ping`, { method: 'POST' })).status).toBe(202);
    await eventually(
      async () => {
        const current = await situation(opened.id);
        return current.externalStatus === 'IN_PROGRESS' && current.assignedTo === 'abel.tuter';
      },
      15_000,
      'IN_PROGRESS after the ping',
    );

    // Update: a work note on the same incident.
    const updated = await h.admin(`/situations/${opened.id}`, {
      method: 'PATCH',
      json: { newOccurrence: true, workNotes: 'Second failed ping' },
    });
    expect(updated.status).toBe(200);
    const notes = await eventually(
      async () => {
        const response = await table(
          `sys_journal_field?sysparm_query=element_id=${sysId}^element=work_notes^ORDERBYsys_created_on`,
        );
        const result = (await json<{ result: Record<string, string>[] }>(response)).result;
        return result.length === 2 ? result : undefined;
      },
      15_000,
      'the second work note',
    );
    expect(notes[1]?.value).toMatch(/^Update from SAP Cloud ALM \(.+\): Second failed ping$/);
    const sameIncident = await table(`incident?sysparm_query=correlation_id=${opened.id}`);
    expect(sameIncident.headers.get('x-total-count')).toBe('1');

    // Close: the incident is resolved.
    expect((await h.admin(`/situations/${opened.id}/close`, { method: 'POST', json: {} })).status).toBe(200);
    await eventually(
      async () => {
        const current = (await json<{ result: Incident }>(await table(`incident/${sysId}`))).result;
        return current.state === '6' && current.close_code === 'Solved (Permanently)';
      },
      15_000,
      'the resolved incident',
    );
    await eventually(
      async () => (await situation(opened.id)).externalStatus === 'RESOLVED',
      15_000,
      'RESOLVED on the situation',
    );

    // The periodic ping follows the ticket until it is terminal.
    expect(
      (await h.admin(`/servicenow/tables/incident/${sysId}/actions/close`, { method: 'POST' })).status,
    ).toBe(200);
    expect(
      (await h.admin('/eam/settings', { method: 'PATCH', json: { pingIntervalSeconds: 1 } })).status,
    ).toBe(200);
    const closed = await eventually(
      async () => {
        const current = await situation(opened.id);
        return current.externalStatus === 'CLOSED' ? current : undefined;
      },
      15_000,
      'CLOSED through the periodic ping',
    );
    expect(closed).toMatchObject({
      status: 'CLOSED',
      externalNumber: withTicket.externalNumber,
      externalId: sysId,
    });

    // One token served every call (cached until shortly before expiry).
    expect((await json<{ tokensIssued: number }>(await h.admin('/servicenow/stats'))).tokensIssued).toBe(1);
  });

  it('replicates defects of an opted-in project with the built-in task mapping', async () => {
    const project = await json<{ id: string }>(
      await h.call('/calm-projects/v1/projects', { method: 'POST', json: { name: 'Ticketed project' } }),
    );
    const webhook = await created(
      await h.admin('/eam/webhooks', {
        method: 'POST',
        json: {
          name: 'ServiceNow defects',
          destinationName: 'SNOW_INCIDENTS',
          path: '/api/now/table/incident',
        },
      }),
    );
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: {
          name: 'Defects to ServiceNow',
          resourceType: 'TASK',
          webhookId: webhook.id,
          mappingId: 'builtin-task-to-servicenow-incident',
        },
      }),
    );
    await created(
      await h.admin(`/projects/${project.id}/subscriptions`, {
        method: 'POST',
        json: { itemType: 'DEFECT', subscriptionId: subscription.id },
      }),
    );
    const task = async (type: string, title: string) => {
      const response = await h.call('/calm-tasks/v1/tasks', {
        method: 'POST',
        json: { projectId: project.id, title, type },
      });
      expect(response.status, await response.clone().text()).toBe(201);
      return json<{ id: string }>(response);
    };
    await task('CALMTASK', 'Not a defect');
    const defect = await task('CALMDEF', 'Posting fails');
    const incident = await eventually(
      async () => {
        const response = await table(`incident?sysparm_query=correlation_id=${defect.id}`);
        return (await json<{ result: Incident[] }>(response)).result[0];
      },
      15_000,
      'the defect incident',
    );
    expect(incident).toMatchObject({
      short_description: '[SAP Cloud ALM] Posting fails',
      correlation_display: 'SAP Cloud ALM Task',
    });
    const patched = await h.call(`/calm-tasks/v1/tasks/${defect.id}`, {
      method: 'PATCH',
      json: { title: 'Posting fails in FI' },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    await eventually(
      async () => {
        const current = (await json<{ result: Incident }>(await table(`incident/${incident.sys_id}`))).result;
        return current.short_description === '[SAP Cloud ALM] Posting fails in FI';
      },
      15_000,
      'the updated incident',
    );
    const all = await json<{ eventType: string; resourceId: string }[]>(
      await h.admin(`/eam/console/deliveries?subscriptionId=${subscription.id}`),
    );
    expect(all.map((d) => d.resourceId)).toEqual([defect.id, defect.id]);
  });
});
