import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileMapping } from '../compile/compile-mapping.js';
import { buildOperation } from '../operation/evaluate.js';
import { validateMapping } from './validate-mapping.js';

// SAP-authored mapping documents (SAP-samples/cloud-alm-api-examples, applications/BPA), kept next to the repo.
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const directory = path.resolve(repoRoot, '../shared/data/sap-mappings');
const files = existsSync(directory)
  ? readdirSync(directory)
      .filter((file) => file.endsWith('.json'))
      .sort()
  : [];

if (files.length === 0) {
  process.stdout.write(
    `\n[calmhub] NOTICE: ${directory} is absent: the SAP-authored mapping test is SKIPPED.\n`,
  );
}

describe.skipIf(files.length === 0)('SAP-authored mappings', () => {
  it('finds the four BPA mappings', () => {
    expect(files).toEqual([
      'document-approval-mapping-first-version.json',
      'document-approval-mapping-for-shared-environments.json',
      'document-approval-mapping.json',
      'feature-workflow-mapping-for-shared-environments.json',
    ]);
  });

  it.each(files)('%s loads and validates without errors', (file) => {
    const text = readFileSync(path.join(directory, file), 'utf8');
    const result = validateMapping(text);
    expect(result.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
    expect(result).toMatchObject({ valid: true, format: 'payload-based' });
    const compiled = compileMapping(text);
    expect(compiled.ok && compiled.mapping.eventTypes).toEqual([
      'WORKFLOW.STARTED',
      'WORKFLOW.PING',
      'WORKFLOW.CANCELED',
    ]);
  });

  it('shared-environment document approval: the null/"" switch and query strings in paths', () => {
    const compiled = compileMapping(
      readFileSync(path.join(directory, 'document-approval-mapping-for-shared-environments.json'), 'utf8'),
    );
    if (!compiled.ok) throw new Error('mapping must validate');
    const document = {
      id: 'doc-1',
      title: 'Blueprint',
      displayId: '42',
      triggeredBy: 'john',
      ownerId: 'olivia',
      typeName: 'Design Document',
      statusName: 'In Review',
      priorityName: 'Medium',
      tags: ['finance', 'q3'],
      projectId: 'p-1',
      projectName: 'Rollout',
    };
    const environment = {
      userVariables: { workflowDefinitionId: 'wf.def', reviewedBy: 'rita', workflowEnvironmentId: 'env 1/a' },
      cloudAlmUrl: 'https://acme.alm.cloud.sap',
    };
    const started = (responsibleId: unknown) =>
      buildOperation(
        compiled.mapping,
        { eventType: 'WORKFLOW.STARTED', resource: { ...document, responsibleId } },
        environment,
      );
    // A missing responsible matches the `when: null` case, an empty one the `when: ""` case; both map to "".
    expect(started(undefined)).toMatchObject({
      body: { context: { responsible: '', toBeReviewedBy: ['rita', null] } },
    });
    expect(started(null)).toMatchObject({
      body: { context: { responsible: '', toBeReviewedBy: ['rita', null] } },
    });
    expect(started('')).toMatchObject({
      body: { context: { responsible: '', toBeReviewedBy: ['rita', ''] } },
    });
    // Otherwise the default `#{responsibleId}` is itself evaluated.
    expect(started('ralf')).toEqual({
      kind: 'call',
      eventType: 'WORKFLOW.STARTED',
      method: 'POST',
      path: '/?environmentId=env%201%2Fa',
      body: {
        definitionId: 'wf.def',
        context: {
          objectId: 'doc-1',
          objectTitle: 'Blueprint',
          objectLink: 'https://acme.alm.cloud.sap/launchpad#DocumentationObject-manage?displayId=42',
          triggeredby: 'john',
          toBeReviewedBy: ['rita', 'ralf'],
          owner: 'olivia',
          responsible: 'ralf',
          type: 'Design Document',
          status: 'In Review',
          priority: 'Medium',
          tags: ['finance', 'q3'],
          projectId: 'p-1',
          projectName: 'Rollout',
        },
      },
    });
    const ping = buildOperation(
      compiled.mapping,
      { eventType: 'WORKFLOW.PING', resource: document },
      {
        ...environment,
        link: { externalId: 'wf-9' },
      },
    );
    expect(ping).toEqual({
      kind: 'call',
      eventType: 'WORKFLOW.PING',
      method: 'GET',
      path: '/wf-9/outputs/?environmentId=env%201%2Fa',
      body: undefined,
    });
  });
});
