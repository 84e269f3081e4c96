// Bearer tokens: read tokens may GET, admin tokens may also write. Tokens come from api.readTokens /
// api.adminTokens (or FLOE__API__… variables) and from api.tokensFile, which is re-read when it changes so a
// rotated Secret takes effect without a restart. Only SHA-256 digests are kept and compared, in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { API_TOKEN_MIN_LENGTH, API_TOKEN_PATTERN, type FloeConfig } from '../config/schema.ts';

export type Role = 'read' | 'admin';

export interface Principal {
  role: Role;
  /** Where the token was configured (never the token): for the audit log. */
  source: string;
}

interface Entry extends Principal {
  digest: Buffer;
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export class AuthConfigError extends Error {}

/** `<role> <token>` lines; `#` starts a comment line. Errors name the file and line. */
export function parseTokensFile(text: string, file: string): Entry[] {
  const out: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `api.tokensFile ${file}, line ${i + 1}`;
    const m = /^(\S+)\s+(\S+)$/.exec(line);
    if (!m) throw new AuthConfigError(`${where}: expected "<role> <token>" with role read or admin`);
    const [, role, token] = m;
    if (role !== 'read' && role !== 'admin') throw new AuthConfigError(`${where}: role "${role}": expected read or admin`);
    if (token.length < API_TOKEN_MIN_LENGTH || !API_TOKEN_PATTERN.test(token))
      throw new AuthConfigError(`${where}: expected a token of at least ${API_TOKEN_MIN_LENGTH} characters of letters, digits and - . _ ~ + / (then = padding)`);
    out.push({ role, source: `api.tokensFile line ${i + 1}`, digest: digest(token) });
  });
  return out;
}

function checkDuplicates(entries: Entry[]): void {
  const seen = new Map<string, Entry>();
  for (const e of entries) {
    const k = e.digest.toString('hex');
    const prev = seen.get(k);
    if (prev) throw new AuthConfigError(`the same API token is configured twice (${prev.source} and ${e.source}): each token must be listed once, with one role`);
    seen.set(k, e);
  }
}

const FILE_CHECK_MS = 2000;

export class TokenStore {
  private inline: Entry[];
  private fromFile: Entry[] = [];
  private fileStamp = '';
  private lastCheck = 0;

  constructor(
    private readonly api: FloeConfig['api'],
    private readonly log?: Logger,
  ) {
    this.inline = [
      ...api.readTokens.map((t, i) => ({ role: 'read' as const, source: `api.readTokens[${i}]`, digest: digest(t) })),
      ...api.adminTokens.map((t, i) => ({ role: 'admin' as const, source: `api.adminTokens[${i}]`, digest: digest(t) })),
    ];
    if (api.tokensFile) {
      const stamp = this.stamp();
      if (stamp === null) throw new AuthConfigError(`api.tokensFile: ${api.tokensFile} does not exist or cannot be read`);
      this.load(stamp);
    }
    checkDuplicates([...this.inline, ...this.fromFile]);
    if (api.auth === 'token' && this.size === 0)
      throw new AuthConfigError(
        'api.auth is "token" but no API token is configured: set api.adminTokens and/or api.readTokens (or FLOE__API__ADMIN_TOKENS / FLOE__API__READ_TOKENS), ' +
          'or api.tokensFile; or set api.auth: none to serve the API without authentication',
      );
  }

  get size(): number {
    return this.inline.length + this.fromFile.length;
  }

  count(role: Role): number {
    return [...this.inline, ...this.fromFile].filter((e) => e.role === role).length;
  }

  private stamp(): string | null {
    try {
      const s = statSync(this.api.tokensFile!);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return null;
    }
  }

  private load(stamp: string): void {
    const entries = parseTokensFile(readFileSync(this.api.tokensFile!, 'utf8'), this.api.tokensFile!);
    this.fromFile = entries;
    this.fileStamp = stamp;
  }

  /** Re-reads the tokens file when it changed (checked at most every 2 s); a bad new version keeps the old tokens. */
  private refresh(): void {
    if (!this.api.tokensFile) return;
    const now = Date.now();
    if (now - this.lastCheck < FILE_CHECK_MS) return;
    this.lastCheck = now;
    const stamp = this.stamp();
    if (stamp === null || stamp === this.fileStamp) {
      if (stamp === null) this.log?.error({ file: this.api.tokensFile }, 'api.tokensFile cannot be read; keeping the tokens read before');
      return;
    }
    try {
      const before = this.fromFile;
      this.load(stamp);
      try {
        checkDuplicates([...this.inline, ...this.fromFile]);
      } catch (e) {
        this.fromFile = before;
        throw e;
      }
      this.log?.info({ file: this.api.tokensFile, tokens: this.fromFile.length }, 'API tokens file re-read');
    } catch (e) {
      this.fileStamp = stamp;
      this.log?.error({ err: e }, 'API tokens file changed but is invalid; keeping the tokens read before');
    }
  }

  /** The principal of a presented token, or null. Compares against every token so timing says nothing. */
  lookup(token: string): Principal | null {
    this.refresh();
    const d = digest(token);
    let found: Entry | null = null;
    for (const e of [...this.inline, ...this.fromFile]) if (timingSafeEqual(e.digest, d) && !found) found = e;
    return found ? { role: found.role, source: found.source } : null;
  }
}

/** The token of an `Authorization: Bearer <token>` header; null when absent, `false` when malformed. */
export function bearerToken(header: string | undefined): string | null | false {
  if (header === undefined || header === '') return null;
  const m = /^Bearer +([^\s]+) *$/i.exec(header);
  return m ? m[1] : false;
}

export const canWrite = (p: Principal): boolean => p.role === 'admin';
export const isReadMethod = (method: string): boolean => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
