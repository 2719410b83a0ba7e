import { type RawBuilder, sql } from 'kysely';
import { badRequest } from '../../shared/errors.js';
import type { SandboxExecutor } from '../../store/tables.js';
import { type FieldSpec, filterToSql, parseFilter } from './filter.js';

const SYSTEM_OPTIONS = new Set([
  '$filter',
  '$select',
  '$orderby',
  '$top',
  '$skip',
  '$count',
  '$expand',
  '$search',
  '$skiptoken',
  '$format',
]);

export interface QueryOptions {
  filter?: string | undefined;
  select?: string[] | undefined;
  orderBy: { field: string; descending: boolean }[];
  top?: number | undefined;
  skip?: number | undefined;
  skipToken?: number | undefined;
  count: boolean;
  expand: string[];
  search?: string | undefined;
}

const MAX_INT = 2_147_483_647;

function nonNegativeInteger(name: string, raw: string): number {
  const value = Number(raw.trim());
  // Both engines take 32-bit-safe LIMIT/OFFSET values; anything larger is a client error here.
  if (!/^\d+$/.test(raw.trim()) || value > MAX_INT) {
    throw badRequest(
      `Invalid value '${raw}' for ${name}: a non-negative integer up to ${MAX_INT} is expected`,
    );
  }
  return value;
}

/** Reads the system query options; unknown `$` options and repeated options are 400s as on a real service. */
export function parseQueryOptions(params: URLSearchParams): QueryOptions {
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (!key.startsWith('$')) continue;
    if (!SYSTEM_OPTIONS.has(key)) throw badRequest(`The query option '${key}' is not supported`);
    if (seen.has(key)) throw badRequest(`The query option '${key}' must not be repeated`);
    seen.add(key);
  }
  const get = (key: string) => params.get(key) ?? undefined;
  const format = get('$format');
  if (format !== undefined && format !== 'json') throw badRequest(`Unsupported $format '${format}'`);
  const count = get('$count');
  if (count !== undefined && count !== 'true' && count !== 'false')
    throw badRequest(`Invalid value '${count}' for $count`);
  const orderBy = (get('$orderby') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?$/i.exec(part);
      if (!match?.[1]) throw badRequest(`Invalid $orderby item '${part}'`);
      return { field: match[1], descending: match[2]?.toLowerCase() === 'desc' };
    });
  const list = (raw: string | undefined) =>
    raw === undefined
      ? undefined
      : raw
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '');
  const top = get('$top');
  const skip = get('$skip');
  const skipToken = get('$skiptoken');
  return {
    filter: get('$filter'),
    select: list(get('$select')),
    orderBy,
    top: top === undefined ? undefined : nonNegativeInteger('$top', top),
    skip: skip === undefined ? undefined : nonNegativeInteger('$skip', skip),
    skipToken: skipToken === undefined ? undefined : nonNegativeInteger('$skiptoken', skipToken),
    count: count === 'true',
    expand: list(get('$expand')) ?? [],
    search: get('$search'),
  };
}

export type Row = Record<string, unknown>;

/** How one OData entity set maps to SQL and back. */
export interface EntitySetSpec {
  name: string;
  /** `from` clause, joins included; the main table is aliased `t`. */
  from: RawBuilder<unknown>;
  /** Select list (`t.*` unless joined columns are needed). */
  columns: RawBuilder<unknown>;
  fields: Record<string, FieldSpec>;
  keys: string[];
  /** Columns appended to every ORDER BY so paging is stable. */
  tieBreak: string[];
  /** Columns searched by `$search`. */
  searchColumns?: string[];
  toEntity(row: Row): Record<string, unknown>;
  /** Navigation properties for `$expand`: loads children for a page of rows, keyed by the row's key. */
  expand?: Record<string, (db: SandboxExecutor, keys: string[]) => Promise<Map<string, unknown[]>>>;
  expandKey?: (entity: Record<string, unknown>) => string;
}

export interface ListResult {
  value: Record<string, unknown>[];
  count?: number;
  /** Offset of the next server-driven page, when there is one. */
  nextOffset?: number;
  /** `$top` still to serve after this page, when the client asked for one. */
  remainingTop?: number;
}

export function checkSelectAndExpand(spec: EntitySetSpec, options: QueryOptions): void {
  for (const name of options.select ?? []) {
    if (name === '*') continue;
    if (!spec.fields[name] && !spec.expand?.[name])
      throw badRequest(`Invalid $select: property '${name}' does not exist`, 'PROPERTY_NOT_FOUND');
  }
  for (const name of options.expand) {
    if (name.includes('(')) throw badRequest('Nested options in $expand are not supported');
    if (name !== '*' && !spec.expand?.[name])
      throw badRequest(`Invalid $expand: navigation property '${name}' does not exist`, 'PROPERTY_NOT_FOUND');
  }
}

