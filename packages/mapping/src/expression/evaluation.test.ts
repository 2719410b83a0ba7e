// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${SWITCH(…)}" is mapping syntax, not a template literal.
// biome-ignore-all lint/suspicious/noThenProperty: "then" is the mapping format's own key for switch cases.
import { describe, expect, it } from 'vitest';
import { compileMapping } from '../compile/compile-mapping.js';
import { buildOperation } from '../operation/evaluate.js';
import type { MappingEnvironment } from '../operation/types.js';

type Switch = { name: string; cases: { when: unknown; then: unknown }[]; default?: unknown };

/** Evaluates `template` as the request body of a POST for the resource. */
function body(
  template: unknown,
  resource: unknown,
  environment: MappingEnvironment = {},
  switches: Switch[] = [],
): unknown {
  const compiled = compileMapping({
    switches,
    structure: { request: template },
    eventTypeMapping: { operationMappings: [{ eventType: 'E', operation: 'POST' }] },
  });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
  const outcome = buildOperation(compiled.mapping, { eventType: 'E', resource }, environment);
  if (outcome.kind !== 'call') throw new Error(outcome.message);
  return outcome.body;
}

function path(template: string, resource: unknown, environment: MappingEnvironment = {}): string {
  const compiled = compileMapping({
    eventTypeMapping: { operationMappings: [{ eventType: 'E', operation: 'GET', path: template }] },
  });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
  const outcome = buildOperation(compiled.mapping, { eventType: 'E', resource }, environment);
  if (outcome.kind !== 'call') throw new Error(outcome.message);
  return outcome.path;
}

describe('placeholders', () => {
  const resource = {
    title: 'T',
    count: 3,
    ratio: 0.5,
    open: false,
    none: null,
    tags: { type: 'httpPing', status: 'DOWN' },
    items: [{ name: 'first' }, { name: 'second' }],
    matrix: [
      [1, 2],
      [3, 4],
    ],
    '0': 'zero-key',
  };

  it('a whole-value placeholder keeps the JSON type of the value', () => {
    expect(
      body(
        {
          t: '#{title}',
          c: '#{count}',
          r: '#{ratio}',
          o: '#{open}',
          n: '#{none}',
          tags: '#{tags}',
          items: '#{items}',
        },
        resource,
      ),
    ).toEqual({ t: 'T', c: 3, r: 0.5, o: false, n: null, tags: resource.tags, items: resource.items });
  });

  it('whole values are copies: mutating the body leaves the resource alone', () => {
    const result = body({ tags: '#{tags}' }, resource) as { tags: Record<string, string> };
    result.tags.status = 'UP';
    expect(resource.tags.status).toBe('DOWN');
  });

  it('embedded placeholders interpolate text: numbers and booleans as JSON, objects as JSON text, null as ""', () => {
    expect(body('#{title}/#{count}/#{open}/#{none}/#{tags}/#{missing}!', resource)).toBe(
      'T/3/false//{"type":"httpPing","status":"DOWN"}/!',
    );
  });

  it('several placeholders in one string, with text around and between them', () => {
    expect(body('[#{title}] #{count} items: #{items.0.name}, #{items.1.name}', resource)).toBe(
      '[T] 3 items: first, second',
    );
  });

  it('numeric segments index arrays; on objects they are ordinary keys', () => {
    expect(
      body(
        { a: '#{items.1.name}', b: '#{matrix.1.0}', c: '#{0}', d: '#{items.2.name}', e: '#{items.01.name}' },
        resource,
      ),
    ).toEqual({
      a: 'second',
      b: 3,
      c: 'zero-key',
      d: null,
      e: null,
    });
  });

  it('missing data: null as a whole value, "" inside text, through scalars and arrays', () => {
    expect(
      body({ a: '#{missing}', b: '#{title.length}', c: '#{items.name}', d: 'x#{missing.deep}y' }, resource),
    ).toEqual({
      a: null,
      b: null,
      c: null,
      d: 'xy',
    });
  });

  it('never reads inherited properties such as constructor or __proto__', () => {
    expect(
      body({ a: '#{constructor}', b: '#{__proto__}', c: 'x#{toString}y', d: '#{items.length}' }, resource),
    ).toEqual({
      a: null,
      b: null,
      c: 'xy',
      d: null,
    });
  });

  it('cyclic values become null instead of recursing forever', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(body({ whole: '#{self}', text: 't=#{self}' }, cyclic)).toEqual({
      whole: { name: 'loop', self: null },
      text: 't={"name":"loop","self":null}',
    });
  });

  it('a resource that is not an object resolves nothing', () => {
    expect(body({ a: '#{a}', b: 'b=#{b}' }, 'just a string')).toEqual({ a: null, b: 'b=' });
    expect(body({ a: '#{0}' }, ['array-root'])).toEqual({ a: 'array-root' });
  });

  it('tolerates whitespace inside the braces', () => {
    expect(
      body('#{ title }|${SWITCH( s , title )}', resource, {}, [
        { name: 's', cases: [{ when: 'T', then: 'ok' }] },
      ]),
    ).toBe('T|ok');
  });
});

