// Secret masking: every value registered here is replaced by `***` in what Floe writes for people to read (task
// logs, rendered commands, `floe tasks test` output, failure reasons, API error details). As Airflow's
// SecretsMasker: one masker per process, values only ever added. It imports nothing, so any module may use it.
import { StringDecoder } from 'node:string_decoder';

export const MASK = '***';

/** Key names that make a value sensitive, as Airflow's default `sensitive_var_conn_names` (substring, any case). */
export const DEFAULT_SENSITIVE_NAMES = [
  'access_token',
  'api_key',
  'apikey',
  'authorization',
  'passphrase',
  'passwd',
  'password',
  'private_key',
  'secret',
  'token',
  'keyfile_dict',
  'service_account',
  'credential',
];

/** Shorter values are not masked (as Airflow's min_length_masked_secret): masking `1` or `abc` garbles a log and hides nothing. */
export const DEFAULT_MIN_MASK_LENGTH = 5;

export interface MaskerSettings {
  sensitiveNames: readonly string[];
  minMaskLength: number;
}

/** True when a variable key, connection extra field or environment variable name looks sensitive. */
export function isSensitiveName(name: string, names: readonly string[] = DEFAULT_SENSITIVE_NAMES): boolean {
  const n = name.toLowerCase().replaceAll('-', '_');
  return names.some((s) => n.includes(s.toLowerCase().replaceAll('-', '_')));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class SecretsMasker {
  private readonly patterns = new Set<string>();
  private re: RegExp | null = null;
  private sorted: string[] = [];
  private firstChars = new Set<string>();
  settings: MaskerSettings = { sensitiveNames: DEFAULT_SENSITIVE_NAMES, minMaskLength: DEFAULT_MIN_MASK_LENGTH };

  /** How many values are masked (their spellings counted once each). */
  get size(): number {
    return this.patterns.size;
  }

  /**
   * Registers a secret. Strings are masked as written, JSON-escaped (inside JSON text) and percent-encoded
   * (inside a URI), and each line of a multi-line value on its own. An object or array registers the strings
   * under sensitive keys (all strings when `name` itself is sensitive), as Airflow's mask_secret does.
   */
  add(value: unknown, name?: string): void {
    if (value === null || value === undefined) return;
    if (typeof value === 'object') {
      const all = name !== undefined && isSensitiveName(name, this.settings.sensitiveNames);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== null && typeof v === 'object') this.add(v, all ? name : k);
        else if (all || isSensitiveName(k, this.settings.sensitiveNames)) this.add(v);
      }
      return;
    }
    const s = String(value);
    const before = this.patterns.size;
    const variants = new Set([s, s.trim()]);
    for (const line of s.split(/\r?\n/)) variants.add(line.trim());
    for (const v of [...variants]) {
      variants.add(JSON.stringify(v).slice(1, -1));
      variants.add(encodeURIComponent(v));
    }
    for (const v of variants) if (v.length >= this.settings.minMaskLength) this.patterns.add(v);
    if (this.patterns.size !== before) this.re = null;
  }

  private regex(): RegExp | null {
    if (!this.patterns.size) return null;
    if (!this.re) {
      // Longest first: a secret that contains another is masked whole.
      this.sorted = [...this.patterns].sort((a, b) => b.length - a.length);
      this.firstChars = new Set(this.sorted.map((p) => p[0]));
      this.re = new RegExp(this.sorted.map(escapeRe).join('|'), 'g');
    }
    return this.re;
  }

  /** The text with every registered secret replaced by `***`. */
  mask(text: string): string {
    const re = this.regex();
    return re ? text.replace(re, MASK) : text;
  }

  /** A copy of a JSON-like value with secrets masked in every string (keys included). */
  redact<T>(value: T): T {
    if (!this.patterns.size) return value;
    if (typeof value === 'string') return this.mask(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redact(v)) as T;
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.mask(k), this.redact(v)])) as T;
    return value;
  }

  /**
   * Where `text` can be cut so that the part before is final: not inside a secret, and the rest (at most one
   * secret long) could be the start of a secret the next chunk completes. Used by stream masking.
   */
  safeCut(text: string): number {
    const re = this.regex();
    if (!re) return text.length;
    const matches: [number, number][] = [];
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) matches.push([m.index, m.index + m[0].length]);
    const inside = (p: number) => matches.some(([s, e]) => s < p && p < e);
    const longest = Math.min(this.sorted[0].length - 1, text.length);
    for (let k = longest; k > 0; k--) {
      const start = text.length - k;
      if (!this.firstChars.has(text[start]) || inside(start)) continue;
      const tail = text.slice(start);
      if (this.sorted.some((p) => p.length > k && p.startsWith(tail))) return start;
    }
    return text.length;
  }
}

const GLOBAL = Symbol.for('floe.secrets.masker');
type WithMasker = typeof globalThis & { [GLOBAL]?: SecretsMasker };

/** This process's masker (shared by every copy of this module, e.g. the bundled CLI and a DAG file's SDK). */
export function globalMasker(): SecretsMasker {
  return ((globalThis as WithMasker)[GLOBAL] ??= new SecretsMasker());
}

/** Masks with this process's masker; what a module that must not import this one does through the symbol. */
export const maskSecrets = (text: string): string => globalMasker().mask(text);

/**
 * Masks a stream of chunks (a shell task's standard output): a secret split over two writes is still masked,
 * because the end of a chunk that could begin a secret is held back until the next chunk (or `end()`).
 */
export class MaskingStream {
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');
  constructor(private readonly masker: SecretsMasker) {}
  /** What may be written now. */
  write(chunk: string | Buffer): string {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const cut = this.masker.safeCut(this.pending);
    const out = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return this.masker.mask(out);
  }
  /** Whatever was held back, masked. */
  end(): string {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return this.masker.mask(rest);
  }
}
