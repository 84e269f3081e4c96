// Module resolve hook: lets DAG files anywhere on disk `import … from 'floe'` and get this Floe's SDK, and
// import Floe's own packages (e.g. @kubernetes/client-node) that their folder lacks. Registered with
// node:module's register(); runs on the hooks thread.
import { isBareSpecifier } from '../util/specifier.ts';

interface ResolveContext {
  conditions: string[];
  importAttributes: Record<string, string>;
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<unknown>;

let sdkUrl = '';
let floeUrl = '';
export function initialize(data: { sdkUrl: string; floeUrl: string }): void {
  sdkUrl = data.sdkUrl;
  floeUrl = data.floeUrl;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<unknown> {
  // Handing the URL on (not short-circuiting) lets tsx resolve it too, so its loader compiles the .ts SDK.
  if (specifier === 'floe') return next(sdkUrl, context);
  try {
    return await next(specifier, context);
  } catch (e) {
    if (!isBareSpecifier(specifier) || (e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || context.parentURL === floeUrl) throw e;
    try {
      return await next(specifier, { ...context, parentURL: floeUrl });
    } catch {
      throw e;
    }
  }
}
