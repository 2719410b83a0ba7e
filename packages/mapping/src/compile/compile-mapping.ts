import type { Reference } from '../expression/ast.js';
import {
  type CompileOptions,
  compilePathString,
  compileReference,
  compileResolver,
  compileTemplate,
  type SwitchTable,
  type TemplateFn,
} from '../expression/compile.js';
import type { TextFn, ValueFn } from '../expression/context.js';
import { parseTemplateString } from '../expression/parse.js';
import type {
  HttpMethod,
  MappingFormat,
  NormalisedMapping,
  NormalisedOperation,
  NormalisedSwitch,
  NormaliseOptions,
} from '../format/types.js';
import { parseJsonPointer, resolveTokens } from '../json/json-pointer.js';
import { toText } from '../json/json-value.js';
import type { MappingIssue } from '../validate/issues.js';
import { analyseMapping } from '../validate/validate-mapping.js';

export interface MappingOptions extends NormaliseOptions {
  /**
   * Resolve a placeholder the context object lacks from the link's stored response-mapped fields
   * (reference §9: `"/#{externalId}"` after a CREATE that mapped `externalId`). Default true.
   */
  storedFieldFallback?: boolean;
  /**
   * Skip an operation whose path needs the external id (`#{@CLOUD_ALM_EXTERNAL_ID}` or `#{externalId}`)
   * when there is none yet, instead of calling a collection URL (reference §7). Default true.
   */
  skipWhenExternalIdMissing?: boolean;
}

export interface CompiledOperation {
  readonly eventType: string;
  readonly method: HttpMethod;
  /** False for GET and DELETE. */
  readonly hasBody: boolean;
  readonly path: TextFn;
  /** References in the path that must not be empty when `skipWhenExternalIdMissing` is on. */
  readonly externalIdGuards: readonly ValueFn[];
  readonly request: TemplateFn | undefined;
  readonly response: TemplateFn | undefined;
  readonly responseRoot: (body: unknown) => unknown;
  readonly externalIdTokens: readonly string[] | undefined;
}

export interface CompiledMapping {
  readonly format: MappingFormat;
  readonly information: Readonly<Record<string, string>>;
  readonly eventTypes: readonly string[];
  readonly warnings: readonly MappingIssue[];
  operationFor(eventType: string): CompiledOperation | undefined;
}

export type CompileResult =
  | { ok: true; mapping: CompiledMapping; issues: MappingIssue[] }
  | { ok: false; issues: MappingIssue[] };

const objectCache = new WeakMap<object, Map<string, CompileResult>>();
const textCache = new Map<string, CompileResult>();
const TEXT_CACHE_LIMIT = 256;

/**
 * Validates and compiles a mapping (JSON text or parsed value) into closures. Results are cached per mapping
 * object (treat it as immutable afterwards) or per JSON text, so repeated calls cost a lookup.
 */
export function compileMapping(input: unknown, options: MappingOptions = {}): CompileResult {
  const optionsKey = `${options.ruleBasedBareFieldNames === true}|${options.storedFieldFallback !== false}|${options.skipWhenExternalIdMissing !== false}`;
  if (typeof input === 'string') {
    const key = `${optionsKey}\u0000${input}`;
    const cached = textCache.get(key);
    if (cached) {
      // Refresh recency so that the bounded cache evicts the least recently used text.
      textCache.delete(key);
      textCache.set(key, cached);
      return cached;
    }
    const result = compileUncached(input, options);
    textCache.set(key, result);
    if (textCache.size > TEXT_CACHE_LIMIT) textCache.delete(textCache.keys().next().value as string);
    return result;
  }
  if (typeof input === 'object' && input !== null) {
    let byOptions = objectCache.get(input);
    if (!byOptions) {
      byOptions = new Map();
      objectCache.set(input, byOptions);
    }
    const cached = byOptions.get(optionsKey);
    if (cached) return cached;
    const result = compileUncached(input, options);
    byOptions.set(optionsKey, result);
    return result;
  }
  return compileUncached(input, options);
}

function compileUncached(input: unknown, options: MappingOptions): CompileResult {
  const analysed = analyseMapping(input, options);
  if (!analysed.valid || !analysed.normalised) return { ok: false, issues: analysed.issues };
  const compileOptions: CompileOptions = { storedFieldFallback: options.storedFieldFallback !== false };
  const mapping = buildCompiledMapping(
    analysed.normalised,
    analysed.issues,
    compileOptions,
    options.skipWhenExternalIdMissing !== false,
  );
  return { ok: true, mapping, issues: analysed.issues };
}

