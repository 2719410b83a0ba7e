// biome-ignore-all lint/suspicious/noThenProperty: "then" is the mapping format's own key for switch cases.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${SWITCH(...)} is mapping syntax, not a template literal.
import { createTestStore, type TestStore, testEngines } from '@calmhub/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxMigrationSets } from '../app/start-sandbox.js';
import type { Mapping } from '../eam/mappings.js';
import type { Situation } from '../eam/situations.js';
import { eventually } from '../eam/test-fixtures/receiver.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

type Credentials = {
  workflowInstancesUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
};

/** Reference §5.6 (b), "IEP to SAP Build" from SAP's tutorial, verbatim apart from JSON quoting. */
const IEP_TO_SAP_BUILD = {
  _information: {
    _version: '1',
    _source: 'IEP',
    _destination: 'SAP Build',
    _name: 'IEP to SAP Build',
    _comment: 'SAP Build',
  },
  switches: [
    {
      name: 'switchPriority',
      cases: [
        { when: 'FATAL', then: 'Highest' },
        { when: 'ERROR', then: 'High' },
        { when: 'WARNING', then: 'Low' },
        { when: 'INFO', then: 'Lowest' },
      ],
      default: 'Lowest',
    },
  ],
  structure: {
    request: {
      definitionId: 'eu10.calm-demo.workflow',
      context: {
        summary: '[Cloud ALM for Operations] #{subject}',
        text: '#{rating} - #{eventName}: ',
        type: '#{eventType}',
        subType: '#{eventSubType}',
        priority: '${SWITCH(switchPriority,rating)}',
        worknotes: '#{workNotes}',
        serviceid: 'serviceId: #{serviceId}',
      },
    },
    response: {
      externalStatus: '#{status}',
      displayUrl: '#{rootInstanceId}',
      externalNumber: '#{key}',
      externalId: '#{id}',
    },
  },
  eventTypeMapping: {
    _comment: 'Specificeventtypemapping',
    operationMappings: [
      { eventType: 'EVENT-SITUATION.CREATED', operation: 'POST', responseRoot: '' },
      { eventType: 'EVENT-SITUATION.UPDATED', operation: 'PATCH', path: '/#{externalId}', responseRoot: '' },
      { eventType: 'EVENT-SITUATION.CLOSED', operation: 'POST', path: '/#{externalId}', responseRoot: '' },
      {
        eventType: 'EVENT-SITUATION.PING',
        operation: 'GET',
        responseRoot: '',
        path: '/#{externalId}',
        structure: {
          response: {
            displayUrl: '#{self}',
            externalNumber: '#{key}',
            externalId: '#{id}',
            externalStatus: '#{status}',
            lastUpdatedAt: '#{completedAt}',
            createdAt: '#{startedAt}',
            lastUpdatedBy: '',
            createdBy: '#{startedBy}',
            assignedTo: '#{startedBy}',
          },
        },
      },
    ],
  },
};

