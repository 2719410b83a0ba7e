import { randomBytes } from 'node:crypto';
import { readJson, writeJson } from '@calmhub/platform';
import { noRecord, SnError } from './errors.js';
import type { SnDb } from './tables.js';

interface TableDef {
  name: string;
  /** Prefix of `number` (INC0000001); none for tables without numbers. */
  numberPrefix?: string;
  defaults: Record<string, string>;
  /** Field -> referenced table; rendered as `{link, value}`. */
  references: Record<string, string>;
  readOnly?: boolean;
  /** State values that need close_code and close_notes (the out-of-the-box data policy). */
  closingStates: string[];
  /** State values after which the record is no longer active. */
  inactiveStates: string[];
  resolvedState?: string;
  closedState?: string;
  stateLabels: Record<string, string>;
}

const INCIDENT_STATES = {
  '1': 'New',
  '2': 'In Progress',
  '3': 'On Hold',
  '6': 'Resolved',
  '7': 'Closed',
  '8': 'Canceled',
};
const CHANGE_STATES = {
  '-5': 'New',
  '-4': 'Assess',
  '-3': 'Authorize',
  '-2': 'Scheduled',
  '-1': 'Implement',
  '0': 'Review',
  '3': 'Closed',
  '4': 'Canceled',
};

export const TABLES: Record<string, TableDef> = {
  incident: {
    name: 'incident',
    numberPrefix: 'INC',
    defaults: {
      state: '1',
      incident_state: '1',
      impact: '3',
      urgency: '3',
      priority: '5',
      severity: '3',
      active: 'true',
      short_description: '',
      description: '',
      caller_id: '',
      assigned_to: '',
      assignment_group: '',
      category: 'inquiry',
      subcategory: '',
      contact_type: '',
      correlation_id: '',
      correlation_display: '',
      close_code: '',
      close_notes: '',
      resolved_at: '',
      resolved_by: '',
      closed_at: '',
      closed_by: '',
      work_notes: '',
      comments: '',
    },
    references: {
      caller_id: 'sys_user',
      assigned_to: 'sys_user',
      assignment_group: 'sys_user_group',
      opened_by: 'sys_user',
      resolved_by: 'sys_user',
      closed_by: 'sys_user',
    },
    closingStates: ['6', '7'],
    inactiveStates: ['7', '8'],
    resolvedState: '6',
    closedState: '7',
    stateLabels: INCIDENT_STATES,
  },
  change_request: {
    name: 'change_request',
    numberPrefix: 'CHG',
    defaults: {
      state: '-5',
      type: 'normal',
      risk: '3',
      impact: '3',
      urgency: '3',
      priority: '5',
      active: 'true',
      short_description: '',
      description: '',
      justification: '',
      implementation_plan: '',
      backout_plan: '',
      requested_by: '',
      assigned_to: '',
      assignment_group: '',
      start_date: '',
      end_date: '',
      correlation_id: '',
      correlation_display: '',
      close_code: '',
      close_notes: '',
      closed_at: '',
      closed_by: '',
      work_notes: '',
      comments: '',
    },
    references: {
      requested_by: 'sys_user',
      assigned_to: 'sys_user',
      assignment_group: 'sys_user_group',
      opened_by: 'sys_user',
      closed_by: 'sys_user',
    },
    closingStates: ['3'],
    inactiveStates: ['3', '4'],
    closedState: '3',
    stateLabels: CHANGE_STATES,
  },
  sys_journal_field: {
    name: 'sys_journal_field',
    defaults: { element_id: '', element: '', name: '', value: '' },
    references: {},
    readOnly: true,
    closingStates: [],
    inactiveStates: [],
    stateLabels: {},
  },
};

