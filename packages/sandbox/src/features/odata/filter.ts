import { type RawBuilder, sql } from 'kysely';
import { badRequest } from '../../shared/errors.js';

/** Edm types the sandbox's entity sets use. */
export type EdmType = 'guid' | 'string' | 'int' | 'datetime' | 'boolean' | 'collection';

export interface FieldSpec {
  /** SQL column (qualified when the set joins tables). */
  column: string;
  type: EdmType;
  nullable?: boolean;
  filterable?: boolean;
  sortable?: boolean;
}

export type Literal =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'guid'; value: string }
  | { type: 'datetime'; value: number; raw: string }
  | { type: 'date'; value: string }
  | { type: 'boolean'; value: boolean }
  | { type: 'null' };

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';

export type FilterExpression =
  | { kind: 'and' | 'or'; left: FilterExpression; right: FilterExpression }
  | { kind: 'not'; expression: FilterExpression }
  | { kind: 'compare'; operator: ComparisonOperator; field: string; value: Literal }
  | { kind: 'in'; field: string; values: Literal[] }
  | { kind: 'function'; name: 'contains' | 'startswith' | 'endswith'; field: string; value: Literal };

type Token =
  | { kind: 'open' | 'close' | 'comma' }
  | { kind: 'string'; value: string }
  | { kind: 'word'; value: string };

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le']);
const FUNCTIONS = new Set(['contains', 'startswith', 'endswith']);
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?(Z|[+-]\d{2}:\d{2})$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Deepest nesting of parentheses, `not` and and/or a `$filter` may have. Each level becomes one
 * level of SQL expression tree; SQLite refuses trees deeper than 1000 ("Expression tree is too
 * large") and PostgreSQL runs out of stack eventually, and the recursive-descent parser itself
 * would overflow the JavaScript stack on a long enough input. 100 is far above what a client
 * writes by hand (long alternatives belong in `in (...)`).
 */
export const MAX_FILTER_DEPTH = 100;

const tooDeep = () =>
  badRequest(
    `Invalid $filter: the expression nests deeper than ${MAX_FILTER_DEPTH} levels of parentheses, not, and/or`,
    'FILTER_TOO_COMPLEX',
  );

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const char = input[i] as string;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '(') {
      tokens.push({ kind: 'open' });
      i++;
    } else if (char === ')') {
      tokens.push({ kind: 'close' });
      i++;
    } else if (char === ',') {
      tokens.push({ kind: 'comma' });
      i++;
    } else if (char === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= input.length) throw badRequest('Invalid $filter: unterminated string literal');
        const c = input[i] as string;
        if (c === "'") {
          if (input[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'string', value });
    } else {
      let end = i;
      while (end < input.length && !/[\s(),']/.test(input[end] as string)) end++;
      tokens.push({ kind: 'word', value: input.slice(i, end) });
      i = end;
    }
  }
  return tokens;
}

function literalOf(token: Token | undefined): Literal {
  if (!token) throw badRequest('Invalid $filter: a value is missing');
  if (token.kind === 'string') return { type: 'string', value: token.value };
  if (token.kind !== 'word') throw badRequest('Invalid $filter: a value is missing');
  const word = token.value;
  if (word === 'null') return { type: 'null' };
  if (word === 'true' || word === 'false') return { type: 'boolean', value: word === 'true' };
  if (GUID.test(word)) return { type: 'guid', value: word.toLowerCase() };
  if (DATETIME.test(word)) {
    const ms = Date.parse(word.replace(/(\.\d{3})\d+/, '$1'));
    if (Number.isNaN(ms)) throw badRequest(`Invalid $filter: '${word}' is not a valid DateTimeOffset`);
    return { type: 'datetime', value: ms, raw: word };
  }
  if (DATE.test(word)) return { type: 'date', value: word };
  if (NUMBER.test(word)) return { type: 'number', value: Number(word) };
  throw badRequest(`Invalid $filter: unexpected token '${word}'`);
}