/** An event situation starts an SAP Build workflow (reference §5.6 (b), §10 items 2 and 6), over HTTP only. */
describe.each(testEngines)('event situations to the SAP Build emulator (%s)', (engine) => {
  let testStore: TestStore;
  let h: Harness;
  let build: Credentials;

  async function created<T = Record<string, unknown>>(response: Response): Promise<T> {
    expect(response.status, await response.clone().text()).toBe(201);
    return json<T>(response);
  }
  const situation = async (id: string) => json<Situation>(await h.admin(`/situations/${id}`));

  beforeAll(async () => {
    testStore = await createTestStore(engine, sandboxMigrationSets);
    h = await startHarness({ store: testStore.store });
    build = await json<Credentials>(await h.admin('/sap-build/credentials'));
  });
  afterAll(async () => {
    await h?.stop();
    await testStore?.cleanup();
  });

  it('starts a workflow instance and follows it to COMPLETED by pings', async () => {
    // As in SAP's tutorial: the destination URL is the workflow-instances endpoint itself.
    await created(
      await h.admin('/eam/destinations', {
        method: 'POST',
        json: {
          Name: 'SAP_BUILD_WORKFLOW',
          Type: 'HTTP',
          URL: build.workflowInstancesUrl,
          ProxyType: 'Internet',
          Authentication: 'OAuth2ClientCredentials',
          clientId: build.clientId,
          clientSecret: build.clientSecret,
          tokenServiceURL: build.tokenUrl,
          tokenServiceURLType: 'Dedicated',
        },
      }),
    );
    const webhook = await created(
      await h.admin('/eam/webhooks', {
        method: 'POST',
        json: {
          name: 'SAP Build workflows',
          destinationName: 'SAP_BUILD_WORKFLOW',
          destinationType: 'SAP Build Process Automation',
          externalResourceType: 'Workflow',
        },
      }),
    );
    const mapping = await created<Mapping>(
      await h.admin('/eam/mappings', {
        method: 'POST',
        json: { name: 'IEP to SAP Build', content: IEP_TO_SAP_BUILD },
      }),
    );
    const subscription = await created(
      await h.admin('/eam/subscriptions', {
        method: 'POST',
        json: {
          name: 'Events to SAP Build',
          type: 'External',
          resourceType: 'EVENT-SITUATION',
          webhookId: webhook.id,
          mappingId: mapping.id,
        },
      }),
    );

    const opened = await created<Situation>(
      await h.admin('/situations', {
        method: 'POST',
        json: {
          subject: 'High Number of Short Dumps',
          body: 'System involved: S4H',
          rating: 'FATAL',
          eventName: 'High Number of Short Dumps',
          eventType: 'CALM.HM',
          serviceId: '190c1314-efd9-44ce-8d2f-2f7dc24ddf04',
          workNotes: 'Dumps in FI',
          subscriptionIds: [subscription.id],
        },
      }),
    );
    const started = await eventually(
      async () => {
        const current = await situation(opened.id);
        return current.externalId ? current : undefined;
      },
      15_000,
      'the workflow instance id on the situation',
    );
    expect(started.externalStatus).toBe('RUNNING');
    expect(started.displayUrl).toBe(started.externalId);
    const instanceId = started.externalId as string;

    const instances = await json<Array<Record<string, unknown>>>(await h.admin('/sap-build/instances'));
    expect(instances).toHaveLength(1);
    expect(instances[0]).toMatchObject({
      id: instanceId,
      definitionId: 'eu10.calm-demo.workflow',
      status: 'RUNNING',
      startedBy: build.clientId,
      context: {
        summary: '[Cloud ALM for Operations] High Number of Short Dumps',
        text: 'FATAL - High Number of Short Dumps: ',
        type: 'CALM.HM',
        subType: '',
        priority: 'Highest',
        worknotes: 'Dumps in FI',
        serviceid: 'serviceId: 190c1314-efd9-44ce-8d2f-2f7dc24ddf04',
      },
    });

    // The approvers finish the workflow in SAP Build; Cloud ALM learns it by a ping.
    const completed = await h.admin(`/sap-build/instances/${instanceId}/complete`, {
      method: 'POST',
      json: { outputs: { decision: 'approve' } },
    });
    expect(completed.status).toBe(200);
    const completedAt = (await json<{ completedAt: string }>(completed)).completedAt;
    expect((await h.admin(`/situations/${opened.id}/ping`, { method: 'POST' })).status).toBe(202);
    const pinged = await eventually(
      async () => {
        const current = await situation(opened.id);
        return current.externalStatus === 'COMPLETED' ? current : undefined;
      },
      15_000,
      'COMPLETED after the ping',
    );
    expect(pinged).toMatchObject({ externalId: instanceId, assignedTo: build.clientId });
    // The rest of the ping's response mapping lands on the link, shown per ticket.
    expect(pinged.tickets).toEqual([
      expect.objectContaining({
        subscriptionId: subscription.id,
        externalId: instanceId,
        externalStatus: 'COMPLETED',
        createdBy: build.clientId,
        lastUpdatedAt: completedAt,
      }),
    ]);
    // One token served both calls (cached by the push engine).
    expect((await json<{ tokensIssued: number }>(await h.admin('/sap-build/stats'))).tokensIssued).toBe(1);
  });
});
