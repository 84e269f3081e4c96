// Module resolve hook: lets DAG files anywhere on disk `import … from 'floe'` and get this Floe's SDK.
// Registered with node:module's register(); runs on the hooks thread.
interface ResolveContext {
  conditions: string[];
  importAttributes: Record<string, string>;
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<unknown>;

let sdkUrl = '';
export function initialize(data: { sdkUrl: string }): void {
  sdkUrl = data.sdkUrl;
}
export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<unknown> {
  // Handing the URL on (not short-circuiting) lets tsx resolve it too, so its loader compiles the .ts SDK.
  return next(specifier === 'floe' ? sdkUrl : specifier, context);
}
