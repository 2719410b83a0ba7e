import { badRequest } from './errors.js';

/** A JSON request body read field by field, so every bad input becomes a precise 400. */
export type Body = Record<string, unknown>;

export function asBody(value: unknown, what = 'request body'): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`The ${what} must be a JSON object`);
  }
  return value as Body;
}

export function rejectUnknown(body: Body, allowed: readonly string[], what = 'request body'): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badRequest(`Property '${key}' is not allowed in the ${what}`);
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** NUL characters and lone surrogates cannot be stored by PostgreSQL; refuse them up front as a 400. */
export function checkStorable(value: string, what: string): string {
  if (value.includes('\u0000') || LONE_SURROGATE.test(value))
    throw badRequest(`${what} contains characters that cannot be stored (NUL or an unpaired surrogate)`);
  return value;
}

export function has(body: Body, key: string): boolean {
  return Object.hasOwn(body, key);
}

export function str(
  body: Body,
  key: string,
  options: { max?: number; required?: boolean } = {},
): string | null | undefined {
  if (!has(body, key)) {
    if (options.required) throw badRequest(`Property '${key}' is required`);
    return undefined;
  }
  const value = body[key];
  if (value === null) {
    if (options.required) throw badRequest(`Property '${key}' must not be null`);
    return null;
  }
  if (typeof value !== 'string') throw badRequest(`Property '${key}' must be a string`);
  checkStorable(value, `Property '${key}'`);
  if (options.required && value.trim() === '') throw badRequest(`Property '${key}' must not be empty`);
  if (options.max !== undefined && value.length > options.max) {
    throw badRequest(`Property '${key}' exceeds the maximum length of ${options.max}`);
  }
  return value;
}

export function requiredStr(body: Body, key: string, max?: number): string {
  return str(body, key, { required: true, ...(max === undefined ? {} : { max }) }) as string;
}

export function num(
  body: Body,
  key: string,
  options: { min?: number; integer?: boolean } = {},
): number | null | undefined {
  if (!has(body, key)) return undefined;
  const value = body[key];
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw badRequest(`Property '${key}' must be a number`);
  if (options.integer && !Number.isInteger(value)) throw badRequest(`Property '${key}' must be an integer`);
  if (options.min !== undefined && value < options.min)
    throw badRequest(`Property '${key}' must be at least ${options.min}`);
  return value;
}

export function bool(body: Body, key: string): boolean | undefined {
  if (!has(body, key)) return undefined;
  const value = body[key];
  if (typeof value !== 'boolean') throw badRequest(`Property '${key}' must be a boolean`);
  return value;
}