/** Parses an OData v4 `$filter` (comparisons, `in`, and/or/not, parentheses, contains/startswith/endswith). */
export function parseFilter(input: string): FilterExpression {
  const tokens = tokenize(input);
  let position = 0;
  // Open parentheses and `not`s on the parser's stack right now, plus the depth of each node built,
  // both held under MAX_FILTER_DEPTH (see there).
  let nesting = 0;
  const depths = new WeakMap<FilterExpression, number>();
  const depthOf = (expression: FilterExpression) => depths.get(expression) ?? 0;
  const node = (expression: FilterExpression, ...children: FilterExpression[]): FilterExpression => {
    const depth = 1 + Math.max(0, ...children.map(depthOf));
    if (depth > MAX_FILTER_DEPTH) throw tooDeep();
    depths.set(expression, depth);
    return expression;
  };
  const enter = () => {
    nesting++;
    if (nesting > MAX_FILTER_DEPTH) throw tooDeep();
  };
  const peek = () => tokens[position];
  const next = () => tokens[position++];
  const isWord = (token: Token | undefined, value: string) =>
    token?.kind === 'word' && token.value.toLowerCase() === value;

  const parseOr = (): FilterExpression => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      next();
      const right = parseAnd();
      left = node({ kind: 'or', left, right }, left, right);
    }
    return left;
  };
  const parseAnd = (): FilterExpression => {
    let left = parseUnary();
    while (isWord(peek(), 'and')) {
      next();
      const right = parseUnary();
      left = node({ kind: 'and', left, right }, left, right);
    }
    return left;
  };
  const parseUnary = (): FilterExpression => {
    if (isWord(peek(), 'not')) {
      next();
      enter();
      const expression = parseUnary();
      nesting--;
      return node({ kind: 'not', expression }, expression);
    }
    return parsePrimary();
  };
  const expect = (kind: 'open' | 'close' | 'comma', what: string) => {
    const token = next();
    if (token?.kind !== kind) throw badRequest(`Invalid $filter: expected ${what}`);
  };
  const parsePrimary = (): FilterExpression => {
    const token = next();
    if (!token) throw badRequest('Invalid $filter: unexpected end of expression');
    if (token.kind === 'open') {
      enter();
      const inner = parseOr();
      expect('close', "')'");
      nesting--;
      // Parentheses add no node, but they count: `((((a))))` nests the parser all the same.
      return node(inner, inner);
    }
    if (token.kind !== 'word' || !IDENTIFIER.test(token.value)) {
      throw badRequest(
        `Invalid $filter: expected a property name, found ${token.kind === 'word' ? `'${token.value}'` : token.kind}`,
      );
    }
    const name = token.value;
    if (FUNCTIONS.has(name.toLowerCase()) && peek()?.kind === 'open') {
      next();
      const field = next();
      if (field?.kind !== 'word' || !IDENTIFIER.test(field.value))
        throw badRequest(`Invalid $filter: ${name} expects a property`);
      expect('comma', "','");
      const value = literalOf(next());
      expect('close', "')'");
      return {
        kind: 'function',
        name: name.toLowerCase() as 'contains' | 'startswith' | 'endswith',
        field: field.value,
        value,
      };
    }
    const operator = next();
    if (operator?.kind !== 'word') throw badRequest(`Invalid $filter: expected an operator after '${name}'`);
    const op = operator.value.toLowerCase();
    if (op === 'in') {
      expect('open', "'(' after in");
      const values: Literal[] = [literalOf(next())];
      while (peek()?.kind === 'comma') {
        next();
        values.push(literalOf(next()));
      }
      expect('close', "')'");
      return { kind: 'in', field: name, values };
    }
    if (!COMPARISONS.has(op)) throw badRequest(`Invalid $filter: unsupported operator '${operator.value}'`);
    return { kind: 'compare', operator: op as ComparisonOperator, field: name, value: literalOf(next()) };
  };

  if (tokens.length === 0) throw badRequest('Invalid $filter: empty expression');
  const expression = parseOr();
  if (position < tokens.length) throw badRequest('Invalid $filter: unexpected input after the expression');
  return expression;
}

const EDM: Record<EdmType, string> = {
  guid: 'Edm.Guid',
  string: 'Edm.String',
  int: 'Edm.Int32',
  datetime: 'Edm.DateTimeOffset',
  boolean: 'Edm.Boolean',
  collection: 'Collection(Edm.String)',
};
const LITERAL_EDM: Record<Literal['type'], string> = {
  string: 'Edm.String',
  number: 'Edm.Decimal',
  guid: 'Edm.Guid',
  datetime: 'Edm.DateTimeOffset',
  date: 'Edm.Date',
  boolean: 'Edm.Boolean',
  null: 'null',
};

