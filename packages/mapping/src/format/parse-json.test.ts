import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { locateJsonError, parseJsonText } from './parse-json.js';

function accepts(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('parseJsonText', () => {
  it('parses JSON and ignores a UTF-8 byte order mark', () => {
    expect(parseJsonText('\uFEFF{"a": [1, "x"]}')).toEqual({ ok: true, value: { a: [1, 'x'] } });
  });

  it.each([
    ['{"a": 1,}', 1, 9, 'unexpected "}", expected a double-quoted property name'],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, 'unexpected "\\"", expected "," or "}"'],
    ['[1, 2', 1, 6, 'unexpected end of input, expected "," or "]"'],
    ['{"a": "line\nbreak"}', 1, 12, 'unescaped control character (such as a line break) in string'],
    ["{'a': 1}", 1, 2, 'unexpected "\'", expected a double-quoted property name'],
    ['{"a": tru}', 1, 7, 'unexpected "t", expected a value'],
    ['{"a": 01}', 1, 8, 'unexpected "1", expected "," or "}"'],
    ['{} {}', 1, 4, 'unexpected "{" after the end of the JSON value'],
    ['', 1, 1, 'unexpected end of input, expected a value'],
  ])('locates the error in %j at line %i column %i', (text, line, column, message) => {
    expect(parseJsonText(text)).toEqual({
      ok: false,
      issue: { severity: 'error', pointer: '', message: `malformed JSON: ${message}`, line, column },
    });
  });

  it('the scanner accepts exactly what JSON.parse accepts', () => {
    const jsonish = fc.oneof(
      fc.json(),
      fc.string({
        unit: fc.constantFrom(
          '{',
          '}',
          '[',
          ']',
          '"',
          ':',
          ',',
          ' ',
          '1',
          '-',
          '.',
          'e',
          'a',
          '\\',
          'n',
          'u',
          'true',
          'null',
          '\n',
        ),
      }),
      fc.json().chain((text) => fc.nat(text.length).map((cut) => text.slice(0, cut) + text.slice(cut + 1))),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        expect(locateJsonError(text) === undefined).toBe(accepts(text));
      }),
      { numRuns: 2000 },
    );
  });
});
