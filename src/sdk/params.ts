// The parameter names of a task function, read from its source: `.partial({ y: 1 }).expand({ x: list })` binds
// fields to parameters by name, as Airflow binds keyword arguments. TypeScript keeps parameter names when it
// strips types (tsx, esbuild), so the source of `async (ctx, x: number, y = 2) => …` reads `async (ctx, x, y = 2) => …`.

const IDENT = /^[A-Za-z_$][\w$]*/;

/** Index of the bracket closing the one at `open`, skipping strings, template literals and comments; -1 if none. */
function matchingClose(src: string, open: number): number {
  const stack: string[] = [];
  const closer: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      const nl = src.indexOf('\n', i);
      if (nl < 0) return -1;
      i = nl;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) return -1;
      i = end + 1;
      continue;
    }
    if (c in closer) stack.push(closer[c]);
    else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) return -1;
      if (!stack.length) return i;
    }
  }
  return -1;
}

/** Splits a parameter list at its top-level commas. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '(' || c === '[' || c === '{' || c === '"' || c === "'" || c === '`' || (c === '/' && (list[i + 1] === '/' || list[i + 1] === '*'))) {
      if (c === '/') {
        const end = list[i + 1] === '/' ? list.indexOf('\n', i) : list.indexOf('*/', i + 2) + 1;
        i = end <= 0 ? list.length : end;
        continue;
      }
      if (c === '"' || c === "'" || c === '`') {
        for (i++; i < list.length && list[i] !== c; i++) if (list[i] === '\\') i++;
        continue;
      }
      const close = matchingClose(list, i);
      i = close < 0 ? list.length : close;
      continue;
    }
    if (c === ',') {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts.map((p) => p.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '').trim()).filter((p, i, all) => p !== '' || i < all.length - 1);
}

/**
 * The names of a function's parameters, in order (null for a destructured one), or null when its source cannot
 * be read (a bound or native function, or a shape this reader does not know).
 */
export function parameterNames(fn: (...args: never[]) => unknown): (string | null)[] | null {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn).trim();
  } catch {
    return null;
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) return null;
  src = src.replace(/^async(?=[\s(])\s*/, '');
  const single = /^([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  let names: (string | null)[];
  if (single) names = [single[1]];
  else {
    const open = src.indexOf('(');
    if (open < 0) return null;
    const close = matchingClose(src, open);
    if (close < 0) return null;
    names = splitTopLevel(src.slice(open + 1, close)).map((p) => {
      const bare = p.replace(/^\.\.\./, '').trim();
      const m = IDENT.exec(bare);
      return m && /^\s*(=|$)/.test(bare.slice(m[0].length)) ? m[0] : null;
    });
  }
  // A source with fewer parameters than the function declares is not its own (e.g. a wrapper's).
  return names.length < fn.length ? null : names;
}
