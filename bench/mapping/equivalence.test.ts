import { describe, expect, it } from 'vitest';
import {
  calmhubEvaluate,
  createJsonataEvaluate,
  loadServiceNowMapping,
  sampleMessage,
} from './servicenow-workload.js';

// The benchmark only means something if both engines compute the same transformation.
describe('benchmark workload: calmhub and JSONata agree', () => {
  const mapping = loadServiceNowMapping();
  const jsonataEvaluate = createJsonataEvaluate();
  const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

  it('on every benchmark input', async () => {
    for (let index = 0; index < 64; index++) {
      const message = sampleMessage(index);
      expect(plain(await jsonataEvaluate(message))).toEqual(plain(calmhubEvaluate(mapping, message)));
    }
  });

  it('on a resource with every field missing', async () => {
    const message = { ...sampleMessage(0), resource: {} };
    const expected = {
      method: 'POST',
      path: '',
      body: {
        short_description: '[SAP Cloud ALM] ',
        description: null,
        urgency: '3',
        impact: '3',
        work_notes: null,
        correlation_id: null,
        correlation_display: 'SAP Cloud ALM',
        caller_id: '6816f79cc0a8016401c5a33be04be441',
        assignment_group: 'Service Desk',
        contact_type: 'monitoring',
      },
    };
    expect(plain(calmhubEvaluate(mapping, message))).toEqual(expected);
    expect(plain(await jsonataEvaluate(message))).toEqual(expected);
  });
});
