import { describe, expect, it } from 'vitest';
import { loadExampleMapping } from '../test-fixtures/examples.js';
import { buildOperation, mapResponse } from './evaluate.js';
import type { ChangeMessage } from './types.js';

// Golden tests for the example mappings of reference §5.3 and §5.6. Every expected value below was derived by
// hand from the mapping text and the evaluation rules, not captured from the engine.

const CALM = 'https://acme.eu10.alm.cloud.sap';

function message(eventType: string, resource: unknown): ChangeMessage {
  return {
    subscriptionId: 'sub-1',
    resourceType: eventType.split('.')[0]!,
    eventType,
    resourceId: 'res-1',
    resource,
  };
}

describe('(a) feature workflow → SAP Build Process Automation', () => {
  const mapping = loadExampleMapping('feature-to-sap-build.mapping.json');
  const feature = {
    item: {
      id: 'f0e1d2c3',
      statusName: 'In Testing',
      targetStatusName: 'Tested',
      priorityName: 'High',
      projectName: 'S/4 Rollout',
      title: 'Invoice approval',
      universalId: '6-123',
      responsibleId: 'jane.doe@example.com',
    },
    triggeredBy: 'john.smith@example.com',
  };
  const environment = {
    userVariables: { workflowDefinitionId: 'eu10.calm.featureapproval' },
    cloudAlmUrl: `${CALM}/`,
  };

  it('WORKFLOW.STARTED posts the workflow start with a deep link and a typed reviewer array', () => {
    expect(buildOperation(mapping, message('WORKFLOW.STARTED', feature), environment)).toEqual({
      kind: 'call',
      eventType: 'WORKFLOW.STARTED',
      method: 'POST',
      path: '',
      body: {
        definitionId: 'eu10.calm.featureapproval',
        context: {
          featureId: 'f0e1d2c3',
          linkToFeature:
            'https://acme.eu10.alm.cloud.sap/launchpad#feature-display?sap-ui-app-id-hint=com.sap.calm.imp.cdm.features.ui&/list/details/6-123',
          statusName: 'In Testing',
          targetStatusName: 'Tested',
          priority: 'High',
          projectName: 'S/4 Rollout',
          featureTitle: 'Invoice approval',
          universalId: '6-123',
          responsibleId: 'jane.doe@example.com',
          triggeredBy: 'john.smith@example.com',
          toBeReviewedBy: ['jane.doe@example.com'],
        },
      },
    });
  });

  it('maps the start response and takes the external id from externalIdProperty /id', () => {
    const response = {
      id: 'wf-42',
      definitionId: 'eu10.calm.featureapproval',
      status: 'RUNNING',
      rootInstanceId: 'wf-42',
    };
    const mapped = mapResponse(mapping, 'WORKFLOW.STARTED', response, environment);
    expect(mapped).toMatchObject({
      kind: 'mapped',
      fields: { externalResourceId: 'wf-42', externalResourceStatus: 'STARTED' },
      externalId: 'wf-42',
    });
  });

  it('WORKFLOW.PING is a GET on /{id}/outputs without body, mapped by its own response override', () => {
    const link = {
      externalId: 'wf-42',
      fields: { externalResourceId: 'wf-42', externalResourceStatus: 'STARTED' },
    };
    expect(buildOperation(mapping, message('WORKFLOW.PING', feature), { ...environment, link })).toEqual({
      kind: 'call',
      eventType: 'WORKFLOW.PING',
      method: 'GET',
      path: '/wf-42/outputs',
      body: undefined,
    });
    const outputs = {
      workflowId: 'wf-42',
      decision: 'approve',
      approvers: ['jane.doe@example.com'],
      workflowStatus: 'Completed',
    };
    const mapped = mapResponse(mapping, 'WORKFLOW.PING', outputs, { ...environment, link });
    expect(mapped).toEqual({
      kind: 'mapped',
      eventType: 'WORKFLOW.PING',
      fields: {
        externalResourceId: 'wf-42',
        externalDecision: 'approve',
        externalApprovers: ['jane.doe@example.com'],
        externalResourceStatus: 'COMPLETED',
      },
      externalId: 'wf-42',
      link: {
        externalId: 'wf-42',
        fields: {
          externalResourceId: 'wf-42',
          externalResourceStatus: 'COMPLETED',
          externalDecision: 'approve',
          externalApprovers: ['jane.doe@example.com'],
        },
      },
    });
  });

  it('switch matching is case-sensitive: "completed" is not a case and falls to the default FAILED', () => {
    const mapped = mapResponse(
      mapping,
      'WORKFLOW.PING',
      { workflowId: 'wf-42', workflowStatus: 'completed' },
      environment,
    );
    expect(mapped.kind === 'mapped' && mapped.fields.externalResourceStatus).toBe('FAILED');
  });

  it('WORKFLOW.CANCELED patches the instance and maps literal response values with their types', () => {
    const link = { externalId: 'wf-42' };
    expect(buildOperation(mapping, message('WORKFLOW.CANCELED', feature), { ...environment, link })).toEqual({
      kind: 'call',
      eventType: 'WORKFLOW.CANCELED',
      method: 'PATCH',
      path: '/wf-42',
      body: { status: 'CANCELED', cascade: false },
    });
    // SAP Build answers the PATCH with 204 No Content: there is no body to map.
    const mapped = mapResponse(mapping, 'WORKFLOW.CANCELED', undefined, { ...environment, link });
    expect(mapped).toMatchObject({
      fields: { sentCancelRequest: true, externalResourceStatus: 'FAILED' },
      externalId: 'wf-42',
    });
  });

  it('skips a PING before the external id is known, and unmapped event types', () => {
    expect(buildOperation(mapping, message('WORKFLOW.PING', feature), environment)).toMatchObject({
      kind: 'skip',
      reason: 'NO_EXTERNAL_ID',
    });
    expect(buildOperation(mapping, message('WORKFLOW.DELETED', feature), environment)).toMatchObject({
      kind: 'skip',
      reason: 'NO_OPERATION',
    });
  });
});

