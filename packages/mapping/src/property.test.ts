// biome-ignore-all lint/suspicious/noThenProperty: "then" is the mapping format's own key for switch cases.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompiledMapping, compileMapping } from './compile/compile-mapping.js';
import { buildOperation, mapResponse } from './operation/evaluate.js';
import type { ChangeMessage, LinkState } from './operation/types.js';
import { readExample } from './test-fixtures/examples.js';
import { validateMapping } from './validate/validate-mapping.js';

/** Any UTF-16 code unit, so lone surrogates occur (fast-check's built-in units never produce them). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const anyText = fc.string({ unit: codeUnit });

// Values as hostile as JavaScript allows short of throwing getters and proxies: bigints, dates, maps, sets,
// typed and sparse arrays, boxed primitives, null-prototype objects, "__proto__"-like keys.
const anyValue = fc.anything({
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withBoxedValues: true,
  withNullPrototype: true,
  withObjectString: true,
  maxDepth: 4,
  stringUnit: codeUnit,
});

/** Field names used by the example mappings, so that generated resources actually hit the templates. */
const FIELD_NAMES = [
  'id',
  'title',
  'description',
  'type',
  'subject',
  'body',
  'rating',
  'eventName',
  'eventType',
  'eventSubType',
  'workNotes',
  'serviceId',
  'updateTime',
  'item',
  'triggeredBy',
  'responsibleId',
  'tags',
  'status',
  'workflowStatus',
  'workflowId',
  'decision',
  'approvers',
  'sys_id',
  'number',
  'state',
  'result',
  'key',
  'self',
  'externalId',
  'priorityId',
  '_links',
  'constructor',
  '__proto__',
  'toString',
  '0',
];

const resourceLike = fc.oneof(
  anyValue,
  fc.dictionary(fc.constantFrom(...FIELD_NAMES), anyValue),
  fc.record({
    item: fc.dictionary(
      fc.constantFrom('id', 'title', 'universalId', 'responsibleId', 'statusName'),
      anyValue,
    ),
  }),
  fc.record({ result: fc.dictionary(fc.constantFrom(...FIELD_NAMES), anyValue) }),
);

