import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, parseMasterKey, readOrCreateKeyFile } from '@calmhub/platform';

/** The key that seals stored secrets: config `masterKey`, else `<dataDir>/master.key` (created 0600). */
export function loadMasterKey(config: Pick<Config, 'masterKey' | 'dataDir'>): Buffer {
  if (config.masterKey) return parseMasterKey(config.masterKey, 'masterKey (CALMHUB_MASTER_KEY)');
  mkdirSync(config.dataDir, { recursive: true });
  return readOrCreateKeyFile(join(config.dataDir, 'master.key'));
}