describe('(b) IEP event situation → SAP Build workflow', () => {
  const mapping = loadExampleMapping('event-situation-to-sap-build.mapping.json');
  const situation = {
    id: 'cd0cb7ea-c4ed-43f5-aaf7-e12259483184',
    subject: 'High Number of Short Dumps',
    eventName: 'High Number of Short Dumps',
    rating: 'FATAL',
    eventType: 'CALM.HM',
    eventSubType: '',
    workNotes: 'Timestamp: 2023-04-12T18:53:21.353922Z\n\nStart Time: 2023-04-12T18:50:00Z',
    serviceId: '190c1314-efd9-44ce-8d2f-2f7dc24ddf04',
  };
  const createdBody = {
    definitionId: 'eu10.calm-demo.workflow',
    context: {
      summary: '[Cloud ALM for Operations] High Number of Short Dumps',
      text: 'FATAL - High Number of Short Dumps: ',
      type: 'CALM.HM',
      subType: '',
      priority: 'Highest',
      worknotes: 'Timestamp: 2023-04-12T18:53:21.353922Z\n\nStart Time: 2023-04-12T18:50:00Z',
      serviceid: 'serviceId: 190c1314-efd9-44ce-8d2f-2f7dc24ddf04',
    },
  };

  it('CREATED posts the template; #{eventType} is the resource field, not the envelope event type', () => {
    expect(buildOperation(mapping, message('EVENT-SITUATION.CREATED', situation))).toEqual({
      kind: 'call',
      eventType: 'EVENT-SITUATION.CREATED',
      method: 'POST',
      path: '',
      body: createdBody,
    });
  });

  it('without externalIdProperty the external id is the mapped externalId; missing fields map to null', () => {
    const response = { id: 'wf-7', status: 'RUNNING', rootInstanceId: 'wf-7', startedBy: 'sb-user' };
    expect(mapResponse(mapping, 'EVENT-SITUATION.CREATED', response)).toMatchObject({
      fields: { externalStatus: 'RUNNING', displayUrl: 'wf-7', externalNumber: null, externalId: 'wf-7' },
      externalId: 'wf-7',
    });
  });

  it('UPDATED addresses "/#{externalId}" through the stored response-mapped field', () => {
    const link = { externalId: 'wf-7', fields: { externalId: 'wf-7', externalStatus: 'RUNNING' } };
    const updated = { ...situation, rating: 'WARNING' };
    expect(buildOperation(mapping, message('EVENT-SITUATION.UPDATED', updated), { link })).toEqual({
      kind: 'call',
      eventType: 'EVENT-SITUATION.UPDATED',
      method: 'PATCH',
      path: '/wf-7',
      body: {
        ...createdBody,
        context: { ...createdBody.context, text: 'WARNING - High Number of Short Dumps: ', priority: 'Low' },
      },
    });
  });

  it('CLOSED posts to the instance; values inserted into the path are URL-encoded per segment', () => {
    const link = { fields: { externalId: 'a b/c?d' } };
    expect(buildOperation(mapping, message('EVENT-SITUATION.CLOSED', situation), { link })).toMatchObject({
      method: 'POST',
      path: '/a%20b%2Fc%3Fd',
    });
  });

  it('PING gets the instance and its response-only override keeps no request body (GET)', () => {
    const link = { externalId: 'wf-7', fields: { externalId: 'wf-7' } };
    expect(buildOperation(mapping, message('EVENT-SITUATION.PING', situation), { link })).toEqual({
      kind: 'call',
      eventType: 'EVENT-SITUATION.PING',
      method: 'GET',
      path: '/wf-7',
      body: undefined,
    });
    const instance = {
      id: 'wf-7',
      status: 'COMPLETED',
      startedAt: '2023-04-12T18:55:00Z',
      startedBy: 'sb-user',
      completedAt: '2023-04-13T09:00:00Z',
    };
    expect(mapResponse(mapping, 'EVENT-SITUATION.PING', instance, { link })).toMatchObject({
      fields: {
        displayUrl: null,
        externalNumber: null,
        externalId: 'wf-7',
        externalStatus: 'COMPLETED',
        lastUpdatedAt: '2023-04-13T09:00:00Z',
        createdAt: '2023-04-12T18:55:00Z',
        lastUpdatedBy: '',
        createdBy: 'sb-user',
        assignedTo: 'sb-user',
      },
      externalId: 'wf-7',
    });
  });

  it('an unknown rating takes the switch default, a missing rating too', () => {
    const unknown = buildOperation(
      mapping,
      message('EVENT-SITUATION.CREATED', { ...situation, rating: 'fatal' }),
    );
    const missing = buildOperation(mapping, message('EVENT-SITUATION.CREATED', { subject: 'x' }));
    expect(unknown).toMatchObject({ body: { context: { priority: 'Lowest' } } });
    expect(missing).toMatchObject({
      body: {
        context: {
          summary: '[Cloud ALM for Operations] x',
          text: ' - : ',
          type: null,
          priority: 'Lowest',
          serviceid: 'serviceId: ',
        },
      },
    });
  });
});

