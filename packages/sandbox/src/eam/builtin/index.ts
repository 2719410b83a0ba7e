// biome-ignore-all lint/suspicious/noThenProperty: "then" is the mapping format's own key for switch cases.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${SWITCH(...)} is mapping syntax, not a template literal.
/**
 * Mappings shipped with the sandbox, as SAP ships built-in mappings that customers copy
 * (reference §4.1). SAP's own ServiceNow mapping is not public; these follow the reconstruction
 * of reference §5.6 (f) and the ServiceNow Table API (§8).
 */
export interface BuiltInMapping {
  id: string;
  name: string;
  description: string;
  /** What the webhook's path should be for this mapping. */
  webhookPath: string;
  resourceType: 'EVENT-SITUATION' | 'TASK' | 'FEATURE';
  content: Record<string, unknown>;
}

const SNOW_STATE_SWITCH = {
  name: 'switchState',
  cases: [
    { when: '1', then: 'NEW' },
    { when: '2', then: 'IN_PROGRESS' },
    { when: '3', then: 'ON_HOLD' },
    { when: '6', then: 'RESOLVED' },
    { when: '7', then: 'CLOSED' },
    { when: '8', then: 'CANCELED' },
  ],
  default: 'NEW',
};

const SNOW_RESPONSE = {
  externalId: '#{sys_id}',
  externalNumber: '#{number}',
  externalStatus: '${SWITCH(switchState,state)}',
  displayUrl: '#{@USER_VAR(snowBaseUrl)}/nav_to.do?uri=incident.do?sys_id=#{sys_id}',
  assignedTo: '#{assigned_to.value}',
  createdAt: '#{sys_created_on}',
  lastUpdatedAt: '#{sys_updated_on}',
  createdBy: '#{sys_created_by}',
  lastUpdatedBy: '#{sys_updated_by}',
};

export const EVENT_SITUATION_TO_SERVICENOW: BuiltInMapping = {
  id: 'builtin-event-situation-to-servicenow-incident',
  name: 'Event Situation to ServiceNow Incident',
  description:
    'Creates a ServiceNow incident when an event situation opens, adds a work note on updates, resolves it on close and refreshes its status on ping. Webhook path: /api/now/table/incident. User variables: snowBaseUrl (for displayUrl), callerId, assignmentGroup.',
  webhookPath: '/api/now/table/incident',
  resourceType: 'EVENT-SITUATION',
  content: {
    _information: {
      _version: '1',
      _source: 'SAP Cloud ALM Event Situation',
      _destination: 'ServiceNow Incident',
      _name: 'Event Situation to ServiceNow Incident',
      _comment: 'calmhub sandbox built-in (reconstructed; SAP does not publish its predefined mapping)',
    },
    switches: [
      {
        name: 'switchUrgency',
        cases: [
          { when: 'FATAL', then: '1' },
          { when: 'ERROR', then: '1' },
          { when: 'WARNING', then: '2' },
          { when: 'INFO', then: '3' },
        ],
        default: '3',
      },
      {
        name: 'switchImpact',
        cases: [
          { when: 'FATAL', then: '1' },
          { when: 'ERROR', then: '2' },
        ],
        default: '3',
      },
      SNOW_STATE_SWITCH,
    ],
    structure: {
      request: {
        short_description: '[SAP Cloud ALM] #{subject}',
        description: '#{body}',
        urgency: '${SWITCH(switchUrgency,rating)}',
        impact: '${SWITCH(switchImpact,rating)}',
        work_notes: '#{workNotes}',
        correlation_id: '#{id}',
        correlation_display: 'SAP Cloud ALM',
        caller_id: '#{@USER_VAR(callerId)}',
        assignment_group: '#{@USER_VAR(assignmentGroup)}',
        contact_type: 'monitoring',
      },
      response: SNOW_RESPONSE,
    },
    eventTypeMapping: {
      _comment: 'ServiceNow Table API: webhook path /api/now/table/incident',
      operationMappings: [
        {
          eventType: 'EVENT-SITUATION.CREATED',
          operation: 'POST',
          responseRoot: 'result',
          externalIdProperty: '/sys_id',
        },
        {
          eventType: 'EVENT-SITUATION.UPDATED',
          operation: 'PATCH',
          path: '/#{@CLOUD_ALM_EXTERNAL_ID}',
          responseRoot: 'result',
          structure: {
            request: {
              urgency: '${SWITCH(switchUrgency,rating)}',
              impact: '${SWITCH(switchImpact,rating)}',
              work_notes: 'Update from SAP Cloud ALM (#{updateTime}): #{workNotes}',
            },
          },
        },
        {
          eventType: 'EVENT-SITUATION.CLOSED',
          operation: 'PATCH',
          path: '/#{@CLOUD_ALM_EXTERNAL_ID}',
          responseRoot: 'result',
          structure: {
            request: {
              state: '6',
              close_code: 'Solved (Permanently)',
              close_notes: 'Event situation closed in SAP Cloud ALM: #{subject}',
            },
          },
        },
        {
          eventType: 'EVENT-SITUATION.PING',
          operation: 'GET',
          path: '/#{@CLOUD_ALM_EXTERNAL_ID}',
          responseRoot: 'result',
        },
      ],
    },
  },
};

