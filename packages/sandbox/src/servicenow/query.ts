import { SnError } from './errors.js';

type Condition = { field: string; op: string; value: string };
export interface EncodedQuery {
  /** AND of OR-groups: `a^b^ORc` is a AND (b OR c), as on ServiceNow. */
  groups: Condition[][];
  order: { field: string; desc: boolean }[];
}

// Longest operators first, so `!=` is not read as `=` and `STARTSWITH` not as a field suffix.
const OPERATORS = [
  'ISNOTEMPTY',
  'ISEMPTY',
  'STARTSWITH',
  'ENDSWITH',
  'NOT LIKE',
  'NOT IN',
  'LIKE',
  'IN',
  '!=',
  '>=',
  '<=',
  '=',
  '>',
  '<',
];

function parseCondition(text: string): Condition {
  // Field names are lower case (dot-walks included) and operators upper case, as on ServiceNow:
  // `short_descriptionLIKEdisk` is short_description LIKE disk.
  const field = /^[a-z0-9_.]+/.exec(text)?.[0];
  if (!field) throw new SnError(400, 'Invalid query', `cannot read the condition "${text}"`);
  const rest = text.slice(field.length);
  for (const op of OPERATORS) {
    if (rest.startsWith(op)) return { field, op, value: rest.slice(op.length) };
  }
  throw new SnError(400, 'Invalid query', `unknown operator in "${text}"`);
}

/** Encoded queries: `field=value`, `^` (and), `^OR`, `^NQ` is not supported, `ORDERBY` / `ORDERBYDESC`. */
export function parseEncodedQuery(text: string | undefined): EncodedQuery {
  const query: EncodedQuery = { groups: [], order: [] };
  if (!text) return query;
  for (const part of text.split('^')) {
    if (part === '' || part === 'EQ') continue;
    if (part.startsWith('ORDERBYDESC')) {
      query.order.push({ field: part.slice('ORDERBYDESC'.length), desc: true });
      continue;
    }
    if (part.startsWith('ORDERBY')) {
      query.order.push({ field: part.slice('ORDERBY'.length), desc: false });
      continue;
    }
    if (part.startsWith('NQ'))
      throw new SnError(400, 'Invalid query', '^NQ (new query) is not supported by the emulator');
    const previous = query.groups[query.groups.length - 1];
    if (part.startsWith('OR') && previous) {
      previous.push(parseCondition(part.slice(2)));
      continue;
    }
    query.groups.push([parseCondition(part)]);
  }
  return query;
}

/** A record's field; names such as `constructor` must not reach Object.prototype. */
function fieldOf(record: Record<string, string>, field: string): string {
  return Object.hasOwn(record, field) ? (record[field] ?? '') : '';
}

function matches(condition: Condition, record: Record<string, string>): boolean {
  const actual = fieldOf(record, condition.field);
  const { op, value } = condition;
  switch (op) {
    case '=':
      return actual === value;
    case '!=':
      return actual !== value;
    case 'LIKE':
      return actual.toLowerCase().includes(value.toLowerCase());
    case 'NOT LIKE':
      return !actual.toLowerCase().includes(value.toLowerCase());
    case 'STARTSWITH':
      return actual.toLowerCase().startsWith(value.toLowerCase());
    case 'ENDSWITH':
      return actual.toLowerCase().endsWith(value.toLowerCase());
    case 'IN':
      return value.split(',').includes(actual);
    case 'NOT IN':
      return !value.split(',').includes(actual);
    case 'ISEMPTY':
      return actual === '';
    case 'ISNOTEMPTY':
      return actual !== '';
    default: {
      const a = Number(actual);
      const b = Number(value);
      const numeric = actual !== '' && value !== '' && Number.isFinite(a) && Number.isFinite(b);
      const cmp = numeric ? a - b : actual < value ? -1 : actual > value ? 1 : 0;
      return op === '>' ? cmp > 0 : op === '<' ? cmp < 0 : op === '>=' ? cmp >= 0 : cmp <= 0;
    }
  }
}

export function applyQuery(records: Record<string, string>[], query: EncodedQuery): Record<string, string>[] {
  const filtered = records.filter((record) =>
    query.groups.every((group) => group.some((c) => matches(c, record))),
  );
  if (query.order.length === 0) return filtered;
  return [...filtered].sort((left, right) => {
    for (const { field, desc } of query.order) {
      const a = fieldOf(left, field);
      const b = fieldOf(right, field);
      if (a !== b) return (a < b ? -1 : 1) * (desc ? -1 : 1);
    }
    return 0;
  });
}
