import {
  isRecord,
  type JsonObject,
  type JsonValue,
  setOwn,
  toText,
  toTypedValue,
} from '../json/json-value.js';
import type { Reference, TemplatePart } from './ast.js';
import type { EvaluationContext, TextFn, ValueFn } from './context.js';
import { parseTemplateString } from './parse.js';

export type TemplateFn = (context: EvaluationContext) => JsonValue;

export interface CompileOptions {
  /** Look up a path in the stored response-mapped fields when the context object lacks it. */
  storedFieldFallback: boolean;
}

/** Compiled switches by name; filled in dependency order so that a switch's cases can use other switches. */
export type SwitchTable = ReadonlyMap<string, (value: unknown, context: EvaluationContext) => unknown>;

/**
 * Turns a JSON template into a closure tree. Expects a template that passed validation: parse errors and
 * unknown switches are ignored here (the part evaluates to missing) rather than reported.
 */
export function compileTemplate(
  template: unknown,
  switches: SwitchTable,
  options: CompileOptions,
): TemplateFn {
  if (typeof template === 'string') return compileValueString(template, switches, options);
  if (Array.isArray(template)) {
    const items = template.map((item) => compileTemplate(item, switches, options));
    return (context) => {
      const out: JsonValue[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) out[i] = items[i]!(context);
      return out;
    };
  }
  if (isRecord(template)) {
    const keys = Object.keys(template);
    const values = keys.map((key) => compileTemplate(template[key], switches, options));
    const count = keys.length;
    if (keys.includes('__proto__')) {
      return (context) => {
        const out: JsonObject = {};
        for (let i = 0; i < count; i++) setOwn(out, keys[i]!, values[i]!(context));
        return out;
      };
    }
    // Cloning a pre-shaped object gives every result the final hidden class at once instead of growing
    // it key by key, which is the dominant cost of evaluation (keys are data, never generated code).
    const shape: JsonObject = {};
    for (const key of keys) shape[key] = null;
    return (context) => {
      const out: JsonObject = { ...shape };
      for (let i = 0; i < count; i++) out[keys[i]!] = values[i]!(context);
      return out;
    };
  }
  const constant = toTypedValue(template);
  return () => constant;
}

/**
 * A string that is exactly one expression keeps the value's JSON type (missing → null); anything else is
 * interpolated text where each expression contributes its text form (missing → "").
 */
function compileValueString(text: string, switches: SwitchTable, options: CompileOptions): TemplateFn {
  const { parts } = parseTemplateString(text);
  if (parts.length === 0) return () => text;
  if (parts.length === 1) {
    const only = parts[0]!;
    if (only.kind === 'text') {
      const constant = only.text;
      return () => constant;
    }
    if (only.kind === 'placeholder' && only.reference.kind !== 'path') {
      // Built-ins and user variables always yield strings, so no type conversion is needed.
      return compileReference(only.reference, options) as TemplateFn;
    }
    const value = compilePart(only, switches, options);
    return (context) => {
      const resolved = value(context);
      return typeof resolved === 'string' ? resolved : toTypedValue(resolved);
    };
  }
  return compileInterpolation(parts, switches, options, toText);
}

/** Path templates: inserted values are URL-encoded as one segment each, the template's own text stays. */
export function compilePathString(text: string, switches: SwitchTable, options: CompileOptions): TextFn {
  const { parts } = parseTemplateString(text);
  return compileInterpolation(parts, switches, options, (value) => encodePathValue(toText(value)));
}

function compileInterpolation(
  parts: readonly TemplatePart[],
  switches: SwitchTable,
  options: CompileOptions,
  render: (value: unknown) => string,
): TextFn {
  if (parts.length === 0) return () => '';
  // Literal text is folded into the following expression so that the loop does one call per expression.
  const prefixes: string[] = [];
  const values: ValueFn[] = [];
  let pending = '';
  for (const part of parts) {
    if (part.kind === 'text') {
      pending += part.text;
    } else {
      prefixes.push(pending);
      values.push(compilePart(part, switches, options));
      pending = '';
    }
  }
  const suffix = pending;
  const count = values.length;
  if (count === 0) return () => suffix;
  if (count === 1) {
    const prefix = prefixes[0]!;
    const value = values[0]!;
    return (context) => prefix + render(value(context)) + suffix;
  }
  return (context) => {
    let out = '';
    for (let i = 0; i < count; i++) out += prefixes[i]! + render(values[i]!(context));
    return out + suffix;
  };
}