describe('(c) task → Cloud ALM task replication', () => {
  const mapping = loadExampleMapping('task-replication.mapping.json');
  // The captured TASK.UPDATED resource of reference §4.2.
  const task = {
    dueDate: '2023-04-18',
    scopeName: 'YBs Scope B',
    obsolete: false,
    description: 'New description',
    title: 'Requirement for Accounting and Financial Close (J58)',
    type: 'CALMREQU',
    priorityId: 30,
    id: '230dd1f3-275b-49e6-b775-462435af67c2',
    scopeId: 'f15896c1-ef45-4e9e-81c9-907c1f6ecaf3',
    status: 'CIPREQUOPEN',
  };

  it('TASK.CREATED copies the task into the remote project given by @USER_VAR(projId)', () => {
    const outcome = buildOperation(mapping, message('TASK.CREATED', task), {
      userVariables: { projId: '9e1b6a4c-remote-project' },
    });
    expect(outcome).toEqual({
      kind: 'call',
      eventType: 'TASK.CREATED',
      method: 'POST',
      path: '',
      body: {
        externalId: '230dd1f3-275b-49e6-b775-462435af67c2',
        projectId: '9e1b6a4c-remote-project',
        title: 'Requirement for Accounting and Financial Close (J58)',
        type: 'CALMREQU',
        description: 'New description',
        scopeId: 'f15896c1-ef45-4e9e-81c9-907c1f6ecaf3',
      },
    });
  });

  it('an undefined user variable is the empty string', () => {
    expect(buildOperation(mapping, message('TASK.CREATED', task))).toMatchObject({ body: { projectId: '' } });
  });

  it('maps the created task id and only TASK.CREATED is replicated', () => {
    expect(mapResponse(mapping, 'TASK.CREATED', { id: 'remote-task-1', title: 'x' })).toMatchObject({
      fields: { externalId: 'remote-task-1' },
      externalId: 'remote-task-1',
    });
    expect(buildOperation(mapping, message('TASK.UPDATED', task))).toMatchObject({
      kind: 'skip',
      reason: 'NO_OPERATION',
    });
  });
});

