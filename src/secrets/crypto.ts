// Encryption at rest of connection passwords, connection extras and variable values: AES-256-GCM (node:crypto)
// with keys from `secrets.key` (FLOE__SECRETS__KEY). The first key encrypts; every key decrypts, so a key is
// rotated by putting the new one first and re-encrypting (`floe secrets rotate`) before dropping the old one.
//
// Stored form: `v1:<key id>:<base64 of iv (12 bytes) | ciphertext | tag (16 bytes)>`. The key id (8 hex digits
// of the key's SHA-256) says which key to use and what `rotate` must re-encrypt. The row's identity (e.g.
// `connection:my_db:password`) is the additional authenticated data: a value copied onto another row does not
// decrypt.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const VERSION = 'v1';

/** Thrown when a value cannot be stored or read for want of a (right) key. The message says what to do. */
export class SecretsKeyError extends Error {
  override name = 'SecretsKeyError';
}

export const HOW_TO_MAKE_A_KEY =
  'make a key with "floe secrets generate-key" (or: openssl rand -base64 32) and set it as secrets.key in floe.yaml or FLOE__SECRETS__KEY';

/** Base64 (standard or URL-safe) of exactly 32 bytes; why not, or null. */
export function keyProblem(text: string): string | null {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return 'expected a base64-encoded 32-byte key (44 characters, e.g. from "floe secrets generate-key")';
  const n = Buffer.from(text, 'base64').length;
  if (n !== KEY_BYTES) return `expected a base64-encoded 32-byte key (44 characters, e.g. from "floe secrets generate-key"); this one is ${n} bytes`;
  return null;
}

export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

export interface Keyring {
  /** Id of the key that encrypts (the first), or null without keys. */
  primaryId: string | null;
  ids: string[];
  encrypt(plain: string, aad: string): string;
  decrypt(stored: string, aad: string): string;
  /** The id of the key a stored value was encrypted with. */
  keyIdOf(stored: string): string | null;
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

export function makeKeyring(keys: readonly string[]): Keyring {
  const parsed = keys.map((k, i) => {
    const problem = keyProblem(k);
    if (problem) throw new SecretsKeyError(`secrets.key[${i}]: ${problem}`);
    const key = Buffer.from(k, 'base64');
    return { id: keyId(key), key };
  });
  const byId = new Map(parsed.map((p) => [p.id, p.key]));
  const primary = parsed[0] ?? null;
  return {
    primaryId: primary?.id ?? null,
    ids: parsed.map((p) => p.id),
    encrypt(plain, aad) {
      if (!primary) throw new SecretsKeyError(`no encryption key is configured: ${HOW_TO_MAKE_A_KEY}`);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', primary.key, iv);
      c.setAAD(Buffer.from(aad));
      const body = Buffer.concat([iv, c.update(plain, 'utf8'), c.final(), c.getAuthTag()]);
      return `${VERSION}:${primary.id}:${body.toString('base64')}`;
    },
    decrypt(stored, aad) {
      const [version, id, b64] = stored.split(':');
      if (version !== VERSION || !id || b64 === undefined) throw new SecretsKeyError('not a value encrypted by Floe (expected v1:<key id>:<data>)');
      const key = byId.get(id);
      if (!key)
        throw new SecretsKeyError(
          parsed.length
            ? `encrypted with key ${id}, which is not among the configured keys (${parsed.map((p) => p.id).join(', ')}): add that key to secrets.key`
            : `encrypted with key ${id} and no key is configured: set secrets.key (FLOE__SECRETS__KEY) to that key`,
        );
      const body = Buffer.from(b64, 'base64');
      if (body.length < 28) throw new SecretsKeyError('the encrypted value is truncated');
      const d = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(body.subarray(body.length - 16));
      try {
        return Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]).toString('utf8');
      } catch {
        throw new SecretsKeyError(`the value does not decrypt with key ${id}: it was changed, or belongs to another row`);
      }
    },
    keyIdOf(stored) {
      const [version, id] = stored.split(':');
      return version === VERSION && id ? id : null;
    },
  };
}