/** The SQL value a literal compares with, after the type check a real OData service performs. */
function sqlValue(name: string, field: FieldSpec, literal: Literal): string | number | null {
  const mismatch = () =>
    badRequest(
      `Invalid $filter: type mismatch, property '${name}' is ${EDM[field.type]} but the value is ${LITERAL_EDM[literal.type]}`,
      'TYPE_MISMATCH',
    );
  if (literal.type === 'null') return null;
  switch (field.type) {
    case 'guid':
      if (literal.type !== 'guid') throw mismatch();
      return literal.value;
    case 'string':
      if (literal.type !== 'string') throw mismatch();
      return literal.value;
    case 'int':
      if (literal.type !== 'number' || !Number.isInteger(literal.value)) throw mismatch();
      if (Math.abs(literal.value) > 2_147_483_647)
        throw badRequest(`Invalid $filter: ${literal.value} is out of range for Edm.Int32`);
      return literal.value;
    case 'datetime':
      if (literal.type !== 'datetime') throw mismatch();
      return literal.value;
    case 'boolean':
      if (literal.type !== 'boolean') throw mismatch();
      return literal.value ? 1 : 0;
    default:
      throw badRequest(`Invalid $filter: property '${name}' cannot be filtered`);
  }
}

const SQL_OPERATORS: Record<ComparisonOperator, string> = {
  eq: '=',
  ne: '<>',
  gt: '>',
  lt: '<',
  ge: '>=',
  le: '<=',
};

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Translates a parsed filter into a parameterised SQL condition over the set's columns. */
export function filterToSql(
  expression: FilterExpression,
  fields: Record<string, FieldSpec>,
): RawBuilder<boolean> {
  const fieldOf = (name: string): FieldSpec => {
    const field = fields[name];
    if (!field) throw badRequest(`Invalid $filter: property '${name}' does not exist`, 'PROPERTY_NOT_FOUND');
    if (field.filterable === false || field.type === 'collection')
      throw badRequest(`Invalid $filter: property '${name}' cannot be filtered`);
    return field;
  };
  switch (expression.kind) {
    case 'and':
    case 'or': {
      const left = filterToSql(expression.left, fields);
      const right = filterToSql(expression.right, fields);
      return expression.kind === 'and'
        ? sql<boolean>`(${left} and ${right})`
        : sql<boolean>`(${left} or ${right})`;
    }
    case 'not':
      // OData logic is two-valued here: a comparison with null is false, so `not` of it is true.
      // SQL's `not null` is null and would drop the row; `is not true` maps null to true, on
      // SQLite (>= 3.23) and PostgreSQL alike.
      return sql<boolean>`(${filterToSql(expression.expression, fields)} is not true)`;
    case 'in': {
      const field = fieldOf(expression.field);
      const values = expression.values.map((value) => sqlValue(expression.field, field, value));
      const nonNull = values.filter((value) => value !== null);
      const column = sql.ref(field.column);
      const parts: RawBuilder<boolean>[] = [];
      if (nonNull.length > 0) parts.push(sql<boolean>`${column} in (${sql.join(nonNull)})`);
      if (nonNull.length < values.length) parts.push(sql<boolean>`${column} is null`);
      return sql<boolean>`(${sql.join(parts, sql` or `)})`;
    }
    case 'function': {
      const field = fieldOf(expression.field);
      if (field.type !== 'string' || expression.value.type !== 'string') {
        throw badRequest(`Invalid $filter: ${expression.name} needs a string property and a string value`);
      }
      const value = escapeLike(expression.value.value);
      const pattern =
        expression.name === 'contains'
          ? `%${value}%`
          : expression.name === 'startswith'
            ? `${value}%`
            : `%${value}`;
      return sql<boolean>`(${sql.ref(field.column)} like ${pattern} escape '\\')`;
    }
    case 'compare': {
      const field = fieldOf(expression.field);
      const value = sqlValue(expression.field, field, expression.value);
      const column = sql.ref(field.column);
      if (value === null) {
        if (expression.operator === 'eq') return sql<boolean>`(${column} is null)`;
        if (expression.operator === 'ne') return sql<boolean>`(${column} is not null)`;
        throw badRequest(`Invalid $filter: '${expression.operator} null' is not supported`);
      }
      const operator = sql.raw(SQL_OPERATORS[expression.operator]);
      // OData: null ne 'x' is true, unlike SQL's three-valued logic.
      if (expression.operator === 'ne' && field.nullable)
        return sql<boolean>`(${column} ${operator} ${value} or ${column} is null)`;
      return sql<boolean>`(${column} ${operator} ${value})`;
    }
  }
}
