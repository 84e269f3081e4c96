// Module resolve hook: lets DAG files anywhere on disk `import … from 'floe'` and get this Floe's SDK.
let sdkUrl;
export function initialize(data) {
  sdkUrl = data.sdkUrl;
}
export async function resolve(specifier, context, next) {
  if (specifier === 'floe') return { url: sdkUrl, shortCircuit: true };
  return next(specifier, context);
}
