import { invalidField } from '../credentials/credential-input.js';

export interface TransportObjectInput {
  pgmid?: string | undefined;
  type: string;
  name: string;
}

export interface TransportObject {
  pgmid: string | null;
  type: string;
  name: string;
}

const FIELD = 'abapTransport.objectsText';
/** Program ids that may lead a line; anything else leading is the object type. */
const PGMIDS = new Set(['R3TR', 'R3OB', 'LIMU', 'LANG', 'CORR', 'HEAD', 'ADIR']);
/** Header words of SE09/SE10 and E071 exports, skipped. */
const HEADER_WORDS = new Set(['PGMID', 'PROGRAM', 'PROG.ID', 'OBJECT', 'OBJ_NAME']);
const TYPE = /^[A-Z0-9_]{1,4}$/;
const PGMID = /^[A-Z0-9]{4}$/;
/** Control characters (C0 and DEL), which no object name holds. */
const hasControl = (text: string): boolean =>
  [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Checks and normalises one object; `where` names it in the error. */
export function checkObject(input: TransportObjectInput, where: string, field: string): TransportObject {
  const type = input.type.trim().toUpperCase();
  const pgmid = input.pgmid?.trim().toUpperCase() || null;
  // LIMU METH names pad the class name with blanks before the method; one blank is enough.
  const name = input.name.trim().replace(/\s+/g, ' ');
  if (pgmid !== null && !PGMID.test(pgmid))
    throw invalidField(field, `${where}: program id "${pgmid}" is not 4 letters/digits`);
  if (!TYPE.test(type))
    throw invalidField(field, `${where}: object type "${type}" is not 1-4 letters/digits`);
  if (name === '' || name.length > 120 || hasControl(name))
    throw invalidField(field, `${where}: object name must be 1-120 printable characters`);
  return { pgmid, type, name };
}

function fromLine(line: string, where: string): TransportObject | undefined {
  const tokens = line.trim().split(/\s+/);
  const first = tokens[0]?.toUpperCase() ?? '';
  if (HEADER_WORDS.has(first)) return undefined;
  if (PGMIDS.has(first) && tokens.length >= 3)
    return checkObject(
      { pgmid: first, type: tokens[1] as string, name: tokens.slice(2).join(' ') },
      where,
      FIELD,
    );
  if (tokens.length >= 2) return checkObject({ type: first, name: tokens.slice(1).join(' ') }, where, FIELD);
  throw invalidField(
    FIELD,
    `${where}: expected "PGMID TYPE NAME" or "TYPE NAME", got "${line.trim().slice(0, 80)}"`,
  );
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function fromJson(value: unknown): TransportObject[] {
  const list = Array.isArray(value)
    ? value
    : value && typeof value === 'object' && Array.isArray((value as { objects?: unknown }).objects)
      ? (value as { objects: unknown[] }).objects
      : undefined;
  if (!list) throw invalidField(FIELD, 'JSON must be an array of objects, or {"objects": [...]}');
  const objects: TransportObject[] = [];
  list.forEach((item, index) => {
    const where = `item ${index + 1}`;
    if (typeof item === 'string') {
      const parsed = fromLine(item, where);
      if (parsed) objects.push(parsed);
      return;
    }
    if (!item || typeof item !== 'object')
      throw invalidField(FIELD, `${where}: expected an object or a line`);
    const record = item as Record<string, unknown>;
    // E071's column names (PGMID, OBJECT, OBJ_NAME) are accepted beside the API's own.
    const type = text(record.type) ?? text(record.object) ?? text(record.OBJECT);
    const name = text(record.name) ?? text(record.obj_name) ?? text(record.OBJ_NAME);
    if (type === undefined || name === undefined)
      throw invalidField(FIELD, `${where}: needs "type" and "name"`);
    objects.push(checkObject({ pgmid: text(record.pgmid) ?? text(record.PGMID), type, name }, where, FIELD));
  });
  return objects;
}

/**
 * The objects of a transport from an export: a JSON array, or one object a line as SE09/SE10 and
 * ADT show them (`R3TR CLAS ZCL_FOO`, tabs or blanks; `TYPE NAME` without the program id).
 * Empty lines and lines starting with `*`, `#` or `//` are skipped; duplicates are dropped.
 */
export function parseTransportObjects(input: string): TransportObject[] {
  const trimmed = input.replace(/^\uFEFF/, '').trim();
  let objects: TransportObject[];
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw invalidField(FIELD, `is not valid JSON (${(error as Error).message})`);
    }
    objects = fromJson(parsed);
  } else {
    objects = [];
    trimmed.split(/\r?\n/).forEach((line, index) => {
      const content = line.trim();
      if (content === '' || content.startsWith('*') || content.startsWith('#') || content.startsWith('//'))
        return;
      const parsed = fromLine(content, `line ${index + 1}`);
      if (parsed) objects.push(parsed);
    });
  }
  return dedupe(objects);
}

export function dedupe(objects: TransportObject[]): TransportObject[] {
  const seen = new Set<string>();
  return objects.filter((o) => {
    const key = `${o.pgmid ?? ''}|${o.type}|${o.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
