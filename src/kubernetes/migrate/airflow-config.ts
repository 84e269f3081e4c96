// airflow.cfg as Airflow's AirflowConfigParser reads it — environment variables
// (AIRFLOW__SECTION__KEY) first, then the file, then [DEFAULT] — plus a ledger that records what
// became of every option present, so the migration report can show that nothing was dropped silently.
import { DEFAULT_SECTION, interpolatedValue, type IniDocument } from './ini.ts';
import { expandEnvVar, type Env } from './expand-env.ts';

export type OptionSource =
  | { kind: 'file'; line: number }
  | { kind: 'defaults'; line: number }
  | { kind: 'env'; name: string }
  | { kind: 'airflow-default' };

/** One option as present in the file or environment (or Airflow's default when absent). */
export interface FoundOption {
  section: string;
  /** Key as written (dictionary sections keep its case). */
  key: string;
  /**
   * As Airflow reads it: interpolated and env-expanded for options (conf.get), interpolated only for the file
   * entries of dictionary sections (as_dict).
   */
  value: string;
  source: OptionSource;
}

export type Disposition = 'mapped' | 'ignored' | 'unset' | 'unknown';

export interface ReportEntry {
  section: string;
  key: string;
  /** "line 12", "[DEFAULT] line 3", "env AIRFLOW__KUBERNETES__NAMESPACE", "Airflow default" */
  where: string;
  disposition: Disposition;
  /** For mapped: the target. Otherwise: why. */
  detail: string;
}

/** A bad value: says where it came from (file line or environment variable), which option, what was expected. */
export class MigrationError extends Error {}

export function describeSource(file: string, opt: FoundOption): string {
  const s = opt.source;
  const name = `[${opt.section}] ${opt.key}`;
  if (s.kind === 'env') return `environment variable ${s.name} (${name})`;
  if (s.kind === 'airflow-default') return `${name} (Airflow default)`;
  return `${file}:${s.line} ${s.kind === 'defaults' ? `[DEFAULT] ${opt.key}` : name}`;
}

export function whereText(opt: FoundOption): string {
  const s = opt.source;
  if (s.kind === 'env') return `env ${s.name}`;
  if (s.kind === 'airflow-default') return 'Airflow default';
  return s.kind === 'defaults' ? `[DEFAULT] line ${s.line}` : `line ${s.line}`;
}

const ENV_PREFIX = 'AIRFLOW__';

function envName(section: string, key: string): string {
  return `${ENV_PREFIX}${section.toUpperCase()}__${key.toUpperCase()}`;
}

function identity(o: FoundOption): string {
  const s = o.source;
  const src = s.kind === 'env' ? `env:${s.name}` : s.kind === 'airflow-default' ? 'default' : `${s.kind}:${s.line}`;
  // A [DEFAULT] value is one option whichever section it was looked up through.
  const section = s.kind === 'defaults' ? 'DEFAULT' : o.section;
  return `${section}\u0000${o.key.toLowerCase()}\u0000${src}`;
}

export class AirflowConfig {
  private readonly ledger = new Map<string, { opt: FoundOption; entry?: ReportEntry }>();

  constructor(
    readonly doc: IniDocument,
    readonly env: Env,
  ) {}

  get file(): string {
    return this.doc.file;
  }

  error(opt: FoundOption, detail: string): MigrationError {
    return new MigrationError(`${describeSource(this.file, opt)}: ${detail}`);
  }

  /** Every value present for `key` in the given sections, highest precedence first (Airflow's order). */
  candidates(sections: readonly string[], key: string): FoundOption[] {
    const out: FoundOption[] = [];
    for (const section of sections) {
      const name = envName(section, key);
      const raw = this.env[name];
      if (raw !== undefined) out.push({ section, key, value: expandEnvVar(raw, this.env), source: { kind: 'env', name } });
    }
    for (const section of sections) {
      const opt = this.doc.sections.get(section)?.options.get(key);
      if (opt) out.push(this.fileOption(section, opt.name, opt.line, 'file'));
    }
    if (sections.some((s) => this.doc.sections.has(s))) {
      const d = this.doc.defaults.options.get(key);
      if (d) {
        const section = sections.find((s) => this.doc.sections.has(s))!;
        out.push(this.fileOption(section, d.name, d.line, 'defaults'));
      }
    }
    return out;
  }

  private fileOption(section: string, key: string, line: number, kind: 'file' | 'defaults', expand = true): FoundOption {
    const raw = interpolatedValue(this.doc, kind === 'defaults' ? DEFAULT_SECTION : section, key) ?? '';
    return { section, key, value: expand ? expandEnvVar(raw, this.env) : raw, source: { kind, line } };
  }

  /**
   * The value Airflow's conf.get would return, or Airflow's default when the option is absent.
   * Shadowed values are recorded as ignored right away; the caller records what it did with the winner.
   */
  take(sections: readonly string[], key: string, airflowDefault?: string): FoundOption | undefined {
    const [winner, ...shadowed] = this.candidates(sections, key);
    for (const s of shadowed) {
      this.note(s, 'ignored', `overridden by ${winner.source.kind === 'env' ? '' : `[${winner.section}] `}${whereText(winner)}`);
    }
    if (winner) {
      this.track(winner);
      return winner;
    }
    if (airflowDefault === undefined) return undefined;
    const def: FoundOption = { section: sections[sections.length - 1], key, value: airflowDefault, source: { kind: 'airflow-default' } };
    this.track(def);
    return def;
  }

