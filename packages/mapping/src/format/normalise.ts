import { parseJsonPointer } from '../json/json-pointer.js';
import { isRecord } from '../json/json-value.js';
import type { IssueCollector } from '../validate/issues.js';
import {
  HTTP_METHODS,
  type HttpMethod,
  type LocatedTemplate,
  type LocatedText,
  type MappingFormat,
  type NormalisedMapping,
  type NormalisedOperation,
  type NormalisedSwitch,
  type NormaliseOptions,
  type PointerPath,
} from './types.js';

const TOP_LEVEL_KEYS = new Set(['switches', 'structure', 'eventTypeMapping', 'request', 'response']);
const OPERATION_KEYS = new Set([
  'eventType',
  'operation',
  'path',
  'responseRoot',
  'externalIdProperty',
  'structure',
]);
const STRUCTURE_KEYS = new Set(['request', 'response']);

/**
 * Checks the document's shape and reduces both formats to one form. Reports structural problems only;
 * expressions inside templates are checked separately. Returns a best-effort result even with errors.
 */
export function normaliseMapping(
  document: unknown,
  issues: IssueCollector,
  options: NormaliseOptions = {},
): NormalisedMapping | undefined {
  if (!isRecord(document)) {
    issues.error([], `a mapping must be a JSON object, not ${describe(document)}`);
    return undefined;
  }
  warnUnknownKeys(document, [], TOP_LEVEL_KEYS, issues);
  const format = detectFormat(document, issues);
  const information = readInformation(document._information, issues);
  const switches = readSwitches(document.switches, issues);

  let request: LocatedTemplate | undefined;
  let response: LocatedTemplate | undefined;
  if (format === 'rule-based') {
    request = readRuleSide(document, ['request'], issues, options);
    response = readRuleSide(document, ['response'], issues, options);
  } else if (document.structure !== undefined) {
    ({ request, response } = readStructure(document.structure, ['structure'], format, issues, options));
  }

  const operations = readOperations(document.eventTypeMapping, format, issues, options);
  for (const operation of operations) {
    const effectiveRequest = operation.request ?? request;
    const hasBody = operation.method !== 'GET' && operation.method !== 'DELETE';
    if (!hasBody && operation.request) {
      issues.warning(
        [...operation.at, 'structure', 'request'],
        `${operation.method} sends no body; this request template is ignored`,
      );
    } else if (hasBody && !effectiveRequest) {
      issues.warning(
        operation.at,
        `${operation.method} has no request template; the call is sent without a body`,
      );
    }
  }
  return { format, information, switches, request, response, operations };
}

function detectFormat(document: Record<string, unknown>, issues: IssueCollector): MappingFormat {
  const hasStructure = document.structure !== undefined;
  const hasRules = document.request !== undefined || document.response !== undefined;
  if (hasStructure && hasRules) {
    const key = document.request !== undefined ? 'request' : 'response';
    issues.error(
      [key],
      `top-level "${key}" belongs to rule-based mappings, but this mapping also has the payload-based "structure"; use one format`,
    );
  }
  return hasRules && !hasStructure ? 'rule-based' : 'payload-based';
}

function readInformation(value: unknown, issues: IssueCollector): Record<string, string> {
  const information: Record<string, string> = {};
  if (value === undefined) return information;
  if (!isRecord(value)) {
    issues.error(['_information'], `"_information" must be an object, not ${describe(value)}`);
    return information;
  }
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') information[key] = entry;
    else if (typeof entry === 'number' || typeof entry === 'boolean') information[key] = String(entry);
    else issues.warning(['_information', key], `expected a string, got ${describe(entry)}`);
  }
  return information;
}