describe('templates', () => {
  it('arrays and nested objects are walked; non-string literals keep their type', () => {
    expect(
      body(
        {
          list: ['#{a}', 'lit', 7, true, null, { deep: ['#{b}'] }],
          n: 1.5,
          f: false,
          z: null,
          empty: {},
          none: [],
        },
        { a: 'A', b: 2 },
      ),
    ).toEqual({
      list: ['A', 'lit', 7, true, null, { deep: [2] }],
      n: 1.5,
      f: false,
      z: null,
      empty: {},
      none: [],
    });
  });

  it('the template root may be an array or a scalar', () => {
    expect(body([{ op: 'add', value: '#{a}' }], { a: 1 })).toEqual([{ op: 'add', value: 1 }]);
    expect(body('#{a}', { a: { b: 1 } })).toEqual({ b: 1 });
    expect(body(42, {})).toBe(42);
  });

  it('a "__proto__" template key becomes an ordinary own property', () => {
    const result = body(JSON.parse('{"__proto__": "#{a}", "b": 1}'), { a: 'x' }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.hasOwn(result, '__proto__')).toBe(true);
    expect(JSON.stringify(result)).toBe('{"__proto__":"x","b":1}');
  });

  it('"#" and "$" not followed by "{" and a lone "}" are plain text', () => {
    expect(
      body('a#b $c } #{x}# ${SWITCH(s,x)}$', { x: 'X' }, {}, [{ name: 's', cases: [], default: 'D' }]),
    ).toBe('a#b $c } X# D$');
    expect(body('##{x}', { x: 'X' })).toBe('#X');
  });

  it('each evaluation builds fresh objects', () => {
    const template = { a: { b: [] } };
    expect(body(template, {})).not.toBe(body(template, {}));
    const first = body(template, {}) as { a: { b: unknown[] } };
    first.a.b.push(1);
    expect(body(template, {})).toEqual({ a: { b: [] } });
  });
});

describe('built-ins', () => {
  it('@USER_VAR reads subscription variables, "" when undefined (also as a whole value)', () => {
    expect(
      body(
        {
          a: '#{@USER_VAR(proj)}',
          b: '#{@USER_VAR(nope)}',
          c: 'p=#{@USER_VAR(proj)}',
          d: '#{@USER_VAR(constructor)}',
        },
        {},
        {
          userVariables: { proj: 'P1' },
        },
      ),
    ).toEqual({ a: 'P1', b: '', c: 'p=P1', d: '' });
  });

  it('@CLOUD_ALM_URL without trailing slash, "" when unknown', () => {
    expect(body('#{@CLOUD_ALM_URL}/launchpad', {}, { cloudAlmUrl: 'https://t.alm.cloud.sap//' })).toBe(
      'https://t.alm.cloud.sap/launchpad',
    );
    expect(body({ u: '#{@CLOUD_ALM_URL}' }, {})).toEqual({ u: '' });
  });

  it('@CLOUD_ALM_EXTERNAL_ID is the link external id, "" when none', () => {
    expect(body({ id: '#{@CLOUD_ALM_EXTERNAL_ID}' }, {}, { link: { externalId: 'X-1' } })).toEqual({
      id: 'X-1',
    });
    expect(body({ id: '#{@CLOUD_ALM_EXTERNAL_ID}' }, {})).toEqual({ id: '' });
  });

  it('stored response-mapped fields answer paths the resource lacks; the resource wins otherwise', () => {
    const link = { externalId: 'L', fields: { externalNumber: 'INC1', title: 'stored title' } };
    expect(
      body(
        { n: '#{externalNumber}', t: '#{title}', id: '#{externalId}' },
        { title: 'resource title' },
        { link },
      ),
    ).toEqual({
      n: 'INC1',
      t: 'resource title',
      id: 'L',
    });
  });
});

