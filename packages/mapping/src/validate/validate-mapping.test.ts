// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${SWITCH(…)}" is mapping syntax, not a template literal.
// biome-ignore-all lint/suspicious/noThenProperty: "then" is the mapping format's own key for switch cases.
import { describe, expect, it } from 'vitest';
import type { MappingIssue } from './issues.js';
import { validateMapping } from './validate-mapping.js';

function errors(input: unknown): Pick<MappingIssue, 'pointer' | 'message'>[] {
  return validateMapping(input)
    .issues.filter((issue) => issue.severity === 'error')
    .map(({ pointer, message }) => ({ pointer, message }));
}

function withRequest(request: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    switches: [{ name: 'switchPriority', cases: [{ when: 'FATAL', then: 'Highest' }], default: 'Lowest' }],
    structure: { request, response: { externalId: '#{id}' } },
    eventTypeMapping: { operationMappings: [{ eventType: 'TASK.CREATED', operation: 'POST' }] },
    ...extra,
  };
}

describe('validateMapping', () => {
  it('accepts a correct payload-based mapping without issues', () => {
    expect(
      validateMapping(withRequest({ title: '#{title}', p: '${SWITCH(switchPriority,rating)}' })),
    ).toEqual({
      valid: true,
      format: 'payload-based',
      issues: [],
    });
  });

  it('locates malformed JSON by line and column', () => {
    const result = validateMapping('{\n  "structure": {\n    "request": { "a": 1, }\n  }\n}');
    expect(result.valid).toBe(false);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ severity: 'error', pointer: '', line: 3, column: 26 });
    expect(result.issues[0]!.message).toMatch(/^malformed JSON: /);
  });

  it('rejects a document that is not an object', () => {
    expect(errors([1, 2])).toEqual([
      { pointer: '', message: 'a mapping must be a JSON object, not an array' },
    ]);
  });

  it('reports an unknown switch with a case-sensitivity hint', () => {
    expect(errors(withRequest({ p: '${SWITCH(SwitchPriority,rating)}' }))).toEqual([
      {
        pointer: '/structure/request/p',
        message:
          '${SWITCH(SwitchPriority,rating)}: unknown switch "SwitchPriority" (did you mean "switchPriority"? switch names are case-sensitive); defined switches: switchPriority',
      },
    ]);
  });

  it('reports unbalanced and malformed expressions where they sit, including inside arrays', () => {
    expect(
      errors(
        withRequest({ list: ['ok', '#{item.id'], nested: 'a #{b #{c}} d', empty: '#{}', dots: '#{a..b}' }),
      ),
    ).toEqual([
      {
        pointer: '/structure/request/list/1',
        message: 'unbalanced expression: "#{" at character 0 is never closed by "}" in "#{item.id"',
      },
      {
        pointer: '/structure/request/nested',
        message: '"#{" inside the expression opened at character 2; expressions cannot be nested',
      },
      { pointer: '/structure/request/empty', message: '#{}: empty expression' },
      { pointer: '/structure/request/dots', message: '#{a..b}: empty segment in path "a..b"' },
    ]);
  });

  it('reports malformed switches', () => {
    expect(
      errors(
        withRequest({
          a: '${SWITCH(switchPriority)}',
          b: '${SWITCH(switchPriority,rating}',
          c: '${switch(switchPriority,rating)}',
          d: '#{SWITCH(switchPriority,rating)}',
          e: '${rating}',
          f: '${SWITCH(switchPriority,a,b)}',
        }),
      ),
    ).toEqual([
      {
        pointer: '/structure/request/a',
        message: '${SWITCH(switchPriority)}: SWITCH takes two arguments, a switch name and a path',
      },
      {
        pointer: '/structure/request/b',
        message: '${SWITCH(switchPriority,rating}: malformed switch, missing ")" before "}"',
      },
      {
        pointer: '/structure/request/c',
        message:
          '${switch(switchPriority,rating)}: unknown function "switch"; only ${SWITCH(name,path)} is supported (names are case-sensitive)',
      },
      {
        pointer: '/structure/request/d',
        message:
          '#{SWITCH(switchPriority,rating)}: a switch is written "${SWITCH(name,path)}", not "#{SWITCH(…)}"',
      },
      {
        pointer: '/structure/request/e',
        message: '${rating}: malformed expression; "${…}" must be ${SWITCH(name,path)}',
      },
      {
        pointer: '/structure/request/f',
        message:
          '${SWITCH(switchPriority,a,b)}: SWITCH takes exactly two arguments, a switch name and a path',
      },
    ]);
  });

  it('reports unknown @ functions and wrong arguments', () => {
    expect(
      errors(
        withRequest({ a: '#{@NOW}', b: '#{@user_var(x)}', c: '#{@USER_VAR()}', d: '#{@CLOUD_ALM_URL(x)}' }),
      ),
    ).toEqual([
      {
        pointer: '/structure/request/a',
        message:
          '#{@NOW}: unknown function "@NOW"; supported: @USER_VAR(name), @CLOUD_ALM_URL, @CLOUD_ALM_EXTERNAL_ID (names are case-sensitive)',
      },
      {
        pointer: '/structure/request/b',
        message:
          '#{@user_var(x)}: unknown function "@user_var"; supported: @USER_VAR(name), @CLOUD_ALM_URL, @CLOUD_ALM_EXTERNAL_ID (names are case-sensitive)',
      },
      {
        pointer: '/structure/request/c',
        message: '#{@USER_VAR()}: @USER_VAR needs one variable name, as in @USER_VAR(name)',
      },
      { pointer: '/structure/request/d', message: '#{@CLOUD_ALM_URL(x)}: @CLOUD_ALM_URL takes no arguments' },
    ]);
  });

  it('checks expressions in paths, per-operation structures and switch results', () => {
    const mapping = {
      switches: [{ name: 's', cases: [{ when: 'A', then: '#{@BAD}' }], default: '#{x' }],
      structure: { request: {} },
      eventTypeMapping: {
        operationMappings: [
          {
            eventType: 'E',
            operation: 'PATCH',
            path: '/#{@CLOUD_ALM_EXTERNAL_ID/x',
            structure: { request: { a: '${SWITCH(t,x)}' }, response: { b: '#{' } },
          },
        ],
      },
    };
    expect(errors(mapping).map((issue) => issue.pointer)).toEqual([
      '/switches/0/cases/0/then',
      '/switches/0/default',
      '/eventTypeMapping/operationMappings/0/path',
      '/eventTypeMapping/operationMappings/0/structure/request/a',
      '/eventTypeMapping/operationMappings/0/structure/response/b',
    ]);
  });

  it('rejects nested values in a rule-based mapping, pointing at each one', () => {
    const ruleBased = {
      request: { short_description: '#{subject}', caller: { id: '#{callerId}' }, tags: ['#{tag}'] },
      response: { externalId: '#{sys_id}' },
      eventTypeMapping: { operationMappings: [{ eventType: 'E', operation: 'POST' }] },
    };
    expect(validateMapping(ruleBased).format).toBe('rule-based');
    expect(errors(ruleBased)).toEqual([
      {
        pointer: '/request/caller',
        message:
          'rule-based mappings are flat: "caller" holds an object; use the payload-based format ("structure") for nested templates',
      },
      {
        pointer: '/request/tags',
        message:
          'rule-based mappings are flat: "tags" holds an array; use the payload-based format ("structure") for nested templates',
      },
    ]);
  });

  it('rejects a document mixing both formats', () => {
    expect(errors(withRequest({}, { request: { a: '#{b}' } }))).toEqual([
      {
        pointer: '/request',
        message:
          'top-level "request" belongs to rule-based mappings, but this mapping also has the payload-based "structure"; use one format',
      },
    ]);
  });

  it('rejects unsupported HTTP methods, suggesting the upper-case spelling', () => {
    const mapping = withRequest(
      {},
      {
        eventTypeMapping: {
          operationMappings: [
            { eventType: 'A', operation: 'post' },
            { eventType: 'B', operation: 'OPTIONS' },
            { eventType: 'C' },
          ],
        },
      },
    );
    expect(errors(mapping)).toEqual([
      {
        pointer: '/eventTypeMapping/operationMappings/0/operation',
        message:
          'unsupported HTTP method "post"; use one of GET, POST, PUT, PATCH, DELETE (did you mean "POST"? methods are upper case)',
      },
      {
        pointer: '/eventTypeMapping/operationMappings/1/operation',
        message: 'unsupported HTTP method "OPTIONS"; use one of GET, POST, PUT, PATCH, DELETE',
      },
      {
        pointer: '/eventTypeMapping/operationMappings/2/operation',
        message: 'an operation mapping needs "operation", one of GET, POST, PUT, PATCH, DELETE',
      },
    ]);
  });

  it('rejects a duplicate eventType at the second occurrence', () => {
    const mapping = withRequest(
      {},
      {
        eventTypeMapping: {
          operationMappings: [
            { eventType: 'TASK.CREATED', operation: 'POST' },
            { eventType: 'TASK.UPDATED', operation: 'PATCH' },
            { eventType: 'TASK.CREATED', operation: 'PUT' },
          ],
        },
      },
    );
    expect(errors(mapping)).toEqual([
      {
        pointer: '/eventTypeMapping/operationMappings/2/eventType',
        message: 'duplicate eventType "TASK.CREATED" (first mapped at /eventTypeMapping/operationMappings/0)',
      },
    ]);
  });

  it('rejects invalid externalIdProperty and responseRoot values', () => {
    const mapping = withRequest(
      {},
      {
        eventTypeMapping: {
          operationMappings: [
            { eventType: 'A', operation: 'POST', externalIdProperty: 'id' },
            { eventType: 'B', operation: 'POST', externalIdProperty: '/a~2b' },
            { eventType: 'C', operation: 'POST', externalIdProperty: 7 },
            { eventType: 'D', operation: 'POST', responseRoot: 'result..x' },
          ],
        },
      },
    );
    expect(errors(mapping)).toEqual([
      {
        pointer: '/eventTypeMapping/operationMappings/0/externalIdProperty',
        message:
          'invalid externalIdProperty "id": must be a JSON Pointer relative to responseRoot, such as "/id" (did you mean "/id"?)',
      },
      {
        pointer: '/eventTypeMapping/operationMappings/1/externalIdProperty',
        message:
          'invalid externalIdProperty "/a~2b": must be a JSON Pointer relative to responseRoot, such as "/id"',
      },
      {
        pointer: '/eventTypeMapping/operationMappings/2/externalIdProperty',
        message: '"externalIdProperty" must be a string, not number 7',
      },
      {
        pointer: '/eventTypeMapping/operationMappings/3/responseRoot',
        message:
          'invalid responseRoot "result..x": use "" for the whole body, a dot path such as "result", or a JSON Pointer such as "/result"',
      },
    ]);
  });

  it('rejects malformed switches, duplicate switch names and switch cycles', () => {
    const mapping = withRequest(
      { a: '${SWITCH(a,x)}' },
      {
        switches: [
          { name: 'a', cases: [{ when: 'X', then: '${SWITCH(b,y)}' }] },
          { name: 'b', cases: [{ when: { nested: true }, then: 1 }, { then: 2 }], default: '${SWITCH(a,z)}' },
          { name: 'a', cases: [] },
          { cases: [] },
        ],
      },
    );
    expect(errors(mapping)).toEqual([
      { pointer: '/switches/0', message: 'switch cycle: a → b → a; a switch cannot depend on itself' },
      {
        pointer: '/switches/1/cases/0/when',
        message: '"when" must be a string, number, boolean or null, not an object',
      },
      { pointer: '/switches/1/cases/1', message: 'a case needs "when" (use null to match a missing value)' },
      { pointer: '/switches/2/name', message: 'duplicate switch name "a" (first defined at /switches/0)' },
      { pointer: '/switches/3/name', message: 'a switch needs a non-empty string "name"' },
    ]);
  });

  it('requires the response mapping to be an object of fields', () => {
    expect(errors(withRequest({}, { structure: { request: {}, response: ['#{id}'] } }))).toEqual([
      {
        pointer: '/structure/response',
        message: 'a response mapping must be an object of Cloud ALM fields, not an array',
      },
    ]);
  });

  it('warns about ignored GET request templates, missing request templates and unknown keys', () => {
    const result = validateMapping({
      _information: { _version: '1' },
      strucutre: {},
      eventTypeMapping: {
        _comment: 'comments are fine',
        operationMappings: [
          { eventType: 'P', operation: 'GET', structure: { request: { a: 1 } } },
          { eventType: 'Q', operation: 'POST', pth: '/x' },
        ],
      },
    });
    expect(result.valid).toBe(true);
    expect(result.issues).toEqual([
      { severity: 'warning', pointer: '/strucutre', message: 'unknown key "strucutre" is ignored' },
      {
        severity: 'warning',
        pointer: '/eventTypeMapping/operationMappings/0/structure/request',
        message: 'GET sends no body; this request template is ignored',
      },
      {
        severity: 'warning',
        pointer: '/eventTypeMapping/operationMappings/1',
        message: 'POST has no request template; the call is sent without a body',
      },
      {
        severity: 'warning',
        pointer: '/eventTypeMapping/operationMappings/1/pth',
        message: 'unknown key "pth" is ignored',
      },
    ]);
  });

  it('escapes "/" and "~" in pointers (RFC 6901)', () => {
    expect(errors(withRequest({ 'a/b~c': '#{' })).map((issue) => issue.pointer)).toEqual([
      '/structure/request/a~1b~0c',
    ]);
  });
});
