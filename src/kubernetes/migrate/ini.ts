// A small reader for the INI dialect of Python's configparser (what airflow.cfg is written in):
// `=` and `:` separators, indented continuation lines, full-line `#`/`;` comments,
// [DEFAULT] fallback values, `%(name)s` interpolation, strict duplicate checks, line numbers.
// Inline comments are NOT stripped, as in configparser's defaults (`a = b # c` has value `b # c`).
// Option names keep their case and are compared exactly: Airflow's AirflowConfigParser overrides
// configparser's optionxform (which lower-cases) with one that returns the name unchanged, and looks options
// up by their lower-case name, so `Namespace = x` is an option Airflow never reads.

export class IniError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly section: string | null,
    readonly key: string | null,
    readonly detail: string,
  ) {
    const where = [line == null ? file : `${file}:${line}`, section == null ? null : `[${section}]`, key].filter(Boolean);
    super(`${where.join(' ')}: ${detail}`);
  }
}

export interface IniOption {
  /** The key as written (compared exactly, as Airflow's configparser does). */
  name: string;
  /** Joined value lines, before interpolation. */
  raw: string;
  /** 1-based line of the `key = value` line. */
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
  /** Keyed by option name as written, in file order. */
  options: Map<string, IniOption>;
}

export interface IniDocument {
  file: string;
  defaults: IniSection;
  /** Every section but DEFAULT, in file order. Section names are case-sensitive, as in configparser. */
  sections: Map<string, IniSection>;
}

export const DEFAULT_SECTION = 'DEFAULT';
const MAX_INTERPOLATION_DEPTH = 10;

/** Parses INI text the way configparser.ConfigParser() (strict, default options) reads a file. */
export function parseIni(text: string, file: string): IniDocument {
  const defaults: IniSection = { name: DEFAULT_SECTION, line: 0, options: new Map() };
  const sections = new Map<string, IniSection>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  let current: IniSection | null = null;
  let option: { entry: IniOption; lines: string[] } | null = null;
  let indentLevel = 0;
  const finish = () => {
    if (option) option.entry.raw = option.lines.join('\n').trimEnd();
    option = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i];
    const stripped = line.trim();
    const isComment = stripped.startsWith('#') || stripped.startsWith(';');
    if (stripped === '' || isComment) {
      // A blank line inside a value is kept (configparser's empty_lines_in_values); comment lines are dropped.
      if (!isComment && option) option.lines.push('');
      continue;
    }
    const indent = line.length - line.trimStart().length;
    if (current && option && indent > indentLevel) {
      option.lines.push(stripped);
      continue;
    }
    indentLevel = indent;
    const header = /^\[(.+)\]/.exec(stripped);
    if (header) {
      finish();
      const name = header[1];
      if (name === DEFAULT_SECTION) {
        current = defaults;
        continue;
      }
      if (sections.has(name)) {
        const first = sections.get(name)!;
        throw new IniError(file, lineNo, name, null, `section [${name}] already appeared on line ${first.line}`);
      }
      current = { name, line: lineNo, options: new Map() };
      sections.set(name, current);
      continue;
    }
    if (!current) {
      throw new IniError(file, lineNo, null, null, `expected a section header like [core] before ${JSON.stringify(stripped)}`);
    }
    const m = /^(.*?)\s*([=:])\s*(.*)$/.exec(stripped);
    if (!m || m[1] === '') {
      throw new IniError(
        file,
        lineNo,
        current.name,
        null,
        `expected "key = value" or "key: value", found ${JSON.stringify(stripped)}`,
      );
    }
    finish();
    const name = m[1];
    const prior = current.options.get(name);
    if (prior) {
      throw new IniError(file, lineNo, current.name, name, `option is set twice (first on line ${prior.line})`);
    }
    const entry: IniOption = { name, raw: '', line: lineNo };
    current.options.set(name, entry);
    option = { entry, lines: [m[3]] };
  }
  finish();
  return { file, defaults, sections };
}

/** The option as configparser's `get(section, key)` finds it: the section's own value, else [DEFAULT]'s (exact names). */
export function findOption(doc: IniDocument, section: string, key: string): IniOption | undefined {
  const sect = section === DEFAULT_SECTION ? doc.defaults : doc.sections.get(section);
  if (section !== DEFAULT_SECTION && !sect) return undefined;
  return sect?.options.get(key) ?? doc.defaults.options.get(key);
}

/**
 * The interpolated value of `key` in `section`, as configparser's BasicInterpolation computes it:
 * `%(name)s` is replaced by option `name` of the same section (or [DEFAULT]), recursively; `%%` is a `%`.
 */
export function interpolatedValue(doc: IniDocument, section: string, key: string): string | undefined {
  const opt = findOption(doc, section, key);
  if (!opt) return undefined;
  const out: string[] = [];
  interpolateInto(doc, section, opt, opt.raw, out, 1);
  return out.join('');
}

function interpolateInto(doc: IniDocument, section: string, opt: IniOption, rest: string, out: string[], depth: number): void {
  const fail = (detail: string) => new IniError(doc.file, opt.line, section, opt.name, detail);
  if (depth > MAX_INTERPOLATION_DEPTH) {
    throw fail(`%(…)s references nest deeper than ${MAX_INTERPOLATION_DEPTH} levels (a reference loop?)`);
  }
  while (rest) {
    const p = rest.indexOf('%');
    if (p < 0) {
      out.push(rest);
      return;
    }
    out.push(rest.slice(0, p));
    rest = rest.slice(p);
    const c = rest.charAt(1);
    if (c === '%') {
      out.push('%');
      rest = rest.slice(2);
    } else if (c === '(') {
      const m = /^%\(([^)]+)\)s/.exec(rest);
      if (!m) throw fail(`bad interpolation reference ${JSON.stringify(rest)}: expected %(name)s`);
      rest = rest.slice(m[0].length);
      const ref = findOption(doc, section, m[1]);
      if (!ref) {
        throw fail(`%(${m[1]})s refers to an option that is neither in [${section}] nor in [DEFAULT]`);
      }
      if (ref.raw.includes('%')) interpolateInto(doc, section, opt, ref.raw, out, depth + 1);
      else out.push(ref.raw);
    } else {
      throw fail(`'%' must be followed by '%' or '(' (write %% for a literal %), found ${JSON.stringify(rest)}`);
    }
  }
}
