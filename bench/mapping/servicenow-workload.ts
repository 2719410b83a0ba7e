import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOperation, type ChangeMessage, type CompiledMapping, compileMapping } from '@calmhub/mapping';
import jsonata from 'jsonata';

/**
 * The event-situation → ServiceNow incident mapping (reference §5.6 f), EVENT-SITUATION.CREATED: calmhub's
 * mapping engine against the same transformation written in JSONata. Both produce { method, path, body }.
 */
const mappingFile = fileURLToPath(
  new URL('../../packages/mapping/examples/event-situation-to-servicenow.mapping.json', import.meta.url),
);

export const userVariables = {
  callerId: '6816f79cc0a8016401c5a33be04be441',
  assignmentGroup: 'Service Desk',
};

export function loadServiceNowMapping(): CompiledMapping {
  const result = compileMapping(readFileSync(mappingFile, 'utf8'));
  if (!result.ok) throw new Error(`benchmark mapping is invalid: ${JSON.stringify(result.issues)}`);
  return result.mapping;
}

export function sampleMessage(index: number): ChangeMessage {
  const ratings = ['FATAL', 'ERROR', 'WARNING', 'INFO', 'UNKNOWN'];
  return {
    subscriptionId: '5b742b3e-36c9-467e-8b37-1c1e633da489',
    resourceType: 'EVENT-SITUATION',
    eventType: 'EVENT-SITUATION.CREATED',
    resourceId: `situation-${index}`,
    resource: {
      id: `situation-${index}`,
      startTime: '2022-05-16T18:25:43Z',
      updateTime: '2022-05-16T18:25:43Z',
      serviceId: '190c1314-efd9-44ce-8d2f-2f7dc24ddf04',
      subject: `Ping failed to service S4H #${index}`,
      body: 'System involved: S4H',
      rating: ratings[index % ratings.length],
      tags: { type: 'httpPing', status: 'DOWN' },
      workNotes: `Timestamp: 2022-05-16T18:25:43Z\n\nOccurrences: ${index}`,
    },
  };
}

export function calmhubEvaluate(mapping: CompiledMapping, message: ChangeMessage): unknown {
  const outcome = buildOperation(mapping, message, { userVariables });
  if (outcome.kind !== 'call') throw new Error(`unexpected outcome ${outcome.kind}`);
  return { method: outcome.method, path: outcome.path, body: outcome.body };
}

/**
 * The JSONata author's version: switch tables are bindings (like calmhub's compiled switches) and missing
 * values follow the mapping engine's rules ("" inside text, null as a whole value, switch default).
 */
export const JSONATA_EXPRESSION = `{
  "method": "POST",
  "path": "",
  "body": {
    "short_description": "[SAP Cloud ALM] " & resource.subject,
    "description": $exists(resource.body) ? resource.body : null,
    "urgency": ($u := $lookup($urgency, resource.rating); $exists($u) ? $u : "3"),
    "impact": ($i := $lookup($impact, resource.rating); $exists($i) ? $i : "3"),
    "work_notes": $exists(resource.workNotes) ? resource.workNotes : null,
    "correlation_id": $exists(resource.id) ? resource.id : null,
    "correlation_display": "SAP Cloud ALM",
    "caller_id": "" & vars.callerId,
    "assignment_group": "" & vars.assignmentGroup,
    "contact_type": "monitoring"
  }
}`;

const switchTables = {
  urgency: { FATAL: '1', ERROR: '1', WARNING: '2', INFO: '3' },
  impact: { FATAL: '1', ERROR: '2' },
};

export type JsonataEvaluate = (message: ChangeMessage) => Promise<unknown>;

export function createJsonataEvaluate(): JsonataEvaluate {
  const expression = jsonata(JSONATA_EXPRESSION);
  return (message) => expression.evaluate({ resource: message.resource, vars: userVariables }, switchTables);
}
