import type { SandboxExecutor } from './tables.js';

export async function getMeta(db: SandboxExecutor, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('sandbox_meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

export async function setMeta(db: SandboxExecutor, key: string, value: string): Promise<void> {
  await db
    .insertInto('sandbox_meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}