function compilePart(part: TemplatePart, switches: SwitchTable, options: CompileOptions): ValueFn {
  if (part.kind === 'text') {
    const text = part.text;
    return () => text;
  }
  const reference = compileReference(part.reference, options);
  if (part.kind === 'placeholder') return reference;
  const evaluateSwitch = switches.get(part.switchName);
  if (!evaluateSwitch) return () => undefined;
  return (context) => evaluateSwitch(reference(context), context);
}

/** Resolution order: built-ins, then the context object, then the link's stored fields. */
export function compileReference(reference: Reference, options: CompileOptions): ValueFn {
  switch (reference.kind) {
    case 'cloudAlmUrl':
      return (context) => context.cloudAlmUrl;
    case 'cloudAlmExternalId':
      return (context) => context.externalId;
    case 'userVariable': {
      const name = reference.name;
      const inheritable = isInheritedName(name);
      return (context) => {
        const variables = context.userVariables;
        if (variables === undefined || (inheritable && !Object.hasOwn(variables, name))) return '';
        const value = variables[name];
        return typeof value === 'string' ? value : toText(value);
      };
    }
    case 'path':
      return compilePath(reference.segments, options);
  }
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

function compilePath(segments: readonly string[], options: CompileOptions): ValueFn {
  const only = segments.length === 1 ? segments[0]! : undefined;
  if (only !== undefined && !ARRAY_INDEX.test(only) && !isInheritedName(only)) {
    return compileFieldLookup(only, options);
  }
  const resolve = compileResolver(segments);
  if (!options.storedFieldFallback) return (context) => resolve(context.data);
  return (context) => {
    const value = resolve(context.data);
    if (value !== undefined) return value;
    return context.stored === undefined ? undefined : resolve(context.stored);
  };
}

/**
 * The most common placeholder, one plain field name, as a single closure. The link's external id answers
 * `#{externalId}` when no stored field of that name exists (older mappings use "/#{externalId}" in paths
 * after a response mapping that did not map it).
 */
function compileFieldLookup(field: string, options: CompileOptions): ValueFn {
  const isExternalId = field === 'externalId';
  const fallback = options.storedFieldFallback;
  return (context) => {
    const data = context.data;
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
      const value = (data as Record<string, unknown>)[field];
      if (value !== undefined) return value;
    }
    if (!fallback) return undefined;
    const stored = context.stored;
    if (stored !== undefined) {
      const value = stored[field];
      if (value !== undefined) return value;
    }
    return isExternalId && context.externalId !== '' ? context.externalId : undefined;
  };
}

/** Specialised for the common one- and two-segment paths; numeric segments index arrays. */
export function compileResolver(segments: readonly string[]): (root: unknown) => unknown {
  const steps = segments.map(compileStep);
  if (steps.length === 1) return steps[0]!;
  if (steps.length === 2) {
    const first = steps[0]!;
    const second = steps[1]!;
    return (root) => {
      const middle = first(root);
      return middle === undefined ? undefined : second(middle);
    };
  }
  return (root) => {
    let current = root;
    for (let i = 0; i < steps.length && current !== undefined; i++) current = steps[i]!(current);
    return current;
  };
}

function compileStep(segment: string): (value: unknown) => unknown {
  const inheritable = isInheritedName(segment);
  if (!ARRAY_INDEX.test(segment)) {
    if (inheritable) {
      return (value) =>
        typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, segment)
          ? (value as Record<string, unknown>)[segment]
          : undefined;
    }
    return (value) =>
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)[segment]
        : undefined;
  }
  const index = Number(segment);
  return (value) => {
    if (typeof value !== 'object' || value === null) return undefined;
    if (Array.isArray(value)) return value[index];
    return Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
  };
}

/**
 * Only names that exist on Object.prototype (`constructor`, `toString`, `__proto__`, …) can resolve to
 * something the data does not own, so only they pay for an own-property check.
 */
export function isInheritedName(name: string): boolean {
  return name in Object.prototype;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** encodeURIComponent throws on lone surrogates; those become U+FFFD first. */
export function encodePathValue(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(LONE_SURROGATE, '\uFFFD'));
  }
}
