// Validates Kubernetes objects against the Kubernetes OpenAPI schema (kubernetes-models, the same
// source the pod pipeline uses), picking the model class from apiVersion + kind.

export interface ManifestIssue {
  /** Dotted path inside the object, e.g. `spec.containers[0].image` ('' for the object itself). */
  path: string;
  message: string;
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

interface Validatable {
  validate(): void;
}
type ModelCtor = new (data: Record<string, unknown>) => Validatable;

const cache = new Map<string, ModelCtor | null>();

/** `/spec/containers/0/image` → `spec.containers[0].image` */
export function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** Runs a kubernetes-models validate() and turns its ajv errors into issues (one per path). */
export function issuesOf(model: Validatable): ManifestIssue[] {
  try {
    model.validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) return [{ path: '', message: (e as Error).message }];
    const byPath = new Map<string, string[]>();
    for (const err of errors) {
      let p = jsonPointerToPath(err.instancePath ?? '');
      let msg = err.message ?? 'is invalid';
      const missing = err.params?.missingProperty;
      if (typeof missing === 'string') {
        p = p ? `${p}.${missing}` : missing;
        msg = 'is required';
      }
      const list = byPath.get(p) ?? [];
      if (!list.includes(msg)) list.push(msg);
      byPath.set(p, list);
    }
    return [...byPath].map(([path, msgs]) => ({ path, message: msgs.join('; ') }));
  }
}

async function modelFor(apiVersion: string, kind: string): Promise<ModelCtor | null> {
  const id = `${apiVersion}/${kind}`;
  if (cache.has(id)) return cache.get(id)!;
  let ctor: ModelCtor | null = null;
  // The names become a module path: accept only what Kubernetes API versions and kinds look like.
  if (/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) && /^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    try {
      const mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
      const c = mod[kind];
      if (typeof c === 'function') ctor = c as ModelCtor;
    } catch {
      ctor = null;
    }
  }
  cache.set(id, ctor);
  return ctor;
}

/** Schema issues of one Kubernetes object; an unknown apiVersion/kind is itself an issue. */
export async function validateManifest(obj: unknown): Promise<ManifestIssue[]> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return [{ path: '', message: 'expected a Kubernetes object (a mapping with apiVersion and kind)' }];
  }
  const rec = obj as Record<string, unknown>;
  const { apiVersion, kind } = rec;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return [{ path: typeof apiVersion !== 'string' ? 'apiVersion' : 'kind', message: 'is required (a string)' }];
  }
  const Ctor = await modelFor(apiVersion, kind);
  if (!Ctor) return [{ path: 'kind', message: `no Kubernetes schema for apiVersion ${apiVersion}, kind ${kind}` }];
  return issuesOf(new Ctor(rec));
}

export function formatIssues(issues: ManifestIssue[]): string {
  return issues.map((i) => `${i.path || '(object)'}: ${i.message}`).join('\n');
}