describe('(d) task → Azure DevOps work item (switches, JSON Patch array body)', () => {
  const mapping = loadExampleMapping('task-to-azure-devops.mapping.json');
  const story = {
    id: '230dd1f3-275b-49e6-b775-462435af67c2',
    type: 'CALMUS',
    title: 'As a clerk I want to post invoices',
    description: 'Story text',
    priorityId: 30,
  };

  it('builds the JSON Patch array; the work item type lands encoded in the path after a literal "$"', () => {
    expect(buildOperation(mapping, message('TASK.CREATED', story), { cloudAlmUrl: CALM })).toEqual({
      kind: 'call',
      eventType: 'TASK.CREATED',
      method: 'POST',
      path: '/$User%20Story?api-version=7.1',
      body: [
        { op: 'add', path: '/fields/System.Title', value: 'As a clerk I want to post invoices' },
        { op: 'add', path: '/fields/System.Description', value: 'Story text' },
        { op: 'add', path: '/fields/Custom.CloudALMType', value: 'User Story' },
        { op: 'add', path: '/fields/Custom.CloudALMPriority', value: 30 },
        {
          op: 'add',
          path: '/relations/-',
          value: {
            rel: 'Hyperlink',
            url: 'https://acme.eu10.alm.cloud.sap/launchpad#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/230dd1f3-275b-49e6-b775-462435af67c2',
          },
        },
      ],
    });
  });

  it('defects use the defect switches', () => {
    const outcome = buildOperation(mapping, message('TASK.CREATED', { ...story, type: 'CALMDEF' }), {
      cloudAlmUrl: CALM,
    });
    expect(outcome).toMatchObject({ path: '/$Bug?api-version=7.1' });
    if (outcome.kind !== 'call' || !Array.isArray(outcome.body)) throw new Error('expected an array body');
    expect(outcome.body[2]).toEqual({ op: 'add', path: '/fields/Custom.CloudALMType', value: 'Defect' });
    expect(outcome.body[4]).toEqual({
      op: 'add',
      path: '/relations/-',
      value: {
        rel: 'Hyperlink',
        url: 'https://acme.eu10.alm.cloud.sap/launchpad#ptmDefect-management?sap-app-origin-hint=&tile=PTMDEF&/details/230dd1f3-275b-49e6-b775-462435af67c2',
      },
    });
  });

  it('a numeric id from externalIdProperty becomes its text; the whole-value field keeps the number', () => {
    const response = {
      id: 4711,
      rev: 1,
      _links: { html: { href: 'https://dev.azure.com/acme/erp/_workitems/edit/4711' } },
    };
    expect(mapResponse(mapping, 'TASK.CREATED', response)).toMatchObject({
      fields: { externalId: 4711, displayUrl: 'https://dev.azure.com/acme/erp/_workitems/edit/4711' },
      externalId: '4711',
    });
  });

  it('TASK.UPDATED patches the stored work item with its own array override', () => {
    expect(buildOperation(mapping, message('TASK.UPDATED', story), { link: { externalId: '4711' } })).toEqual(
      {
        kind: 'call',
        eventType: 'TASK.UPDATED',
        method: 'PATCH',
        path: '/4711?api-version=7.1',
        body: [
          { op: 'replace', path: '/fields/System.Title', value: 'As a clerk I want to post invoices' },
          { op: 'replace', path: '/fields/System.Description', value: 'Story text' },
        ],
      },
    );
  });
});

