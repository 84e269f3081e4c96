// Module resolve hook: lets DAG files anywhere on disk `import … from 'floe'` and get this Floe's SDK.
let sdkUrl;
export function initialize(data) {
  sdkUrl = data.sdkUrl;
}
export async function resolve(specifier, context, next) {
  // Handing the URL on (not short-circuiting) lets tsx resolve it too, so its loader compiles the .ts SDK.
  if (specifier === 'floe') return next(sdkUrl, context);
  return next(specifier, context);
}