const linkState: fc.Arbitrary<LinkState | undefined> = fc.option(
  fc.record(
    {
      externalId: fc.oneof(anyText, fc.constant(null), fc.constant(undefined)),
      fields: fc.dictionary(fc.constantFrom(...FIELD_NAMES), anyValue) as fc.Arbitrary<
        Record<string, unknown>
      >,
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

const environment = fc.record(
  {
    userVariables: fc.dictionary(
      fc.constantFrom(
        'projId',
        'callerId',
        'workflowDefinitionId',
        'jiraProjectKey',
        'workflowEnvironmentId',
        'x',
      ),
      anyText,
    ),
    cloudAlmUrl: anyText,
    link: linkState,
  },
  { requiredKeys: [] },
);

function exampleMappings(): [string, CompiledMapping][] {
  const names = [
    'feature-to-sap-build',
    'event-situation-to-sap-build',
    'task-replication',
    'task-to-azure-devops',
    'task-to-jira',
    'event-situation-to-servicenow',
    'event-situation-to-servicenow.rule-based',
  ].map((name) => [name, readExample(`${name}.mapping.json`)] as const);
  const sapDirectory = path.resolve(
    fileURLToPath(new URL('../../../', import.meta.url)),
    '../shared/data/sap-mappings',
  );
  const sap = existsSync(sapDirectory)
    ? readdirSync(sapDirectory)
        .filter((file) => file.endsWith('.json'))
        .map((file) => [file, readFileSync(path.join(sapDirectory, file), 'utf8')] as const)
    : [];
  return [...names, ...sap].map(([name, text]) => {
    const result = compileMapping(text);
    if (!result.ok) throw new Error(`${name} must validate`);
    return [name, result.mapping];
  });
}

/** Output must be plain JSON: serialising and parsing it again changes nothing. */
function expectPlainJson(value: unknown): void {
  if (value === undefined) return;
  const text = JSON.stringify(value);
  expect(JSON.stringify(JSON.parse(text))).toBe(text);
}

describe('validated mappings never throw', () => {
  const mappings = exampleMappings();

  it.each(mappings)('%s: arbitrary resources, variables and link state', (_name, mapping) => {
    const eventType = fc.oneof(fc.constantFrom(...mapping.eventTypes), fc.string());
    fc.assert(
      fc.property(eventType, resourceLike, anyValue, environment, (type, resource, response, env) => {
        const message: ChangeMessage = { eventType: type, resource };
        const outcome = buildOperation(mapping, message, env);
        if (outcome.kind === 'call') {
          expectPlainJson(outcome.body);
          expect(typeof outcome.path).toBe('string');
        }
        const mapped = mapResponse(mapping, type, response, env);
        if (mapped.kind === 'mapped') {
          expectPlainJson(mapped.fields);
          expectPlainJson(mapped.link);
        }
      }),
      { numRuns: 300 },
    );
  });

  // Template strings assembled from expression fragments: many are invalid, the valid ones must evaluate.
  const fragment = fc.constantFrom(
    '#{',
    '${',
    '}',
    'SWITCH(',
    'sw',
    'Sw',
    ',',
    ')',
    '(',
    'a',
    'b',
    '.',
    '0',
    '1',
    '@USER_VAR(',
    'v',
    '@CLOUD_ALM_URL',
    '@CLOUD_ALM_EXTERNAL_ID',
    '@X',
    ' ',
    '/',
    '?',
    '#',
    '$',
    'externalId',
    'constructor',
  );
  const templateString = fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join(''));
  const template: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      templateString,
      fc.jsonValue({ maxDepth: 1 }),
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie('node'), { maxKeys: 3 }),
    ),
  })).node;

  it('generated mappings: validation never throws, and valid ones evaluate to plain JSON', () => {
    let validCount = 0;
    fc.assert(
      fc.property(
        template,
        template,
        templateString,
        fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'post'),
        fc.constantFrom('', 'a', '/a/0', 'a..b', 'result'),
        fc.constantFrom(undefined, '/id', '', 'id', '/a~1b'),
        template,
        resourceLike,
        anyValue,
        environment,
        (
          request,
          response,
          pathTemplate,
          method,
          responseRoot,
          externalIdProperty,
          switchDefault,
          resource,
          reply,
          env,
        ) => {
          const document = {
            switches: [
              {
                name: 'sw',
                cases: [
                  { when: 'a', then: request },
                  { when: null, then: 'n' },
                ],
                default: switchDefault,
              },
            ],
            structure: { request, response: { field: response } },
            eventTypeMapping: {
              operationMappings: [
                { eventType: 'E', operation: method, path: pathTemplate, responseRoot, externalIdProperty },
              ],
            },
          };
          const validation = validateMapping(document);
          const compiled = compileMapping(document);
          expect(compiled.ok).toBe(validation.valid);
          if (!compiled.ok) return;
          validCount++;
          const outcome = buildOperation(compiled.mapping, { eventType: 'E', resource }, env);
          if (outcome.kind === 'call') expectPlainJson(outcome.body);
          const mapped = mapResponse(compiled.mapping, 'E', reply, env);
          if (mapped.kind === 'mapped') expectPlainJson(mapped.fields);
        },
      ),
      { numRuns: 1000 },
    );
    // Guards against a generator that only ever produces invalid mappings.
    expect(validCount).toBeGreaterThan(50);
  });

  it('validation never throws on arbitrary documents or text', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.string(), fc.json()), (input) => {
        const result = validateMapping(input);
        expect(result.valid).toBe(result.issues.every((issue) => issue.severity !== 'error'));
      }),
      { numRuns: 500 },
    );
  });
});

describe('semantic properties', () => {
  const fieldName = fc
    .stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,10}$/)
    .filter((name) => !(name in Object.prototype));

  function compileBody(request: unknown, pathTemplate = ''): CompiledMapping {
    const result = compileMapping({
      structure: { request },
      eventTypeMapping: { operationMappings: [{ eventType: 'E', operation: 'POST', path: pathTemplate }] },
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return result.mapping;
  }

  it('a whole-value placeholder returns the JSON value unchanged, whatever its type', () => {
    fc.assert(
      fc.property(fieldName, fc.jsonValue(), (name, value) => {
        const outcome = buildOperation(compileBody({ out: `#{${name}}` }), {
          eventType: 'E',
          resource: { [name]: value },
        });
        expect(JSON.stringify(outcome.kind === 'call' ? outcome.body : undefined)).toBe(
          JSON.stringify({ out: value }),
        );
      }),
    );
  });

  it('embedded string values are inserted verbatim', () => {
    fc.assert(
      fc.property(fieldName, fc.string(), fc.string(), (name, value, prefix) => {
        const safePrefix = prefix.replace(/[#$]/g, '');
        const outcome = buildOperation(compileBody(`${safePrefix}#{${name}}!`), {
          eventType: 'E',
          resource: { [name]: value },
        });
        expect(outcome).toMatchObject({ body: `${safePrefix}${value}!` });
      }),
    );
  });

  it('a value inserted into a path decodes back to itself and never adds "/" or "?"', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const outcome = buildOperation(compileBody({}, '/items/#{v}?q=#{v}'), {
          eventType: 'E',
          resource: { v: value },
        });
        if (outcome.kind !== 'call') throw new Error('expected a call');
        const match = /^\/items\/([^/?]*)\?q=([^/?]*)$/.exec(outcome.path);
        expect(match).not.toBeNull();
        expect(decodeURIComponent(match![1]!)).toBe(value);
        expect(decodeURIComponent(match![2]!)).toBe(value);
      }),
    );
  });
});
