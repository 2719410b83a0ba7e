import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { SecretBox } from '@calmhub/platform';
import { exportJWK } from 'jose';
import type { SigningKeys } from '../app/context.js';
import { getMeta, setMeta } from '../store/meta.js';
import type { SandboxDb } from '../store/tables.js';

const META_KEY = 'signing_key';

/**
 * The RS256 key pair tokens are signed with. Kept (sealed) in the store so tokens survive a
 * restart; a key that cannot be unsealed (other master key) is replaced, which only
 * invalidates outstanding tokens.
 */
export async function loadSigningKeys(db: SandboxDb, secrets: SecretBox): Promise<SigningKeys> {
  const sealed = await getMeta(db, META_KEY);
  let pem = sealed === undefined ? undefined : secrets.open(sealed);
  if (pem === undefined) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await setMeta(db, META_KEY, secrets.seal(pem));
  }
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = `sandbox-${createHash('sha256').update(der).digest('hex').slice(0, 12)}`;
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}
