export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Beyond this depth values are cut to `null` so that hostile input cannot overflow the stack. */
const MAX_DEPTH = 512;

/**
 * Converts any runtime value into plain JSON data (JSON.stringify semantics), never throwing: cycles and
 * excessive depth become `null`, bigints become decimal strings. The result shares nothing with the input,
 * so callers may mutate an evaluated body without touching the change message.
 */
export function toJsonValue(value: unknown): JsonValue {
  return convert(value, 0, new Set()) ?? null;
}

function convert(value: unknown, depth: number, ancestors: Set<object>): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH || ancestors.has(value)) return null;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    try {
      return convert(toJSON.call(value), depth + 1, ancestors);
    } catch {
      return null;
    }
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const out: JsonValue[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = convert(value[i], depth + 1, ancestors) ?? null;
      return out;
    }
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const converted = convert((value as Record<string, unknown>)[key], depth + 1, ancestors);
      if (converted !== undefined) setOwn(out, key, converted);
    }
    return out;
  } catch {
    return null;
  } finally {
    ancestors.delete(value);
  }
}

/** Plain assignment of `__proto__` would replace the prototype instead of creating a property. */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * The text a value contributes when embedded in a larger string: strings as-is, numbers and booleans in
 * JSON form, objects and arrays as JSON text, and missing/null (or anything JSON cannot express) as "".
 */
export function toText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : '';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      return value === null ? '' : JSON.stringify(toJsonValue(value));
    default:
      return '';
  }
}

/** Typed copy of a resolved value; scalars need no copy, which keeps the common case cheap. */
export function toTypedValue(value: unknown): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'undefined':
      return null;
    default:
      return toJsonValue(value);
  }
}
