// The secrets settings a process works with, from the `secrets` config section.
import type { FloeConfig } from '../config/schema.ts';
import { type Keyring, makeKeyring } from './crypto.ts';
import { globalMasker } from './masker.ts';

export type SecretsConfig = FloeConfig['secrets'];

export interface SecretStoreOptions {
  keyring: Keyring;
  allowPlaintext: boolean;
  sensitiveNames: readonly string[];
}

let cached: { keys: string; keyring: Keyring } | null = null;

/** What the variable and connection stores need: the keyring (made once per key list), the plaintext rule. */
export function storeOptions(cfg: { secrets: SecretsConfig }): SecretStoreOptions {
  const keys = cfg.secrets.key.join(',');
  if (cached?.keys !== keys) cached = { keys, keyring: makeKeyring(cfg.secrets.key) };
  return { keyring: cached.keyring, allowPlaintext: cfg.secrets.allowPlaintext, sensitiveNames: cfg.secrets.sensitiveNames };
}

/**
 * Sets this process's masker to the configured rules and registers the configuration's own secrets: the
 * encryption keys, API tokens and the passwords in the database and Redis URLs.
 */
export function configureMasker(cfg: Pick<FloeConfig, 'secrets' | 'database' | 'api' | 'queue'>): void {
  const m = globalMasker();
  m.settings = { sensitiveNames: cfg.secrets.sensitiveNames, minMaskLength: cfg.secrets.minMaskLength };
  for (const k of cfg.secrets.key) m.add(k);
  for (const t of [...cfg.api.readTokens, ...cfg.api.adminTokens]) m.add(t);
  for (const url of [cfg.database.url, cfg.queue.redisUrl]) {
    const pw = url ? /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]+)@/i.exec(url)?.[1] : undefined;
    if (pw) {
      m.add(pw);
      try {
        m.add(decodeURIComponent(pw));
      } catch {
        /* kept as written */
      }
    }
  }
}