describe('switches', () => {
  const rating: Switch = {
    name: 'rating',
    cases: [
      { when: 'FATAL', then: 'Highest' },
      { when: 'Fatal', then: 'Title-case' },
      { when: '', then: 'empty' },
      { when: null, then: 'missing' },
      { when: 30, then: 'thirty' },
      { when: true, then: 'yes' },
      { when: 'FATAL', then: 'second FATAL never wins' },
    ],
    default: 'Lowest',
  };
  const run = (value: unknown) =>
    body({ p: '${SWITCH(rating,r)}' }, value === undefined ? {} : { r: value }, {}, [rating]);

  it('matches exactly and case-sensitively; the first matching case wins', () => {
    expect(run('FATAL')).toEqual({ p: 'Highest' });
    expect(run('Fatal')).toEqual({ p: 'Title-case' });
    expect(run('fatal')).toEqual({ p: 'Lowest' });
    expect(run(' FATAL')).toEqual({ p: 'Lowest' });
  });

  it('distinguishes when: "" (empty string) from when: null (missing or null)', () => {
    expect(run('')).toEqual({ p: 'empty' });
    expect(run(undefined)).toEqual({ p: 'missing' });
    expect(run(null)).toEqual({ p: 'missing' });
  });

  it('numbers and booleans compare by their JSON text; objects match no case', () => {
    expect(run(30)).toEqual({ p: 'thirty' });
    expect(run('30')).toEqual({ p: 'thirty' });
    expect(run(true)).toEqual({ p: 'yes' });
    expect(run({ r: 1 })).toEqual({ p: 'Lowest' });
  });

  it('without a default an unmatched value is missing: null whole, "" embedded', () => {
    const noDefault: Switch = { name: 's', cases: [{ when: 'A', then: 'a' }] };
    expect(body({ w: '${SWITCH(s,x)}', e: '<${SWITCH(s,x)}>' }, { x: 'B' }, {}, [noDefault])).toEqual({
      w: null,
      e: '<>',
    });
  });

  it('then and default are expressions themselves, typed when whole, and may use other switches', () => {
    const switches: Switch[] = [
      {
        name: 'outer',
        cases: [
          { when: 'typed', then: '#{count}' },
          { when: 'object', then: { id: '#{id}', n: 1 } },
          { when: 'chain', then: '${SWITCH(inner,id)}' },
        ],
        default: 'default for #{id}',
      },
      { name: 'inner', cases: [{ when: 'X', then: 'inner X' }] },
    ];
    const resource = (kind: string) => ({ kind, count: 3, id: 'X' });
    const evaluate = (kind: string) =>
      body({ v: '${SWITCH(outer,kind)}', t: 'v=${SWITCH(outer,kind)}' }, resource(kind), {}, switches);
    expect(evaluate('typed')).toEqual({ v: 3, t: 'v=3' });
    expect(evaluate('object')).toEqual({ v: { id: 'X', n: 1 }, t: 'v={"id":"X","n":1}' });
    expect(evaluate('chain')).toEqual({ v: 'inner X', t: 'v=inner X' });
    expect(evaluate('other')).toEqual({ v: 'default for X', t: 'v=default for X' });
  });

  it('the switch argument may be a nested path or a user variable', () => {
    const env: Switch = { name: 'env', cases: [{ when: 'prod', then: 'P' }], default: 'N' };
    expect(
      body(
        { a: '${SWITCH(env,system.tier)}', b: '${SWITCH(env,@USER_VAR(tier))}' },
        { system: { tier: 'prod' } },
        {
          userVariables: { tier: 'dev' },
        },
        [env],
      ),
    ).toEqual({ a: 'P', b: 'N' });
  });
});

describe('paths', () => {
  it('inserted values are URL-encoded per segment; the template keeps its "/" and "?"', () => {
    expect(path('/items/#{id}/children?name=#{name}&x=1', { id: 'a/b c', name: 'R&D=yes?' })).toBe(
      '/items/a%2Fb%20c/children?name=R%26D%3Dyes%3F&x=1',
    );
  });

  it('encodes user variables and built-ins as well; non-ASCII as UTF-8', () => {
    expect(
      path(
        '/#{@CLOUD_ALM_EXTERNAL_ID}?env=#{@USER_VAR(env)}&u=#{u}',
        { u: 'Größe' },
        {
          userVariables: { env: 'a b' },
          link: { externalId: 'id#1' },
        },
      ),
    ).toBe('/id%231?env=a%20b&u=Gr%C3%B6%C3%9Fe');
  });

  it('lone surrogates do not break encoding', () => {
    expect(path('/#{v}', { v: 'a\uD800b' })).toBe('/a%EF%BF%BDb');
  });

  it('no path means an empty suffix', () => {
    expect(path('', {})).toBe('');
  });
});
