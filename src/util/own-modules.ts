// Floe runs from its compiled build (dist/, bundled by scripts/build.mjs) as users get it, and from its sources
// (src/*.ts under tsx) in tests and development. Its own entry points that are started or registered at run
// time (child processes, module hooks) are found the same way in both: every source file sits one folder
// below src/ (src/<concept>/x.ts) and every built file one folder below dist/ (an entry or a chunk).

/** True when this code runs from the TypeScript sources (tsx is loaded already). */
export const runningFromSources = import.meta.url.endsWith('.ts');

/** URL of one of Floe's entry points, by its path under src/ without extension (`dag/parse-child`). */
export function ownEntryUrl(entry: string): URL {
  return new URL(`../${entry}${runningFromSources ? '.ts' : '.js'}`, import.meta.url);
}

/** Floe's installation folder (holding bin/, src/ or dist/, package.json). */
export const floeRootUrl = new URL('../../', import.meta.url);

/** `execArgv` for Floe's own Node child processes: tsx only when running from the sources. */
export function childExecArgv(): string[] {
  return runningFromSources ? ['--import', import.meta.resolve('tsx')] : [];
}
