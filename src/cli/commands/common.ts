import type { Runtime } from '../runtime.ts';

/** Opens config + DB, runs the command body, closes; errors print as one clear line and exit 1. */
export async function withRuntime(body: (rt: Runtime) => Promise<void>, opts: { migrate?: boolean } = {}): Promise<void> {
  const { openRuntime } = await import('../runtime.ts');
  const rt = await openRuntime(opts);
  try {
    await body(rt);
  } finally {
    await rt.close();
  }
}

export { parseDateArg, parseIntArg, parseJsonObject } from './common-args.ts';