const SYSTEM_FIELDS = new Set([
  'sys_id',
  'number',
  'sys_created_on',
  'sys_created_by',
  'sys_updated_on',
  'sys_updated_by',
  'sys_mod_count',
  'sys_class_name',
  'opened_at',
  'opened_by',
]);
const JOURNAL_FIELDS = new Set(['work_notes', 'comments']);
const LEVEL_LABELS: Record<string, string> = { '1': '1 - High', '2': '2 - Medium', '3': '3 - Low' };
const PRIORITY_LABELS: Record<string, string> = {
  '1': '1 - Critical',
  '2': '2 - High',
  '3': '3 - Moderate',
  '4': '4 - Low',
  '5': '5 - Planning',
};

/** ServiceNow's default priority lookup from impact and urgency. */
export function priorityOf(impact: string, urgency: string): string {
  const i = Number(impact);
  const u = Number(urgency);
  if (![1, 2, 3].includes(i) || ![1, 2, 3].includes(u)) return '5';
  return String(Math.min(5, i + u - 1 + (i + u === 6 ? 1 : 0)));
}

/** `table[key]` for own keys only: names such as `constructor` come from clients. */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function tableDef(name: string): TableDef {
  const def = own(TABLES, name);
  if (!def) throw new SnError(400, `Invalid table ${name}`, null);
  return def;
}

/** `YYYY-MM-DD HH:mm:ss` in UTC, ServiceNow's glide_date_time. */
export function glideTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function newSysId(): string {
  return randomBytes(16).toString('hex');
}

export interface Actor {
  userName: string;
  userSysId: string;
}

/** Values arrive as JSON of any type; ServiceNow keeps strings (and reads `{value}` for references). */
function toFieldValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { value?: unknown }).value === 'string'
  )
    return (value as { value: string }).value;
  try {
    return JSON.stringify(value);
  } catch {
    // Too deep to serialise (the body check normally refuses such bodies first).
    throw new SnError(400, 'Exception while reading request', 'The payload is not valid JSON.');
  }
}

async function loadAll(db: SnDb, table: string): Promise<Record<string, string>[]> {
  const rows = await db
    .selectFrom('snow_records')
    .select('fields')
    .where('table_name', '=', table)
    .orderBy('seq')
    .execute();
  return rows.map((row) => readJson<Record<string, string>>(row.fields));
}

export async function listRecords(db: SnDb, table: string): Promise<Record<string, string>[]> {
  tableDef(table);
  return loadAll(db, table);
}

/** sys_ids are 32 hex digits; anything else (NUL included, which PostgreSQL cannot compare) matches nothing. */
const SYS_ID = /^[0-9a-f]{32}$/;

export async function getRecord(db: SnDb, table: string, sysId: string): Promise<Record<string, string>> {
  tableDef(table);
  if (!SYS_ID.test(sysId)) throw noRecord();
  const row = await db
    .selectFrom('snow_records')
    .select('fields')
    .where('table_name', '=', table)
    .where('sys_id', '=', sysId)
    .executeTakeFirst();
  if (!row) throw noRecord();
  return readJson<Record<string, string>>(row.fields);
}

async function nextNumber(db: SnDb, table: string, prefix: string): Promise<string> {
  const row = await db
    .selectFrom('snow_counters')
    .select('next')
    .where('table_name', '=', table)
    .executeTakeFirst();
  const next = row ? row.next : 1;
  if (row)
    await db
      .updateTable('snow_counters')
      .set({ next: next + 1 })
      .where('table_name', '=', table)
      .execute();
  else await db.insertInto('snow_counters').values({ table_name: table, next: 2 }).execute();
  return `${prefix}${String(next).padStart(7, '0')}`;
}

async function addJournal(
  db: SnDb,
  table: string,
  sysId: string,
  element: string,
  text: string,
  actor: Actor,
  now: number,
) {
  const entry = {
    sys_id: newSysId(),
    element_id: sysId,
    element,
    name: table,
    value: text,
    sys_created_on: glideTime(now),
    sys_created_by: actor.userName,
  };
  await db
    .insertInto('snow_records')
    .values({
      table_name: 'sys_journal_field',
      sys_id: entry.sys_id,
      fields: writeJson(entry),
      created_at: now,
    })
    .execute();
}