  /**
   * A dictionary section as Airflow's conf.as_dict() gives it: the file's keys as written, with their values
   * interpolated but not env-expanded (`$HOME/x` stays literal), then AIRFLOW__SECTION__KEY variables, whose
   * values conf expands and whose keys it lower-cases (except environment variable names); a variable replaces
   * only the file key it spells exactly.
   */
  items(section: string): FoundOption[] {
    const byKey = new Map<string, FoundOption>();
    const keepCase = section === 'kubernetes_environment_variables';
    const sect = this.doc.sections.get(section);
    for (const opt of sect?.options.values() ?? []) {
      byKey.set(opt.name, this.fileOption(section, opt.name, opt.line, 'file', false));
    }
    const prefix = `${ENV_PREFIX}${section.toUpperCase()}__`;
    for (const name of Object.keys(this.env).sort()) {
      const raw = this.env[name];
      if (!name.startsWith(prefix) || raw === undefined || name.length === prefix.length) continue;
      const rawKey = name.slice(prefix.length);
      const key = keepCase ? rawKey : rawKey.toLowerCase();
      const found: FoundOption = { section, key, value: expandEnvVar(raw, this.env), source: { kind: 'env', name } };
      const prior = byKey.get(key);
      if (prior) this.note(prior, 'ignored', `overridden by env ${name}`);
      byKey.set(key, found);
    }
    for (const f of byKey.values()) this.track(f);
    return [...byKey.values()];
  }

  /** Records `opt` as present (its fate still open). */
  track(opt: FoundOption): void {
    const id = identity(opt);
    if (!this.ledger.has(id)) this.ledger.set(id, { opt });
  }

  /** Records what became of `opt`. The first decision stands. */
  note(opt: FoundOption, disposition: Disposition, detail: string): void {
    const id = identity(opt);
    const cur = this.ledger.get(id) ?? { opt };
    if (cur.entry) return;
    cur.entry = { section: opt.section, key: opt.key, where: whereText(opt), disposition, detail };
    this.ledger.set(id, cur);
  }

  mapped(opt: FoundOption | undefined, target: string): void {
    if (!opt) return;
    if (opt.value.trim() === '') this.note(opt, 'unset', 'empty value: same as not set');
    else this.note(opt, 'mapped', target);
  }

  /** `opt` plays no part in the output: an empty value is "unset", an unused Airflow default is forgotten. */
  skip(opt: FoundOption | undefined): void {
    if (!opt) return;
    if (opt.source.kind === 'airflow-default') this.ledger.delete(identity(opt));
    else if (opt.value.trim() === '') this.note(opt, 'unset', 'empty value: same as not set');
    else this.note(opt, 'ignored', 'not used in this configuration');
  }

  ignored(opt: FoundOption | undefined, reason: string): void {
    if (opt) this.note(opt, 'ignored', reason);
  }

  /** Tracked options nobody decided on. */
  undecided(): FoundOption[] {
    return [...this.ledger.values()].filter((e) => !e.entry).map((e) => e.opt);
  }

  entries(): ReportEntry[] {
    return [...this.ledger.values()].flatMap((e) => (e.entry ? [e.entry] : []));
  }

  /**
   * Environment variables AIRFLOW__<SECTION>__* of `section`, for the unknown-option check: `key` is the option
   * Airflow reads through the variable (lower-case), or the suffix as written when it is not upper-case — Airflow
   * looks variables up by upper-case name only, so such a variable is never read.
   */
  envOptions(section: string): { name: string; key: string }[] {
    const prefix = `${ENV_PREFIX}${section.toUpperCase()}__`;
    return Object.keys(this.env)
      .filter((n) => n.startsWith(prefix) && n.length > prefix.length && this.env[n] !== undefined)
      .map((name) => {
        const suffix = name.slice(prefix.length);
        return { name, key: suffix === suffix.toUpperCase() ? suffix.toLowerCase() : suffix };
      });
  }

  /** Sections named by AIRFLOW__<SECTION>__<KEY> variables, lower-case. */
  envSections(): string[] {
    const out = new Set<string>();
    for (const n of Object.keys(this.env)) {
      const m = /^AIRFLOW__(.+?)__./.exec(n);
      if (m) out.add(m[1].toLowerCase());
    }
    return [...out];
  }
}

// ---- typed readers: Airflow's getboolean / getint / getjson, with errors naming the option ----

export function asBoolean(cfg: AirflowConfig, opt: FoundOption): boolean {
  let v = opt.value.toLowerCase().trim();
  // Airflow's getboolean drops a trailing "# comment" because configparser keeps inline comments.
  if (v.includes('#')) v = v.split('#')[0].trim();
  if (v === 't' || v === 'true' || v === '1') return true;
  if (v === 'f' || v === 'false' || v === '0') return false;
  throw cfg.error(opt, `expected True or False, found ${JSON.stringify(opt.value)}`);
}

export function asInt(cfg: AirflowConfig, opt: FoundOption, what = 'an integer'): number {
  const v = opt.value.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(v)) throw cfg.error(opt, `expected ${what}, found ${JSON.stringify(opt.value)}`);
  return Number(v.replace(/_/g, ''));
}

export function asJson(cfg: AirflowConfig, opt: FoundOption): unknown {
  try {
    return JSON.parse(opt.value);
  } catch (e) {
    // Continuation lines are part of the value, so JSON may span lines when the following lines are indented.
    throw cfg.error(opt, `not valid JSON (${(e as Error).message})`);
  }
}

/** Airflow's comma-separated lists: `a, b,,c` → [a, b, c]. */
export function asList(opt: FoundOption): string[] {
  return opt.value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
