import type { MappingIssue } from '../validate/issues.js';

export type ParsedJson = { ok: true; value: unknown } | { ok: false; issue: MappingIssue };

/** JSON.parse with the failure turned into a located issue instead of an exception. */
export function parseJsonText(text: string): ParsedJson {
  // A UTF-8 BOM is common in files saved by Windows editors and is not part of the JSON.
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(source) };
  } catch (error) {
    // V8 does not report a position for every kind of error, so the scanner finds it.
    const located = locateJsonError(source) ?? {
      offset: 0,
      message: error instanceof Error ? error.message : String(error),
    };
    const { line, column } = lineAndColumn(source, located.offset);
    return {
      ok: false,
      issue: { severity: 'error', pointer: '', message: `malformed JSON: ${located.message}`, line, column },
    };
  }
}

interface JsonSyntaxError {
  offset: number;
  message: string;
}

/** A minimal RFC 8259 scanner whose only job is to say where and why a text is not JSON. */
export function locateJsonError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (message: string): never => {
    throw { offset: i, message } satisfies JsonSyntaxError;
  };
  const describeHere = () => (i >= text.length ? 'end of input' : JSON.stringify(text[i]));
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describeHere()}, expected a value`);
  };
  const string = () => {
    i++;
    while (i < text.length) {
      const char = text[i]!;
      if (char === '"') {
        i++;
        return;
      }
      if (char === '\\') {
        const escaped = text[i + 1];
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape in string');
          i += 6;
        } else if (escaped !== undefined && '"\\/bfnrt'.includes(escaped)) i += 2;
        else fail(`invalid escape "\\${escaped ?? ''}" in string`);
      } else if (char.charCodeAt(0) < 0x20) {
        fail('unescaped control character (such as a line break) in string');
      } else i++;
    }
    fail('unterminated string');
  };
  const number = () => {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!match) fail(`invalid number`);
    i += match![0].length;
  };
  const value = (): void => {
    skipSpace();
    const char = text[i];
    if (char === '{') {
      i++;
      skipSpace();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        if (text[i] !== '"') fail(`unexpected ${describeHere()}, expected a double-quoted property name`);
        string();
        skipSpace();
        if (text[i] !== ':') fail(`unexpected ${describeHere()}, expected ":" after the property name`);
        i++;
        value();
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`unexpected ${describeHere()}, expected "," or "}"`);
      }
    }
    if (char === '[') {
      i++;
      skipSpace();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        skipSpace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`unexpected ${describeHere()}, expected "," or "]"`);
      }
    }
    if (char === '"') string();
    else if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) number();
    else if (char === 't') literal('true');
    else if (char === 'f') literal('false');
    else if (char === 'n') literal('null');
    else fail(`unexpected ${describeHere()}, expected a value`);
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail(`unexpected ${describeHere()} after the end of the JSON value`);
    return undefined;
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'offset' in error) return error as JsonSyntaxError;
    // Only a stack overflow on absurdly deep nesting gets here.
    return { offset: i, message: 'nesting too deep' };
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