/** Applies the state rules of the out-of-the-box instance: data policy, resolve/close stamps, priority. */
function applyRules(
  def: TableDef,
  before: Record<string, string> | undefined,
  record: Record<string, string>,
  actor: Actor,
  now: number,
): void {
  if ('impact' in def.defaults) record.priority = priorityOf(record.impact ?? '3', record.urgency ?? '3');
  const state = record.state ?? '';
  const changed = before?.state !== state;
  if (changed && def.closingStates.includes(state)) {
    const missing = [
      ...(record.close_code ? [] : [def.name === 'incident' ? 'Resolution code' : 'Close code']),
      ...(record.close_notes ? [] : [def.name === 'incident' ? 'Resolution notes' : 'Close notes']),
    ];
    if (missing.length > 0)
      throw new SnError(
        403,
        'Operation Failed',
        `Data Policy Exception: \n\tThe following fields are mandatory: ${missing.join(', ')}\n`,
      );
  }
  if (changed && state === def.resolvedState && !record.resolved_at) {
    record.resolved_at = glideTime(now);
    record.resolved_by = actor.userSysId;
  }
  if (changed && state === def.closedState) {
    record.closed_at = glideTime(now);
    record.closed_by = actor.userSysId;
    if (def.resolvedState && !record.resolved_at) {
      record.resolved_at = glideTime(now);
      record.resolved_by = actor.userSysId;
    }
  }
  if (
    changed &&
    before &&
    def.resolvedState &&
    before.state === def.resolvedState &&
    !def.closingStates.includes(state)
  ) {
    // Reopened: the resolution no longer holds.
    record.resolved_at = '';
    record.resolved_by = '';
  }
  if ('incident_state' in def.defaults) record.incident_state = state;
  record.active = def.inactiveStates.includes(state) ? 'false' : 'true';
}

export async function insertRecord(
  db: SnDb,
  table: string,
  input: Record<string, unknown>,
  actor: Actor,
  now: number,
): Promise<Record<string, string>> {
  const def = tableDef(table);
  if (def.readOnly)
    throw new SnError(403, 'Operation Failed', 'ACL Exception Insert Failed due to security constraints');
  return db.transaction().execute(async (trx) => {
    const record: Record<string, string> = { ...def.defaults };
    const journal: [string, string][] = [];
    for (const [key, value] of Object.entries(input)) {
      // ServiceNow silently ignores unknown and system fields on insert.
      if (SYSTEM_FIELDS.has(key) || !Object.hasOwn(def.defaults, key)) continue;
      if (JOURNAL_FIELDS.has(key)) {
        const text = toFieldValue(value);
        if (text) journal.push([key, text]);
        continue;
      }
      record[key] = toFieldValue(value);
    }
    const sysId = newSysId();
    const time = glideTime(now);
    Object.assign(record, {
      sys_id: sysId,
      ...(def.numberPrefix ? { number: await nextNumber(trx, table, def.numberPrefix) } : {}),
      opened_at: time,
      opened_by: actor.userSysId,
      sys_created_on: time,
      sys_created_by: actor.userName,
      sys_updated_on: time,
      sys_updated_by: actor.userName,
      sys_mod_count: '0',
      sys_class_name: table,
    });
    applyRules(def, undefined, record, actor, now);
    await trx
      .insertInto('snow_records')
      .values({ table_name: table, sys_id: sysId, fields: writeJson(record), created_at: now })
      .execute();
    for (const [element, text] of journal) await addJournal(trx, table, sysId, element, text, actor, now);
    return record;
  });
}

