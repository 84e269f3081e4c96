// Test and bench entry points are TypeScript: their child processes load tsx (Floe's own processes do not).
export function tsxExecArgv(): string[] {
  return ['--import', import.meta.resolve('tsx')];
}