function readSwitches(value: unknown, issues: IssueCollector): NormalisedSwitch[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    issues.error(['switches'], `"switches" must be an array, not ${describe(value)}`);
    return [];
  }
  const switches: NormalisedSwitch[] = [];
  const firstByName = new Map<string, number>();
  value.forEach((entry: unknown, index) => {
    const at = ['switches', index];
    if (!isRecord(entry)) {
      issues.error(
        at,
        `a switch must be an object with "name", "cases" and "default", not ${describe(entry)}`,
      );
      return;
    }
    warnUnknownKeys(entry, at, new Set(['name', 'cases', 'default']), issues);
    const name = entry.name;
    if (typeof name !== 'string' || name.trim() === '') {
      issues.error([...at, 'name'], 'a switch needs a non-empty string "name"');
      return;
    }
    const first = firstByName.get(name);
    if (first !== undefined) {
      issues.error([...at, 'name'], `duplicate switch name "${name}" (first defined at /switches/${first})`);
      return;
    }
    firstByName.set(name, index);
    const cases: NormalisedSwitch['cases'] = [];
    if (!Array.isArray(entry.cases)) {
      issues.error(
        [...at, 'cases'],
        `"cases" must be an array of { "when", "then" }, not ${describe(entry.cases)}`,
      );
    } else {
      entry.cases.forEach((switchCase: unknown, caseIndex) => {
        const caseAt = [...at, 'cases', caseIndex];
        if (!isRecord(switchCase)) {
          issues.error(caseAt, `a case must be an object { "when", "then" }, not ${describe(switchCase)}`);
          return;
        }
        warnUnknownKeys(switchCase, caseAt, new Set(['when', 'then']), issues);
        const when = switchCase.when;
        if (!Object.hasOwn(switchCase, 'when')) {
          issues.error(caseAt, 'a case needs "when" (use null to match a missing value)');
          return;
        }
        if (when !== null && typeof when === 'object') {
          issues.error(
            [...caseAt, 'when'],
            `"when" must be a string, number, boolean or null, not ${describe(when)}`,
          );
          return;
        }
        if (!Object.hasOwn(switchCase, 'then')) {
          issues.error(caseAt, 'a case needs "then"');
          return;
        }
        cases.push({
          when: when as string | number | boolean | null,
          result: { value: switchCase.then, at: [...caseAt, 'then'] },
        });
      });
    }
    const defaultValue = Object.hasOwn(entry, 'default')
      ? { value: entry.default, at: [...at, 'default'] }
      : undefined;
    switches.push({ name, at, cases, defaultValue });
  });
  return switches;
}

function readStructure(
  value: unknown,
  at: PointerPath,
  format: MappingFormat,
  issues: IssueCollector,
  options: NormaliseOptions,
): { request: LocatedTemplate | undefined; response: LocatedTemplate | undefined } {
  if (!isRecord(value)) {
    issues.error(
      at,
      `"structure" must be an object with "request" and/or "response", not ${describe(value)}`,
    );
    return { request: undefined, response: undefined };
  }
  warnUnknownKeys(value, at, STRUCTURE_KEYS, issues);
  if (format === 'rule-based') {
    return {
      request: readRuleSide(value, [...at, 'request'], issues, options),
      response: readRuleSide(value, [...at, 'response'], issues, options),
    };
  }
  const request = value.request === undefined ? undefined : { value: value.request, at: [...at, 'request'] };
  const response = readResponseTemplate(value.response, [...at, 'response'], issues);
  return { request, response };
}

function readResponseTemplate(
  value: unknown,
  at: PointerPath,
  issues: IssueCollector,
): LocatedTemplate | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) {
    issues.error(at, `a response mapping must be an object of Cloud ALM fields, not ${describe(value)}`);
    return undefined;
  }
  return { value, at };
}

/** Rule-based sides are flat objects: every value is a scalar template. */
function readRuleSide(
  container: Record<string, unknown>,
  at: PointerPath,
  issues: IssueCollector,
  options: NormaliseOptions,
): LocatedTemplate | undefined {
  const key = at[at.length - 1] as string;
  const value = container[key];
  if (value === undefined) return undefined;
  if (!isRecord(value)) {
    issues.error(at, `a rule-based "${key}" must be a flat object of field rules, not ${describe(value)}`);
    return undefined;
  }
  const rules: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(value)) {
    if (rule !== null && typeof rule === 'object') {
      issues.error(
        [...at, field],
        `rule-based mappings are flat: "${field}" holds ${describe(rule)}; use the payload-based format ("structure") for nested templates`,
      );
      continue;
    }
    rules[field] =
      options.ruleBasedBareFieldNames && typeof rule === 'string' && isBareFieldName(rule)
        ? `#{${rule}}`
        : rule;
  }
  return { value: rules, at };
}

