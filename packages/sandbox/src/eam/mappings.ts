import { randomUUID } from 'node:crypto';
import { type CompiledMapping, compileMapping, type MappingIssue, validateMapping } from '@calmhub/mapping';
import { AppError } from '@calmhub/platform';
import { asBody, rejectUnknown, requiredStr, str } from '../shared/body.js';
import { CalmError, notFound } from '../shared/errors.js';
import { BUILT_IN_MAPPINGS, type BuiltInMapping } from './builtin/index.js';
import type { EamRuntime } from './runtime.js';
import type { EamExecutor, EamMappingTable } from './tables.js';

export interface Mapping {
  id: string;
  name: string;
  description: string | null;
  /** Shipped with the sandbox: read-only, copy it to change it. */
  builtIn: boolean;
  format: string;
  version: number;
  copiedFrom: string | null;
  /** The mapping document (parsed). */
  content: unknown;
  /** Validation warnings (never errors: a mapping with errors is not saved). */
  warnings: MappingIssue[];
  createdAt: string | null;
  updatedAt: string | null;
}

export interface MappingVersion {
  version: number;
  name: string;
  content: unknown;
  createdAt: string;
}

function fromBuiltIn(builtIn: BuiltInMapping): Mapping {
  return {
    id: builtIn.id,
    name: builtIn.name,
    description: builtIn.description,
    builtIn: true,
    format: 'payload-based',
    version: 1,
    copiedFrom: null,
    content: builtIn.content,
    warnings: validateMapping(builtIn.content).issues.filter((issue) => issue.severity === 'warning'),
    createdAt: null,
    updatedAt: null,
  };
}

function toMapping(row: EamMappingTable): Mapping {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtIn: false,
    format: row.format,
    version: row.version,
    copiedFrom: row.copied_from,
    content: JSON.parse(row.content) as unknown,
    warnings: validateMapping(row.content).issues.filter((issue) => issue.severity === 'warning'),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

/** Validates with the mapping engine; errors become one 400 whose details locate each issue. */
function checkContent(content: unknown): { text: string; format: string } {
  const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
  if (text === undefined) throw new AppError('validation_failed', "Property 'content' is required");
  const result = validateMapping(text);
  const errors = result.issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) {
    throw new AppError(
      'validation_failed',
      `The mapping is invalid: ${errors.length} error(s); the first at ${errors[0]?.pointer || '(document)'}: ${errors[0]?.message}`,
      { details: result.issues },
    );
  }
  return { text, format: result.format ?? 'payload-based' };
}

export function builtInMapping(id: string): BuiltInMapping | undefined {
  return BUILT_IN_MAPPINGS.find((mapping) => mapping.id === id);
}

export async function listMappings(db: EamExecutor): Promise<Mapping[]> {
  const rows = await db.selectFrom('eam_mappings').selectAll().orderBy('name').execute();
  return [...BUILT_IN_MAPPINGS.map(fromBuiltIn), ...rows.map(toMapping)];
}