function buildCompiledMapping(
  normalised: NormalisedMapping,
  warnings: readonly MappingIssue[],
  options: CompileOptions,
  guardExternalId: boolean,
): CompiledMapping {
  const switches = compileSwitches(normalised.switches, options);
  const defaultRequest =
    normalised.request === undefined
      ? undefined
      : compileTemplate(normalised.request.value, switches, options);
  const defaultResponse =
    normalised.response === undefined
      ? undefined
      : compileTemplate(normalised.response.value, switches, options);
  const operations = new Map<string, CompiledOperation>();
  for (const operation of normalised.operations) {
    operations.set(
      operation.eventType,
      compileOperation(operation, defaultRequest, defaultResponse, switches, options, guardExternalId),
    );
  }
  return {
    format: normalised.format,
    information: normalised.information,
    eventTypes: [...operations.keys()],
    warnings,
    operationFor: (eventType) => operations.get(eventType),
  };
}

function compileOperation(
  operation: NormalisedOperation,
  defaultRequest: TemplateFn | undefined,
  defaultResponse: TemplateFn | undefined,
  switches: SwitchTable,
  options: CompileOptions,
  guardExternalId: boolean,
): CompiledOperation {
  const hasBody = operation.method !== 'GET' && operation.method !== 'DELETE';
  const pathText = operation.path?.text ?? '';
  return {
    eventType: operation.eventType,
    method: operation.method,
    hasBody,
    path: compilePathString(pathText, switches, options),
    externalIdGuards: guardExternalId ? externalIdReferences(pathText, options) : [],
    request: !hasBody
      ? undefined
      : operation.request
        ? compileTemplate(operation.request.value, switches, options)
        : defaultRequest,
    response: operation.response
      ? compileTemplate(operation.response.value, switches, options)
      : defaultResponse,
    responseRoot: compileResponseRoot(operation.responseRoot.text),
    externalIdTokens:
      operation.externalIdProperty === undefined
        ? undefined
        : parseJsonPointer(operation.externalIdProperty.text),
  };
}

function externalIdReferences(pathText: string, options: CompileOptions): ValueFn[] {
  const guards: ValueFn[] = [];
  for (const part of parseTemplateString(pathText).parts) {
    if (part.kind === 'placeholder' && refersToExternalId(part.reference)) {
      guards.push(compileReference(part.reference, options));
    }
  }
  return guards;
}

function refersToExternalId(reference: Reference): boolean {
  return (
    reference.kind === 'cloudAlmExternalId' ||
    (reference.kind === 'path' && reference.segments.length === 1 && reference.segments[0] === 'externalId')
  );
}

/** "" is the whole body; "/a/b" is a JSON Pointer; anything else is a dot path like placeholders use. */
function compileResponseRoot(root: string): (body: unknown) => unknown {
  if (root === '') return (body) => body;
  if (root.startsWith('/')) {
    const tokens = parseJsonPointer(root) ?? [];
    return (body) => resolveTokens(body, tokens);
  }
  return compileResolver(root.split('.'));
}

/**
 * First matching case wins. `when: null` matches a missing or null value, any other `when` matches a value
 * whose text is exactly equal (case-sensitive; numbers and booleans compare by their JSON text, so 30 matches
 * "30"). Objects and arrays match no case. The chosen `then`/`default` is itself a template.
 */
function compileSwitches(definitions: readonly NormalisedSwitch[], options: CompileOptions): SwitchTable {
  const table = new Map<string, (value: unknown, context: Parameters<TemplateFn>[0]) => unknown>();
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  const compileOne = (definition: NormalisedSwitch): void => {
    if (table.has(definition.name)) return;
    // Dependencies first: a then/default may use other switches, and validation ruled out cycles.
    for (const dependency of switchDependencies(definition)) {
      const target = byName.get(dependency);
      if (target && target !== definition) compileOne(target);
    }
    let nullCase: TemplateFn | undefined;
    const textCases = new Map<string, TemplateFn>();
    for (const switchCase of definition.cases) {
      const result = compileTemplate(switchCase.result.value, table, options);
      if (switchCase.when === null) nullCase ??= result;
      else {
        const key = String(switchCase.when);
        if (!textCases.has(key)) textCases.set(key, result);
      }
    }
    const fallback = definition.defaultValue
      ? compileTemplate(definition.defaultValue.value, table, options)
      : undefined;
    table.set(definition.name, (value, context) => {
      let chosen: TemplateFn | undefined;
      if (value === undefined || value === null) chosen = nullCase;
      else if (typeof value === 'string') chosen = textCases.get(value);
      else if (typeof value === 'number' || typeof value === 'boolean') chosen = textCases.get(toText(value));
      chosen ??= fallback;
      return chosen === undefined ? undefined : chosen(context);
    });
  };
  for (const definition of definitions) compileOne(definition);
  return table;
}

function switchDependencies(definition: NormalisedSwitch): string[] {
  const names: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const part of parseTemplateString(value).parts)
        if (part.kind === 'switch') names.push(part.switchName);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) visit(item);
    }
  };
  for (const switchCase of definition.cases) visit(switchCase.result.value);
  if (definition.defaultValue) visit(definition.defaultValue.value);
  return names;
}