export const TASK_TO_SERVICENOW: BuiltInMapping = {
  id: 'builtin-task-to-servicenow-incident',
  name: 'Task to ServiceNow Incident',
  description:
    'Replicates Cloud ALM tasks (typically defects) as ServiceNow incidents: create on TASK.CREATED, update on TASK.UPDATED. Webhook path: /api/now/table/incident. User variables: snowBaseUrl, callerId, assignmentGroup.',
  webhookPath: '/api/now/table/incident',
  resourceType: 'TASK',
  content: {
    _information: {
      _version: '1',
      _source: 'SAP Cloud ALM Task',
      _destination: 'ServiceNow Incident',
      _name: 'Task to ServiceNow Incident',
      _comment: 'calmhub sandbox built-in',
    },
    switches: [
      {
        name: 'switchUrgency',
        cases: [
          { when: '10', then: '1' },
          { when: '20', then: '2' },
          { when: '30', then: '2' },
        ],
        default: '3',
      },
      {
        name: 'switchTaskState',
        cases: [
          { when: 'CIPTKOPEN', then: '1' },
          { when: 'CIPUSOPEN', then: '1' },
          { when: 'CIPREQUOPEN', then: '1' },
          { when: 'CIPDFCTOPEN', then: '1' },
          { when: 'CIPTKBLK', then: '3' },
          { when: 'CIPUSBLK', then: '3' },
          { when: 'CIPREQUBLK', then: '3' },
          { when: 'CIPDFCTBLK', then: '3' },
          { when: 'CIPTKCLOSE', then: '6' },
          { when: 'CIPUSCLOSE', then: '6' },
          { when: 'CIPREQUCLOSE', then: '6' },
          { when: 'CIPDFCTDONE', then: '6' },
        ],
        default: '2',
      },
      SNOW_STATE_SWITCH,
    ],
    structure: {
      request: {
        short_description: '[SAP Cloud ALM] #{title}',
        description: '#{description}',
        urgency: '${SWITCH(switchUrgency,priorityId)}',
        correlation_id: '#{id}',
        correlation_display: 'SAP Cloud ALM Task',
        caller_id: '#{@USER_VAR(callerId)}',
        assignment_group: '#{@USER_VAR(assignmentGroup)}',
        work_notes:
          'SAP Cloud ALM task #{id} (#{type}, status #{status}): #{@CLOUD_ALM_URL}/launchpad#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/#{id}',
      },
      response: SNOW_RESPONSE,
    },
    eventTypeMapping: {
      _comment: 'ServiceNow Table API: webhook path /api/now/table/incident',
      operationMappings: [
        {
          eventType: 'TASK.CREATED',
          operation: 'POST',
          responseRoot: 'result',
          externalIdProperty: '/sys_id',
        },
        {
          eventType: 'TASK.UPDATED',
          operation: 'PATCH',
          path: '/#{@CLOUD_ALM_EXTERNAL_ID}',
          responseRoot: 'result',
          structure: {
            request: {
              short_description: '[SAP Cloud ALM] #{title}',
              description: '#{description}',
              urgency: '${SWITCH(switchUrgency,priorityId)}',
              state: '${SWITCH(switchTaskState,status)}',
              // Only read by ServiceNow once the state is Resolved; its data policy requires them then.
              close_code: 'Solved (Permanently)',
              close_notes: 'Completed in SAP Cloud ALM (status #{status})',
            },
          },
        },
      ],
    },
  },
};

export const BUILT_IN_MAPPINGS: readonly BuiltInMapping[] = [
  EVENT_SITUATION_TO_SERVICENOW,
  TASK_TO_SERVICENOW,
];
