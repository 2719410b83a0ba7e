// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${SWITCH(…)}" is mapping syntax, not a template literal.
import { describe, expect, it } from 'vitest';
import { parseTemplateString } from './parse.js';

describe('parseTemplateString', () => {
  it('splits text, placeholders and switches', () => {
    expect(
      parseTemplateString(
        '[x] #{a.b.0} - ${SWITCH(sw,rating)}#{@USER_VAR(v)}#{@CLOUD_ALM_URL}#{@CLOUD_ALM_EXTERNAL_ID}',
      ),
    ).toEqual({
      parts: [
        { kind: 'text', text: '[x] ' },
        { kind: 'placeholder', reference: { kind: 'path', segments: ['a', 'b', '0'] }, source: '#{a.b.0}' },
        { kind: 'text', text: ' - ' },
        {
          kind: 'switch',
          switchName: 'sw',
          reference: { kind: 'path', segments: ['rating'] },
          source: '${SWITCH(sw,rating)}',
          offset: 15,
        },
        { kind: 'placeholder', reference: { kind: 'userVariable', name: 'v' }, source: '#{@USER_VAR(v)}' },
        { kind: 'placeholder', reference: { kind: 'cloudAlmUrl' }, source: '#{@CLOUD_ALM_URL}' },
        {
          kind: 'placeholder',
          reference: { kind: 'cloudAlmExternalId' },
          source: '#{@CLOUD_ALM_EXTERNAL_ID}',
        },
      ],
      errors: [],
    });
  });

  it('a switch argument may be a built-in', () => {
    expect(parseTemplateString('${SWITCH(env, @USER_VAR(tier))}').parts).toEqual([
      {
        kind: 'switch',
        switchName: 'env',
        reference: { kind: 'userVariable', name: 'tier' },
        source: '${SWITCH(env, @USER_VAR(tier))}',
        offset: 0,
      },
    ]);
  });

  it('plain text stays one part; "#", "$" and "}" alone are text', () => {
    expect(parseTemplateString('a # b $ c } {d}')).toEqual({
      parts: [{ kind: 'text', text: 'a # b $ c } {d}' }],
      errors: [],
    });
    expect(parseTemplateString('')).toEqual({ parts: [], errors: [] });
  });

  it('reports every problem with its offset and keeps parsing after it', () => {
    expect(parseTemplateString('#{a} #{} #{b.} #{c')).toEqual({
      parts: [
        { kind: 'placeholder', reference: { kind: 'path', segments: ['a'] }, source: '#{a}' },
        // Invalid expressions are dropped; the text around them merges.
        { kind: 'text', text: '   ' },
      ],
      errors: [
        { offset: 5, message: '#{}: empty expression' },
        { offset: 9, message: '#{b.}: empty segment in path "b."' },
        {
          offset: 15,
          message:
            'unbalanced expression: "#{" at character 15 is never closed by "}" in "#{a} #{} #{b.} #{c"',
        },
      ],
    });
  });

  it('rejects invalid characters in paths and variable names', () => {
    expect(parseTemplateString('#{a b}').errors).toEqual([
      { offset: 0, message: '#{a b}: invalid character in path segment "a b"' },
    ]);
    expect(parseTemplateString('#{@USER_VAR(a,b)}').errors).toEqual([
      { offset: 0, message: '#{@USER_VAR(a,b)}: @USER_VAR needs one variable name, as in @USER_VAR(name)' },
    ]);
    expect(parseTemplateString('#{@USER_VAR(a}').errors).toEqual([
      { offset: 0, message: '#{@USER_VAR(a}: malformed function call "@USER_VAR(a"' },
    ]);
    expect(parseTemplateString('${SWITCH(,x)}').errors).toEqual([
      { offset: 0, message: '${SWITCH(,x)}: invalid switch name ""' },
    ]);
  });
});