/** Applies `$select`, always keeping the key (as CAP does), and attaches expanded navigation properties. */
export async function shape(
  db: SandboxExecutor,
  spec: EntitySetSpec,
  entities: Record<string, unknown>[],
  options: Pick<QueryOptions, 'select' | 'expand'>,
): Promise<Record<string, unknown>[]> {
  const expandNames = options.expand.includes('*') ? Object.keys(spec.expand ?? {}) : options.expand;
  const expansions: [string, Map<string, unknown[]>][] = [];
  if (expandNames.length > 0 && spec.expand && spec.expandKey && entities.length > 0) {
    const keys = entities.map(spec.expandKey);
    for (const name of expandNames) {
      const loader = spec.expand[name];
      if (loader) expansions.push([name, await loader(db, keys)]);
    }
  }
  const select = options.select && !options.select.includes('*') ? options.select : undefined;
  return entities.map((entity) => {
    let result: Record<string, unknown> = entity;
    if (select) {
      result = {};
      for (const key of spec.keys) result[key] = entity[key];
      for (const name of select) if (name in entity) result[name] = entity[name];
    }
    if (spec.expandKey) {
      const key = spec.expandKey(entity);
      for (const [name, children] of expansions) result[name] = children.get(key) ?? [];
    }
    return result;
  });
}

/** Runs a collection request: filter, search, order, count and (server-driven) paging. */
export async function listEntities(
  db: SandboxExecutor,
  spec: EntitySetSpec,
  options: QueryOptions,
  conditions: RawBuilder<boolean>[],
  pageSize: number,
): Promise<ListResult> {
  checkSelectAndExpand(spec, options);
  const where = [...conditions];
  if (options.filter !== undefined) where.push(filterToSql(parseFilter(options.filter), spec.fields));
  if (options.search && spec.searchColumns?.length) {
    const pattern = `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(
      sql<boolean>`(${sql.join(
        spec.searchColumns.map((column) => sql`${sql.ref(column)} like ${pattern} escape '\\'`),
        sql` or `,
      )})`,
    );
  }
  const whereSql = where.length > 0 ? sql`where ${sql.join(where, sql` and `)}` : sql``;

  const order = options.orderBy.map(({ field, descending }) => {
    const spec_ = spec.fields[field];
    if (!spec_)
      throw badRequest(`Invalid $orderby: property '${field}' does not exist`, 'PROPERTY_NOT_FOUND');
    if (spec_.sortable === false || spec_.type === 'collection')
      throw badRequest(`Invalid $orderby: property '${field}' cannot be sorted`);
    return sql`${sql.ref(spec_.column)} ${sql.raw(descending ? 'desc' : 'asc')}`;
  });
  for (const column of spec.tieBreak) order.push(sql`${sql.ref(column)} asc`);

  const offset = options.skipToken ?? options.skip ?? 0;
  const wanted = options.top;
  const limit = wanted === undefined ? pageSize : Math.min(wanted, pageSize);

  const result: ListResult = { value: [] };
  if (options.count) {
    const counted = await sql<{
      count: number | string;
    }>`select count(*) as count from ${spec.from} ${whereSql}`.execute(db);
    result.count = Number(counted.rows[0]?.count ?? 0);
  }
  if (limit > 0) {
    // One extra row tells whether a next page exists without a second query.
    const rows =
      await sql<Row>`select ${spec.columns} from ${spec.from} ${whereSql} order by ${sql.join(order)} limit ${limit + 1} offset ${offset}`.execute(
        db,
      );
    const page = rows.rows.slice(0, limit);
    result.value = await shape(db, spec, page.map(spec.toEntity), options);
    const more = rows.rows.length > limit;
    if (more && (wanted === undefined || wanted > limit)) {
      result.nextOffset = offset + limit;
      if (wanted !== undefined) result.remainingTop = wanted - limit;
    }
  }
  return result;
}

/** The relative `@nextLink` (as CAP emits it): same options, `$skiptoken` for the next offset. */
export function nextLink(
  setName: string,
  params: URLSearchParams,
  nextOffset: number,
  remainingTop: number | undefined,
): string {
  const next = new URLSearchParams(params);
  next.delete('$skip');
  next.delete('$skiptoken');
  if (remainingTop === undefined) next.delete('$top');
  else next.set('$top', String(remainingTop));
  next.set('$skiptoken', String(nextOffset));
  return `${setName}?${next.toString().replace(/\+/g, '%20').replace(/%24/g, '$')}`;
}