function isBareFieldName(text: string): boolean {
  return /^[^\s{}()#$,.]+(?:\.[^\s{}()#$,.]+)*$/.test(text);
}

function readOperations(
  value: unknown,
  format: MappingFormat,
  issues: IssueCollector,
  options: NormaliseOptions,
): NormalisedOperation[] {
  if (value === undefined) {
    issues.warning([], 'no "eventTypeMapping": no event type has an operation, so nothing will be sent');
    return [];
  }
  if (!isRecord(value)) {
    issues.error(['eventTypeMapping'], `"eventTypeMapping" must be an object, not ${describe(value)}`);
    return [];
  }
  warnUnknownKeys(value, ['eventTypeMapping'], new Set(['operationMappings']), issues);
  const list = value.operationMappings;
  const listAt = ['eventTypeMapping', 'operationMappings'];
  if (list === undefined) {
    issues.warning(['eventTypeMapping'], 'no "operationMappings": nothing will be sent');
    return [];
  }
  if (!Array.isArray(list)) {
    issues.error(listAt, `"operationMappings" must be an array, not ${describe(list)}`);
    return [];
  }
  const operations: NormalisedOperation[] = [];
  const firstByEventType = new Map<string, number>();
  list.forEach((entry: unknown, index) => {
    const at = [...listAt, index];
    if (!isRecord(entry)) {
      issues.error(at, `an operation mapping must be an object, not ${describe(entry)}`);
      return;
    }
    warnUnknownKeys(entry, at, OPERATION_KEYS, issues);
    const eventType = entry.eventType;
    let eventTypeOk = false;
    if (typeof eventType !== 'string' || eventType.trim() === '') {
      issues.error([...at, 'eventType'], 'an operation mapping needs a non-empty string "eventType"');
    } else if (firstByEventType.has(eventType)) {
      issues.error(
        [...at, 'eventType'],
        `duplicate eventType "${eventType}" (first mapped at /eventTypeMapping/operationMappings/${firstByEventType.get(eventType)})`,
      );
    } else {
      firstByEventType.set(eventType, index);
      eventTypeOk = true;
    }
    const method = readMethod(entry.operation, [...at, 'operation'], issues);
    const path = readText(entry, 'path', at, issues);
    const responseRoot = readText(entry, 'responseRoot', at, issues) ?? {
      text: '',
      at: [...at, 'responseRoot'],
    };
    if (!isValidResponseRoot(responseRoot.text)) {
      issues.error(
        responseRoot.at,
        `invalid responseRoot "${responseRoot.text}": use "" for the whole body, a dot path such as "result", or a JSON Pointer such as "/result"`,
      );
    }
    const externalIdProperty = readText(entry, 'externalIdProperty', at, issues);
    if (externalIdProperty && parseJsonPointer(externalIdProperty.text) === undefined) {
      const hint = externalIdProperty.text.startsWith('/')
        ? ''
        : ` (did you mean "/${externalIdProperty.text}"?)`;
      issues.error(
        externalIdProperty.at,
        `invalid externalIdProperty "${externalIdProperty.text}": must be a JSON Pointer relative to responseRoot, such as "/id"${hint}`,
      );
    }
    let request: LocatedTemplate | undefined;
    let response: LocatedTemplate | undefined;
    if (entry.structure !== undefined) {
      ({ request, response } = readStructure(entry.structure, [...at, 'structure'], format, issues, options));
    }
    if (eventTypeOk && method) {
      operations.push({
        eventType: eventType as string,
        method,
        at,
        path,
        responseRoot,
        externalIdProperty,
        request,
        response,
      });
    }
  });
  return operations;
}

function readMethod(value: unknown, at: PointerPath, issues: IssueCollector): HttpMethod | undefined {
  if ((HTTP_METHODS as readonly unknown[]).includes(value)) return value as HttpMethod;
  const hint =
    typeof value === 'string' && (HTTP_METHODS as readonly string[]).includes(value.trim().toUpperCase())
      ? ` (did you mean "${value.trim().toUpperCase()}"? methods are upper case)`
      : '';
  issues.error(
    at,
    value === undefined
      ? `an operation mapping needs "operation", one of ${HTTP_METHODS.join(', ')}`
      : `unsupported HTTP method ${JSON.stringify(value)}; use one of ${HTTP_METHODS.join(', ')}${hint}`,
  );
  return undefined;
}

function readText(
  entry: Record<string, unknown>,
  key: string,
  at: PointerPath,
  issues: IssueCollector,
): LocatedText | undefined {
  const value = entry[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    issues.error([...at, key], `"${key}" must be a string, not ${describe(value)}`);
    return undefined;
  }
  return { text: value, at: [...at, key] };
}

function isValidResponseRoot(text: string): boolean {
  if (text === '') return true;
  if (text.startsWith('/')) return parseJsonPointer(text) !== undefined;
  return text.split('.').every((segment) => segment !== '');
}

function warnUnknownKeys(
  value: Record<string, unknown>,
  at: PointerPath,
  known: ReadonlySet<string>,
  issues: IssueCollector,
): void {
  for (const key of Object.keys(value)) {
    // Keys starting with "_" are comments and metadata by the format's own convention.
    if (!key.startsWith('_') && !known.has(key))
      issues.warning([...at, key], `unknown key "${key}" is ignored`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