describe('(e) task → Jira issue', () => {
  const mapping = loadExampleMapping('task-to-jira.mapping.json');
  const defect = { id: 'task-9', type: 'CALMDEF', title: 'Posting fails', description: 'Error F5 702' };
  const environment = { userVariables: { jiraProjectKey: 'CALM' }, cloudAlmUrl: CALM };

  it('TASK.CREATED creates a Bug in the configured project with a multi-placeholder description', () => {
    expect(buildOperation(mapping, message('TASK.CREATED', defect), environment)).toEqual({
      kind: 'call',
      eventType: 'TASK.CREATED',
      method: 'POST',
      path: '',
      body: {
        fields: {
          project: { key: 'CALM' },
          summary: 'Posting fails',
          description:
            'Error F5 702\n\nSAP Cloud ALM: https://acme.eu10.alm.cloud.sap/launchpad#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/task-9',
          issuetype: { name: 'Bug' },
        },
      },
    });
  });

  it('maps Jira CreatedIssue {id,key,self}', () => {
    const created = { id: '10042', key: 'CALM-7', self: 'https://acme.atlassian.net/rest/api/2/issue/10042' };
    expect(mapResponse(mapping, 'TASK.CREATED', created, environment)).toMatchObject({
      fields: {
        externalId: '10042',
        externalNumber: 'CALM-7',
        displayUrl: 'https://acme.atlassian.net/rest/api/2/issue/10042',
      },
      externalId: '10042',
    });
  });

  it('TASK.UPDATED PUTs summary and description; the 204 reply maps to no fields and keeps the id', () => {
    const link = { externalId: '10042', fields: { externalId: '10042', externalNumber: 'CALM-7' } };
    expect(buildOperation(mapping, message('TASK.UPDATED', defect), { ...environment, link })).toEqual({
      kind: 'call',
      eventType: 'TASK.UPDATED',
      method: 'PUT',
      path: '/10042',
      body: { fields: { summary: 'Posting fails', description: 'Error F5 702' } },
    });
    expect(mapResponse(mapping, 'TASK.UPDATED', undefined, { ...environment, link })).toEqual({
      kind: 'mapped',
      eventType: 'TASK.UPDATED',
      fields: {},
      externalId: '10042',
      link: { externalId: '10042', fields: { externalId: '10042', externalNumber: 'CALM-7' } },
    });
  });

  it('types map exactly: templates and lower-case codes fall to "Task"', () => {
    for (const type of ['CALMTMPL', 'calmdef', '']) {
      expect(
        buildOperation(mapping, message('TASK.CREATED', { ...defect, type }), environment),
      ).toMatchObject({
        body: { fields: { issuetype: { name: 'Task' } } },
      });
    }
  });
});

