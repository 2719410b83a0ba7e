import { isRecord } from './json-value.js';

/** RFC 6901 reference tokens, or `undefined` when the text is not a valid pointer. */
export function parseJsonPointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const tokens = pointer.slice(1).split('/');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (/~(?![01])/.test(token)) return undefined;
    tokens[i] = token.replace(/~1/g, '/').replace(/~0/g, '~');
  }
  return tokens;
}

export function formatJsonPointer(tokens: readonly (string | number)[]): string {
  let out = '';
  for (const token of tokens) out += `/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;
  return out;
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** Resolves pointer tokens against a value; only own properties count, and arrays take canonical indexes. */
export function resolveTokens(root: unknown, tokens: readonly string[]): unknown {
  let current = root;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(token)) return undefined;
      current = current[Number(token)];
    } else if (isRecord(current)) {
      if (!Object.hasOwn(current, token)) return undefined;
      current = current[token];
    } else {
      return undefined;
    }
  }
  return current;
}
