import { describe, expect, it } from 'vitest';
import { CalmError } from '../../shared/errors.js';
import { type FieldSpec, filterToSql, parseFilter } from './filter.js';

describe('parseFilter', () => {
  it('parses comparisons with unquoted GUIDs, strings, numbers and DateTimeOffsets', () => {
    expect(parseFilter('projectId eq 3532c9fd-09e3-488b-b882-a85d1b807f7e')).toEqual({
      kind: 'compare',
      operator: 'eq',
      field: 'projectId',
      value: { type: 'guid', value: '3532c9fd-09e3-488b-b882-a85d1b807f7e' },
    });
    expect(parseFilter("displayId eq 'it''s'")).toMatchObject({ value: { type: 'string', value: "it's" } });
    expect(parseFilter('priorityCode le 20')).toMatchObject({
      operator: 'le',
      value: { type: 'number', value: 20 },
    });
    expect(parseFilter('modifiedAt gt 2026-01-01T00:00:00Z')).toMatchObject({
      value: { type: 'datetime', value: Date.parse('2026-01-01T00:00:00Z') },
    });
    expect(parseFilter('modifiedAt lt 2026-01-01T10:00:00.1234567+01:00')).toMatchObject({
      value: { type: 'datetime', value: Date.parse('2026-01-01T09:00:00.123Z') },
    });
  });

  it('honours precedence: not > and > or, and parentheses', () => {
    const parsed = parseFilter("a eq 'x' or b eq 'y' and not c eq 'z'");
    expect(parsed.kind).toBe('or');
    const grouped = parseFilter("(a eq 'x' or b eq 'y') and c eq 'z'");
    expect(grouped.kind).toBe('and');
  });

  it('parses in lists and string functions', () => {
    expect(parseFilter("statusCode in ('CREATED', 'IN_TESTING')")).toMatchObject({
      kind: 'in',
      values: [{ value: 'CREATED' }, { value: 'IN_TESTING' }],
    });
    expect(parseFilter("contains(title,'close')")).toMatchObject({
      kind: 'function',
      name: 'contains',
      field: 'title',
    });
  });

  it.each(["title eq 'open", 'title eq', "title xx 'a'", "(title eq 'a'", "title eq 'a' 'b'", '', "eq 'a'"])(
    'rejects %j with a 400',
    (input) => {
      try {
        parseFilter(input);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(CalmError);
        expect((error as CalmError).status).toBe(400);
      }
    },
  );
});

describe('filterToSql', () => {
  const fields: Record<string, FieldSpec> = {
    projectId: { column: 't.project_id', type: 'guid' },
    title: { column: 't.title', type: 'string' },
    priorityCode: { column: 't.priority_code', type: 'int', nullable: true },
    tags: { column: 't.tags', type: 'collection' },
  };

  it('rejects a quoted GUID as a type mismatch (as Cloud ALM does)', () => {
    expect(() =>
      filterToSql(parseFilter("projectId eq '3532c9fd-09e3-488b-b882-a85d1b807f7e'"), fields),
    ).toThrow(/type mismatch/);
  });

  it('rejects unknown and non-filterable properties', () => {
    expect(() => filterToSql(parseFilter("nope eq 'x'"), fields)).toThrow(/does not exist/);
    expect(() => filterToSql(parseFilter("tags eq 'x'"), fields)).toThrow(/cannot be filtered/);
    expect(() => filterToSql(parseFilter('title eq 5'), fields)).toThrow(/type mismatch/);
  });
});