describe('(f) event situation → ServiceNow incident', () => {
  const mapping = loadExampleMapping('event-situation-to-servicenow.mapping.json');
  const situation = {
    id: 'cd0cb7ea-c4ed-43f5-aaf7-e12259483184',
    updateTime: '2022-05-16T19:00:00Z',
    subject: 'Ping failed to service S4H',
    body: 'System involved: S4H',
    rating: 'ERROR',
    workNotes: 'Occurrences: 3',
  };
  const environment = {
    userVariables: {
      callerId: 'caller-sys-id',
      assignmentGroup: 'group-sys-id',
      snowBaseUrl: 'https://acme.service-now.com',
    },
  };
  const incident = {
    result: {
      sys_id: '9d385017c611228701d22104cc95c371',
      number: 'INC0010001',
      state: '2',
      sys_created_on: '2022-05-16 18:25:45',
      sys_updated_on: '2022-05-16 19:00:02',
      sys_created_by: 'calm.integration',
      sys_updated_by: 'admin',
    },
  };

  it('CREATED posts the incident with urgency and impact from two switches over the same field', () => {
    expect(buildOperation(mapping, message('EVENT-SITUATION.CREATED', situation), environment)).toEqual({
      kind: 'call',
      eventType: 'EVENT-SITUATION.CREATED',
      method: 'POST',
      path: '',
      body: {
        short_description: '[SAP Cloud ALM] Ping failed to service S4H',
        description: 'System involved: S4H',
        urgency: '1',
        impact: '2',
        work_notes: 'Occurrences: 3',
        correlation_id: 'cd0cb7ea-c4ed-43f5-aaf7-e12259483184',
        correlation_display: 'SAP Cloud ALM',
        caller_id: 'caller-sys-id',
        assignment_group: 'group-sys-id',
        contact_type: 'monitoring',
      },
    });
  });

  it('responseRoot "result" scopes both the response mapping and externalIdProperty', () => {
    expect(mapResponse(mapping, 'EVENT-SITUATION.CREATED', incident, environment)).toMatchObject({
      fields: {
        externalId: '9d385017c611228701d22104cc95c371',
        externalNumber: 'INC0010001',
        externalStatus: 'IN_PROGRESS',
        displayUrl:
          'https://acme.service-now.com/nav_to.do?uri=incident.do?sys_id=9d385017c611228701d22104cc95c371',
        createdAt: '2022-05-16 18:25:45',
        lastUpdatedAt: '2022-05-16 19:00:02',
        createdBy: 'calm.integration',
        lastUpdatedBy: 'admin',
      },
      externalId: '9d385017c611228701d22104cc95c371',
    });
  });

  it('UPDATED and CLOSED patch the incident with their request overrides', () => {
    const link = { externalId: '9d385017c611228701d22104cc95c371' };
    expect(
      buildOperation(mapping, message('EVENT-SITUATION.UPDATED', situation), { ...environment, link }),
    ).toEqual({
      kind: 'call',
      eventType: 'EVENT-SITUATION.UPDATED',
      method: 'PATCH',
      path: '/9d385017c611228701d22104cc95c371',
      body: { work_notes: 'Update from SAP Cloud ALM (2022-05-16T19:00:00Z): Occurrences: 3' },
    });
    expect(
      buildOperation(mapping, message('EVENT-SITUATION.CLOSED', situation), { ...environment, link }),
    ).toEqual({
      kind: 'call',
      eventType: 'EVENT-SITUATION.CLOSED',
      method: 'PATCH',
      path: '/9d385017c611228701d22104cc95c371',
      body: {
        state: '6',
        close_code: 'Solved (Permanently)',
        close_notes: 'Event situation closed in SAP Cloud ALM: Ping failed to service S4H',
      },
    });
  });

  it('an override with only a request keeps the mapping-wide response (replace per side)', () => {
    const link = { externalId: '9d385017c611228701d22104cc95c371' };
    const resolved = { result: { ...incident.result, state: '6' } };
    expect(mapResponse(mapping, 'EVENT-SITUATION.CLOSED', resolved, { ...environment, link })).toMatchObject({
      fields: { externalStatus: 'RESOLVED', externalNumber: 'INC0010001' },
    });
  });

  it('PING reads the incident without body; DELETED is deliberately unmapped', () => {
    const link = { externalId: '9d385017c611228701d22104cc95c371' };
    expect(buildOperation(mapping, message('EVENT-SITUATION.PING', situation), { link })).toEqual({
      kind: 'call',
      eventType: 'EVENT-SITUATION.PING',
      method: 'GET',
      path: '/9d385017c611228701d22104cc95c371',
      body: undefined,
    });
    expect(buildOperation(mapping, message('EVENT-SITUATION.DELETED', situation), { link })).toMatchObject({
      kind: 'skip',
      reason: 'NO_OPERATION',
    });
  });

  it('an unknown or missing rating uses the defaults; missing text fields follow the empty-value rules', () => {
    expect(buildOperation(mapping, message('EVENT-SITUATION.CREATED', { rating: 'error' }))).toMatchObject({
      body: {
        short_description: '[SAP Cloud ALM] ',
        description: null,
        urgency: '3',
        impact: '3',
        caller_id: '',
        assignment_group: '',
      },
    });
  });
});

describe('§5.3 rule-based event situation → ServiceNow', () => {
  const mapping = loadExampleMapping('event-situation-to-servicenow.rule-based.mapping.json');

  it('normalises top-level request/response and evaluates them like a payload-based structure', () => {
    expect(mapping.format).toBe('rule-based');
    const situation = { id: 'sit-1', subject: 'DB down', body: 'HANA unreachable', rating: 'FATAL' };
    expect(buildOperation(mapping, message('EVENT-SITUATION.CREATED', situation))).toEqual({
      kind: 'call',
      eventType: 'EVENT-SITUATION.CREATED',
      method: 'POST',
      path: '',
      body: {
        short_description: 'DB down',
        description: 'HANA unreachable',
        correlation_id: 'sit-1',
        urgency: '1',
      },
    });
    const response = { result: { sys_id: 'abc123', number: 'INC0000050' } };
    expect(mapResponse(mapping, 'EVENT-SITUATION.CREATED', response)).toMatchObject({
      fields: { externalId: 'abc123', externalNumber: 'INC0000050' },
      externalId: 'abc123',
    });
  });
});