async function mappingRow(db: EamExecutor, id: string): Promise<EamMappingTable | undefined> {
  return db.selectFrom('eam_mappings').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getMapping(db: EamExecutor, id: string): Promise<Mapping> {
  const builtIn = builtInMapping(id);
  if (builtIn) return fromBuiltIn(builtIn);
  const row = await mappingRow(db, id);
  if (!row) throw notFound(`No mapping ${id}`);
  return toMapping(row);
}

export async function mappingExists(db: EamExecutor, id: string): Promise<boolean> {
  return builtInMapping(id) !== undefined || (await mappingRow(db, id)) !== undefined;
}

/** The compiled mapping a delivery uses (compileMapping caches per text). */
export async function compiledMapping(db: EamExecutor, id: string): Promise<CompiledMapping | undefined> {
  const builtIn = builtInMapping(id);
  const content = builtIn ? builtIn.content : (await mappingRow(db, id))?.content;
  if (content === undefined) return undefined;
  const result = compileMapping(content);
  return result.ok ? result.mapping : undefined;
}

async function requireUniqueName(db: EamExecutor, name: string, id?: string): Promise<void> {
  if (BUILT_IN_MAPPINGS.some((mapping) => mapping.name === name))
    throw new CalmError(409, `${name} is the name of a built-in mapping; choose another name`);
  const row = await db.selectFrom('eam_mappings').select('id').where('name', '=', name).executeTakeFirst();
  if (row && row.id !== id) throw new CalmError(409, `A mapping named ${name} already exists`);
}

async function insertVersion(db: EamExecutor, row: EamMappingTable): Promise<void> {
  await db
    .insertInto('eam_mapping_versions')
    .values({
      mapping_id: row.id,
      version: row.version,
      name: row.name,
      content: row.content,
      created_at: row.updated_at,
    })
    .execute();
}

export async function createMapping(
  runtime: EamRuntime,
  raw: unknown,
  copiedFrom?: string,
): Promise<Mapping> {
  const body = asBody(raw);
  rejectUnknown(body, ['name', 'description', 'content']);
  const name = requiredStr(body, 'name', 200);
  const description = str(body, 'description', { max: 2000 }) ?? null;
  const { text, format } = checkContent(body.content);
  await requireUniqueName(runtime.db, name);
  const now = runtime.ctx.now();
  const row: EamMappingTable = {
    id: randomUUID(),
    name,
    description,
    content: text,
    format,
    version: 1,
    copied_from: copiedFrom ?? null,
    created_at: now,
    updated_at: now,
  };
  await runtime.db.transaction().execute(async (trx) => {
    await trx.insertInto('eam_mappings').values(row).execute();
    await insertVersion(trx, row);
  });
  return toMapping(row);
}

export async function copyMapping(runtime: EamRuntime, id: string, raw: unknown): Promise<Mapping> {
  const source = await getMapping(runtime.db, id);
  const body = raw === undefined || raw === null ? {} : asBody(raw);
  rejectUnknown(body, ['name', 'description']);
  const name = str(body, 'name', { max: 200 }) ?? `Copy of ${source.name}`;
  return createMapping(
    runtime,
    {
      name,
      description: str(body, 'description', { max: 2000 }) ?? source.description,
      content: source.content,
    },
    source.id,
  );
}

export async function updateMapping(runtime: EamRuntime, id: string, raw: unknown): Promise<Mapping> {
  if (builtInMapping(id))
    throw new CalmError(
      409,
      'Built-in mappings are read-only; copy it (POST /admin/eam/mappings/{id}/copy) and edit the copy',
    );
  const existing = await mappingRow(runtime.db, id);
  if (!existing) throw notFound(`No mapping ${id}`);
  const body = asBody(raw);
  rejectUnknown(body, ['name', 'description', 'content']);
  const name = str(body, 'name', { max: 200 }) ?? existing.name;
  if (name !== existing.name) await requireUniqueName(runtime.db, name, id);
  const description =
    body.description === undefined ? existing.description : (str(body, 'description', { max: 2000 }) ?? null);
  const { text, format } =
    body.content === undefined
      ? { text: existing.content, format: existing.format }
      : checkContent(body.content);
  const row: EamMappingTable = {
    ...existing,
    name,
    description,
    content: text,
    format,
    version: existing.version + 1,
    updated_at: runtime.ctx.now(),
  };
  await runtime.db.transaction().execute(async (trx) => {
    await trx.updateTable('eam_mappings').set(row).where('id', '=', id).execute();
    await insertVersion(trx, row);
  });
  return toMapping(row);
}

export async function deleteMapping(runtime: EamRuntime, id: string): Promise<void> {
  if (builtInMapping(id)) throw new CalmError(409, 'Built-in mappings cannot be deleted');
  const used = await runtime.db
    .selectFrom('eam_subscriptions')
    .select('name')
    .where('mapping_id', '=', id)
    .executeTakeFirst();
  if (used) throw new CalmError(409, `Mapping ${id} is used by subscription ${used.name}`);
  const result = await runtime.db.deleteFrom('eam_mappings').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw notFound(`No mapping ${id}`);
  await runtime.db.deleteFrom('eam_mapping_versions').where('mapping_id', '=', id).execute();
}

export async function mappingVersions(db: EamExecutor, id: string): Promise<MappingVersion[]> {
  const builtIn = builtInMapping(id);
  if (builtIn)
    return [
      { version: 1, name: builtIn.name, content: builtIn.content, createdAt: new Date(0).toISOString() },
    ];
  if (!(await mappingRow(db, id))) throw notFound(`No mapping ${id}`);
  const rows = await db
    .selectFrom('eam_mapping_versions')
    .selectAll()
    .where('mapping_id', '=', id)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((row) => ({
    version: row.version,
    name: row.name,
    content: JSON.parse(row.content) as unknown,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  }));
}

/** Validates a mapping without saving it (the app's "check" button). */
export function validateOnly(raw: unknown): {
  valid: boolean;
  format: string | null;
  issues: MappingIssue[];
} {
  const body = asBody(raw);
  const content = body.content;
  const text = typeof content === 'string' ? content : JSON.stringify(content ?? null);
  const result = validateMapping(text);
  return { valid: result.valid, format: result.format ?? null, issues: result.issues };
}