export async function updateRecord(
  db: SnDb,
  table: string,
  sysId: string,
  input: Record<string, unknown>,
  actor: Actor,
  now: number,
): Promise<Record<string, string>> {
  const def = tableDef(table);
  if (def.readOnly)
    throw new SnError(403, 'Operation Failed', 'ACL Exception Update Failed due to security constraints');
  return db.transaction().execute(async (trx) => {
    const before = await getRecord(trx, table, sysId);
    const record = { ...before };
    const journal: [string, string][] = [];
    for (const [key, value] of Object.entries(input)) {
      if (SYSTEM_FIELDS.has(key) || !Object.hasOwn(def.defaults, key)) continue;
      if (JOURNAL_FIELDS.has(key)) {
        const text = toFieldValue(value);
        if (text) journal.push([key, text]);
        continue;
      }
      record[key] = toFieldValue(value);
    }
    applyRules(def, before, record, actor, now);
    record.sys_updated_on = glideTime(now);
    record.sys_updated_by = actor.userName;
    record.sys_mod_count = String(Number(before.sys_mod_count ?? '0') + 1);
    await trx
      .updateTable('snow_records')
      .set({ fields: writeJson(record) })
      .where('table_name', '=', table)
      .where('sys_id', '=', sysId)
      .execute();
    for (const [element, text] of journal) await addJournal(trx, table, sysId, element, text, actor, now);
    return record;
  });
}

export async function deleteRecord(db: SnDb, table: string, sysId: string): Promise<void> {
  const def = tableDef(table);
  if (def.readOnly)
    throw new SnError(403, 'Operation Failed', 'ACL Exception Delete Failed due to security constraints');
  if (!SYS_ID.test(sysId)) throw noRecord();
  const result = await db
    .deleteFrom('snow_records')
    .where('table_name', '=', table)
    .where('sys_id', '=', sysId)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw noRecord();
}

async function journalText(db: SnDb, sysId: string, element: string): Promise<string> {
  const entries = (await loadAll(db, 'sys_journal_field'))
    .filter((entry) => entry.element_id === sysId && entry.element === element)
    .reverse();
  const label = element === 'work_notes' ? 'Work notes' : 'Additional comments';
  return entries
    .map((entry) => `${entry.sys_created_on} - ${entry.sys_created_by} (${label})\n${entry.value}\n\n`)
    .join('');
}

export interface RenderOptions {
  baseUrl: string;
  fields?: string[] | undefined;
  displayValue: 'false' | 'true' | 'all';
  excludeReferenceLink: boolean;
}

function displayOf(def: TableDef, field: string, value: string): string {
  if (field === 'state' || field === 'incident_state') return own(def.stateLabels, value) ?? value;
  if (field === 'impact' || field === 'urgency' || field === 'severity')
    return own(LEVEL_LABELS, value) ?? value;
  if (field === 'priority') return own(PRIORITY_LABELS, value) ?? value;
  return value;
}

/** A record as the Table API returns it: strings, references as `{link, value}` unless excluded. */
export async function renderRecord(
  db: SnDb,
  table: string,
  record: Record<string, string>,
  options: RenderOptions,
): Promise<Record<string, unknown>> {
  const def = tableDef(table);
  const out: Record<string, unknown> = {};
  const names = options.fields?.length ? options.fields : Object.keys(record);
  for (const field of names) {
    let value = own(record, field) ?? '';
    if (JOURNAL_FIELDS.has(field) && options.displayValue !== 'false')
      value = await journalText(db, record.sys_id ?? '', field);
    const refTable = own(def.references, field);
    const display = displayOf(def, field, value);
    if (refTable && value !== '') {
      const link = `${options.baseUrl}/api/now/table/${refTable}/${value}`;
      if (options.displayValue === 'all')
        out[field] = options.excludeReferenceLink
          ? { display_value: value, value }
          : { display_value: value, link, value };
      else if (options.excludeReferenceLink) out[field] = value;
      else out[field] = options.displayValue === 'true' ? { display_value: value, link } : { link, value };
    } else if (options.displayValue === 'all') out[field] = { display_value: display, value };
    else out[field] = options.displayValue === 'true' ? display : value;
  }
  return out;
}
