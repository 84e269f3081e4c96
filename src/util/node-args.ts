// How Floe starts its own Node child processes (DAG parser, task runners): with tsx, resolved from this
// installation rather than the caller's working directory.
export function tsxExecArgv(): string[] {
  return ['--import', import.meta.resolve('tsx')];
}
