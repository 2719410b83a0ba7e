import { createCipheriv, createDecipheriv, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/** Length in bytes of a master key (AES-256). */
export const MASTER_KEY_BYTES = 32;

/**
 * Seals secrets at rest (client secrets, signing keys, tokens) with AES-256-GCM. The key lives
 * outside the database (a file in the data directory, the config, or memory), so a copied
 * database alone does not reveal credentials.
 */
export interface SecretBox {
  /** `v1.<iv>.<tag>.<ciphertext>`, each base64url; a fresh random IV per call. */
  seal(plain: string): string;
  /** Returns undefined when the value was sealed with another key or was tampered with. */
  open(sealed: string): string | undefined;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== MASTER_KEY_BYTES) throw new Error(`the master key must be ${MASTER_KEY_BYTES} bytes`);
  const secretKey = Buffer.from(key);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secretKey, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [
        'v1',
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        data.toString('base64url'),
      ].join('.');
    },
    open(sealed) {
      const [version, iv, tag, data, extra] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || data === undefined || extra !== undefined) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', secretKey, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * A master key given as text (config `masterKey`, a key file): base64 or base64url of exactly
 * 32 bytes. Throws naming `source` otherwise, never echoing the value.
 */
export function parseMasterKey(text: string, source = 'the master key'): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== MASTER_KEY_BYTES)
    throw new Error(`${source} must be the base64 of ${MASTER_KEY_BYTES} bytes`);
  return key;
}

/**
 * Reads the master key from `path` (base64 text), or creates the file with a new random key,
 * mode 0600. Safe when two processes start at once: the key is written to a private temporary
 * file (`wx`) and published with `link()`, which fails if the file already exists, so both end up
 * with the same key and nobody ever reads a half-written file. An existing file that does not
 * hold a valid key is an error, not silently replaced (that would orphan every sealed secret).
 * The directory must exist.
 */
export function readOrCreateKeyFile(path: string): Buffer {
  const existing = readKeyFile(path);
  if (existing) return existing;
  const key = randomBytes(MASTER_KEY_BYTES);
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
    return key;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return readExistingKeyFile(path);
    if (errorCode(error) !== 'EPERM' && errorCode(error) !== 'ENOTSUP') throw error;
    // A file system without hard links: exclusive create of the key file itself.
    return createExclusive(path, key);
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // Already gone.
    }
  }
}

function createExclusive(path: string, key: Buffer): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return readExistingKeyFile(path);
    throw error;
  }
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return key;
}

function readExistingKeyFile(path: string): Buffer {
  return readKeyFile(path) ?? parseMasterKey('', `the key file ${path}`);
}

function readKeyFile(path: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  return parseMasterKey(text, `the key file ${path}`);
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/**
 * Compares two secrets (tokens, passwords) in constant time. Both are hashed with SHA-256 first,
 * so inputs of different lengths take the same time and the length of the expected value does not
 * leak.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return matchesSecretDigest(a, secretDigest(b));
}

/** The digest constantTimeEqual compares: a caller checking many values against one secret keeps it. */
export function secretDigest(secret: string): Buffer {
  // One-shot digest: a Hash object cost more than the comparison on the webhook edge.
  return hash('sha256', secret, 'buffer');
}

/** constantTimeEqual against a secret's digest (secretDigest), kept by the caller. */
export function matchesSecretDigest(presented: string, digest: Buffer): boolean {
  return timingSafeEqual(secretDigest(presented), digest);
}

/**
 * Compares a presented value with a secret (as bytes, kept by the caller) in constant time in the
 * secret's content: timing tells its length only, which for a generated key (the webhook's) is no
 * secret. Far cheaper than a digest per comparison, on a path every webhook delivery takes.
 */
export function matchesSecretBytes(presented: string, secret: Buffer): boolean {
  const bytes = Buffer.from(presented, 'utf8');
  const sameLength = bytes.length === secret.length;
  // Compared whatever the length, so that the time taken does not tell whether it matched.
  return timingSafeEqual(sameLength ? bytes : secret, secret) && sameLength;
}
