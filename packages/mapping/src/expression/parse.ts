import type { ExpressionError, ParsedTemplateString, Reference, TemplatePart } from './ast.js';

export const BUILT_IN_FUNCTIONS = ['@USER_VAR(name)', '@CLOUD_ALM_URL', '@CLOUD_ALM_EXTERNAL_ID'] as const;

const SWITCH_PREFIX = 'SWITCH(';
const FORBIDDEN_IN_PATH = /[\s{}(),#$]/;

/**
 * Splits a template string into literal text, `#{…}` placeholders and `${SWITCH(name,path)}` switches.
 * There is no escape syntax: `#{` and `${` always open an expression, a lone `}` is plain text.
 */
export function parseTemplateString(text: string): ParsedTemplateString {
  const parts: TemplatePart[] = [];
  const errors: ExpressionError[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if ((char === '#' || char === '$') && text[i + 1] === '{') {
      const close = findClose(text, i + 2);
      if (close.kind === 'unterminated') {
        errors.push({
          offset: i,
          message: `unbalanced expression: "${char}{" at character ${i} is never closed by "}" in ${JSON.stringify(text)}`,
        });
        break;
      }
      if (close.kind === 'nested') {
        errors.push({
          offset: close.index,
          message: `"${text.slice(close.index, close.index + 2)}" inside the expression opened at character ${i}; expressions cannot be nested`,
        });
        i = close.index;
        continue;
      }
      const body = text.slice(i + 2, close.index);
      const source = text.slice(i, close.index + 1);
      const part =
        char === '#' ? parsePlaceholder(body, source, i, errors) : parseSwitch(body, source, i, errors);
      if (part) {
        if (literal) parts.push({ kind: 'text', text: literal });
        literal = '';
        parts.push(part);
      }
      i = close.index + 1;
      continue;
    }
    literal += char;
    i++;
  }
  if (literal) parts.push({ kind: 'text', text: literal });
  return { parts, errors };
}

type Close = { kind: 'found'; index: number } | { kind: 'unterminated' } | { kind: 'nested'; index: number };

function findClose(text: string, from: number): Close {
  for (let j = from; j < text.length; j++) {
    const char = text[j];
    if (char === '}') return { kind: 'found', index: j };
    if ((char === '#' || char === '$') && text[j + 1] === '{') return { kind: 'nested', index: j };
  }
  return { kind: 'unterminated' };
}

function parsePlaceholder(
  body: string,
  source: string,
  offset: number,
  errors: ExpressionError[],
): TemplatePart | undefined {
  if (/^\s*SWITCH\s*\(/.test(body)) {
    errors.push({
      offset,
      message: `${source}: a switch is written "\${SWITCH(name,path)}", not "#{SWITCH(…)}"`,
    });
    return undefined;
  }
  const reference = parseReference(body, source, offset, errors);
  return reference ? { kind: 'placeholder', reference, source } : undefined;
}

function parseSwitch(
  body: string,
  source: string,
  offset: number,
  errors: ExpressionError[],
): TemplatePart | undefined {
  const trimmed = body.trim();
  if (!trimmed.startsWith(SWITCH_PREFIX)) {
    const name = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(trimmed)?.[1];
    errors.push({
      offset,
      message: name
        ? `${source}: unknown function "${name}"; only \${SWITCH(name,path)} is supported (names are case-sensitive)`
        : `${source}: malformed expression; "\${…}" must be \${SWITCH(name,path)}`,
    });
    return undefined;
  }
  if (!trimmed.endsWith(')')) {
    errors.push({ offset, message: `${source}: malformed switch, missing ")" before "}"` });
    return undefined;
  }
  const args = trimmed.slice(SWITCH_PREFIX.length, -1);
  const comma = topLevelComma(args);
  if (comma < 0) {
    errors.push({ offset, message: `${source}: SWITCH takes two arguments, a switch name and a path` });
    return undefined;
  }
  const switchName = args.slice(0, comma).trim();
  const argument = args.slice(comma + 1);
  if (switchName === '' || FORBIDDEN_IN_PATH.test(switchName)) {
    errors.push({ offset, message: `${source}: invalid switch name "${switchName}"` });
    return undefined;
  }
  if (topLevelComma(argument) >= 0) {
    errors.push({
      offset,
      message: `${source}: SWITCH takes exactly two arguments, a switch name and a path`,
    });
    return undefined;
  }
  const reference = parseReference(argument, source, offset, errors);
  return reference ? { kind: 'switch', switchName, reference, source, offset } : undefined;
}

function topLevelComma(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) return i;
  }
  return -1;
}

function parseReference(
  raw: string,
  source: string,
  offset: number,
  errors: ExpressionError[],
): Reference | undefined {
  const text = raw.trim();
  if (text === '') {
    errors.push({ offset, message: `${source}: empty expression` });
    return undefined;
  }
  if (text.startsWith('@')) return parseBuiltIn(text, source, offset, errors);
  const segments = text.split('.');
  for (const segment of segments) {
    if (segment === '') {
      errors.push({ offset, message: `${source}: empty segment in path "${text}"` });
      return undefined;
    }
    if (FORBIDDEN_IN_PATH.test(segment)) {
      errors.push({ offset, message: `${source}: invalid character in path segment "${segment}"` });
      return undefined;
    }
  }
  return { kind: 'path', segments };
}

function parseBuiltIn(
  text: string,
  source: string,
  offset: number,
  errors: ExpressionError[],
): Reference | undefined {
  const match = /^@([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^()]*)\))?$/.exec(text);
  if (!match) {
    errors.push({ offset, message: `${source}: malformed function call "${text}"` });
    return undefined;
  }
  const name = match[1]!;
  const argument = match[2];
  switch (name) {
    case 'CLOUD_ALM_URL':
    case 'CLOUD_ALM_EXTERNAL_ID':
      if (argument !== undefined) {
        errors.push({ offset, message: `${source}: @${name} takes no arguments` });
        return undefined;
      }
      return name === 'CLOUD_ALM_URL' ? { kind: 'cloudAlmUrl' } : { kind: 'cloudAlmExternalId' };
    case 'USER_VAR': {
      const variable = argument?.trim() ?? '';
      if (variable === '' || FORBIDDEN_IN_PATH.test(variable)) {
        errors.push({
          offset,
          message: `${source}: @USER_VAR needs one variable name, as in @USER_VAR(name)`,
        });
        return undefined;
      }
      return { kind: 'userVariable', name: variable };
    }
    default:
      errors.push({
        offset,
        message: `${source}: unknown function "@${name}"; supported: ${BUILT_IN_FUNCTIONS.join(', ')} (names are case-sensitive)`,
      });
      return undefined;
  }
}
