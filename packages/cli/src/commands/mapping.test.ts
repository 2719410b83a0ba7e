// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${SWITCH(…)}" is mapping syntax, not a template literal.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mappingCommand } from './mapping.js';

const examples = fileURLToPath(new URL('../../../mapping/examples/', import.meta.url));
const example = (name: string) => `${examples}${name}`;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await mappingCommand.run(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('calmhub mapping run', () => {
  it('prints the README example exactly', async () => {
    const result = await run([
      'run',
      example('event-situation-to-servicenow.mapping.json'),
      '--event',
      example('event-situation.created.json'),
      '--response',
      example('servicenow.created.response.json'),
      '--var',
      'callerId=6816f79cc0a8016401c5a33be04be441',
      '--var',
      'assignmentGroup=8a4dde73c6112278017a6a4baf547aa7',
      '--var',
      'snowBaseUrl=https://dev12345.service-now.com',
    ]);
    expect(result).toEqual({
      code: 0,
      stdout: readFileSync(example('servicenow.created.expected.json'), 'utf8'),
      stderr: '',
    });
    expect(JSON.parse(result.stdout)).toMatchObject({
      operation: {
        method: 'POST',
        path: '',
        body: { urgency: '1', impact: '2', caller_id: '6816f79cc0a8016401c5a33be04be441' },
      },
      response: {
        externalId: '9d385017c611228701d22104cc95c371',
        fields: { externalNumber: 'INC0010001', externalStatus: 'NEW' },
      },
    });
  });

  it('uses --external-id and --cloud-alm-url, prints "body": null for a GET and omits "response" without --response', async () => {
    const result = await run([
      'run',
      example('feature-to-sap-build.mapping.json'),
      '--event',
      example('event-situation.created.json'),
      '--external-id',
      'wf 42',
      '--cloud-alm-url',
      'https://acme.alm.cloud.sap',
    ]);
    // The event file is an EVENT-SITUATION message: this mapping has no operation for it.
    expect(result).toEqual({
      code: 0,
      stdout: '{\n  "operation": null\n}\n',
      stderr:
        'note: the mapping has no operation for event type "EVENT-SITUATION.CREATED"; nothing is sent\n',
    });
  });

  it('maps a PING with a stored external id', async () => {
    const files: Record<string, string> = {
      'ping.json': JSON.stringify({ eventType: 'WORKFLOW.PING', resource: { item: { id: 'f1' } } }),
      'outputs.json': JSON.stringify({
        workflowId: 'wf 42',
        decision: 'approve',
        workflowStatus: 'COMPLETED',
      }),
    };
    let stdout = '';
    const code = await (await import('@calmhub/mapping/cli')).runMappingCli(
      [
        'run',
        example('feature-to-sap-build.mapping.json'),
        '--event',
        'ping.json',
        '--response',
        'outputs.json',
        '--external-id',
        'wf 42',
      ],
      { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => undefined } },
      (file) => files[file] ?? readFileSync(file, 'utf8'),
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      operation: { method: 'GET', path: '/wf%2042/outputs', body: null },
      response: {
        fields: {
          externalResourceId: 'wf 42',
          externalDecision: 'approve',
          externalApprovers: null,
          externalResourceStatus: 'COMPLETED',
        },
        externalId: 'wf 42',
      },
    });
  });

  it('rejects wrong usage with exit code 2', async () => {
    expect((await run(['run', example('task-to-jira.mapping.json')])).code).toBe(2);
    expect(
      (await run(['run', example('task-to-jira.mapping.json'), '--event', 'x', '--var', 'novalue'])).code,
    ).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run([])).code).toBe(2);
  });

  it('reports unreadable or invalid input files with exit code 1', async () => {
    const missing = await run([
      'run',
      example('task-to-jira.mapping.json'),
      '--event',
      example('does-not-exist.json'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^calmhub mapping: cannot read .*does-not-exist\.json: ENOENT/);
    const notAMessage = await run([
      'run',
      example('task-to-jira.mapping.json'),
      '--event',
      example('task-to-jira.mapping.json'),
    ]);
    expect(notAMessage).toMatchObject({ code: 1, stdout: '' });
    expect(notAMessage.stderr).toContain('a change message must be a JSON object with a string "eventType"');
  });
});

describe('calmhub mapping validate', () => {
  it('reports every located error of a broken mapping and exits 1', async () => {
    const file = example('broken.mapping.json');
    expect(await run(['validate', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: [
        `${file}: invalid mapping, 6 error(s)`,
        '  error /structure/request/short_description: unbalanced expression: "#{" at character 16 is never closed by "}" in "[SAP Cloud ALM] #{subject"',
        '  error /structure/request/urgency: ${SWITCH(SwitchUrgency,rating)}: unknown switch "SwitchUrgency" (did you mean "switchUrgency"? switch names are case-sensitive); defined switches: switchUrgency',
        '  error /structure/request/caller_id: #{@USER(callerId)}: unknown function "@USER"; supported: @USER_VAR(name), @CLOUD_ALM_URL, @CLOUD_ALM_EXTERNAL_ID (names are case-sensitive)',
        '  error /eventTypeMapping/operationMappings/0/operation: unsupported HTTP method "post"; use one of GET, POST, PUT, PATCH, DELETE (did you mean "POST"? methods are upper case)',
        '  error /eventTypeMapping/operationMappings/0/externalIdProperty: invalid externalIdProperty "sys_id": must be a JSON Pointer relative to responseRoot, such as "/id" (did you mean "/sys_id"?)',
        '  error /eventTypeMapping/operationMappings/1/eventType: duplicate eventType "EVENT-SITUATION.CREATED" (first mapped at /eventTypeMapping/operationMappings/0)',
        '',
      ].join('\n'),
    });
  });

  it('accepts a valid mapping, listing its operations and warnings', async () => {
    const file = example('feature-to-sap-build.mapping.json');
    expect(await run(['validate', file])).toEqual({
      code: 0,
      stdout: [
        `${file}: valid payload-based mapping, 3 operation(s): WORKFLOW.STARTED, WORKFLOW.PING, WORKFLOW.CANCELED`,
        '  warning /eventTypeMapping/operationMappings/1/structure/request: GET sends no body; this request template is ignored',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('locates malformed JSON by line and column', async () => {
    let stderr = '';
    const code = await (await import('@calmhub/mapping/cli')).runMappingCli(
      ['validate', 'bad.json'],
      { stdout: { write: () => undefined }, stderr: { write: (text: string) => (stderr += text) } },
      () => '{\n  "switches": [\n}',
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^bad\.json: invalid mapping, 1 error\(s\)\n {2}error \(document\) \(line 3, column 1\): malformed JSON: unexpected "}", expected a value\n$/,
    );
  });

  it('has help text naming both subcommands', () => {
    expect(mappingCommand.help).toContain('calmhub mapping validate <mapping.json>');
    expect(mappingCommand.help).toContain('calmhub mapping run <mapping.json> --event <message.json>');
  });
});
