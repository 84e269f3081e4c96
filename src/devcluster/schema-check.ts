// Schema-level checks of request bodies: JSON types against the generated OpenAPI schemas of
// kubernetes-models (the real server rejects those while decoding, with 400), and unknown fields
// (fieldValidation=Strict → 400, Warn → a Warning header) found by walking @kubernetes/client-node's models.
// Both are loaded once, asynchronously, by loadSchemas(): importing all of client-node costs seconds, so only
// the model files reachable from the served kinds are imported.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isRecord } from './types.ts';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}

interface Validatable {
  validate(): void;
}

type ModelCtor = new (data: Record<string, unknown>) => Validatable;

let validators: Record<string, ModelCtor> | undefined;
const attrIndex = new Map<string, Attr[]>();
let loading: Promise<void> | undefined;

const MODEL_TYPES: Record<string, string> = {
  Pod: 'V1Pod',
  ConfigMap: 'V1ConfigMap',
  Secret: 'V1Secret',
  Namespace: 'V1Namespace',
  Event: 'CoreV1Event',
  Node: 'V1Node',
};

function innerTypes(type: string): string[] {
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) return innerTypes(arr[1]);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return innerTypes(map[1]);
  return /^[A-Z][A-Za-z0-9]*$/.test(type) ? [type] : [];
}

async function loadModelIndex(): Promise<void> {
  const modelsDir = path.join(path.dirname(fileURLToPath(import.meta.resolve('@kubernetes/client-node'))), 'gen', 'models');
  let frontier = Object.values(MODEL_TYPES);
  const seen = new Set(frontier);
  while (frontier.length) {
    const loaded = await Promise.all(
      frontier.map(async (t) => {
        const file = path.join(modelsDir, `${t}.js`);
        if (!existsSync(file)) return [t, undefined] as const;
        const mod = (await import(pathToFileURL(file).href)) as Record<string, { getAttributeTypeMap?: () => Attr[] }>;
        return [t, mod[t]?.getAttributeTypeMap?.()] as const;
      }),
    );
    frontier = [];
    for (const [t, attrs] of loaded) {
      if (!attrs) continue;
      attrIndex.set(t, attrs);
      for (const a of attrs) {
        for (const inner of innerTypes(a.type)) {
          if (!seen.has(inner)) {
            seen.add(inner);
            frontier.push(inner);
          }
        }
      }
    }
  }
}

/** Loads the schemas the checks need; call (and await) once before serving. */
export function loadSchemas(): Promise<void> {
  loading ??= (async () => {
    const [pod, cm, secret, ns] = await Promise.all([
      import('kubernetes-models/v1/Pod'),
      import('kubernetes-models/v1/ConfigMap'),
      import('kubernetes-models/v1/Secret'),
      import('kubernetes-models/v1/Namespace'),
      loadModelIndex(),
    ]);
    validators = {
      Pod: pod.Pod as unknown as ModelCtor,
      ConfigMap: cm.ConfigMap as unknown as ModelCtor,
      Secret: secret.Secret as unknown as ModelCtor,
      Namespace: ns.Namespace as unknown as ModelCtor,
    };
  })();
  return loading;
}

/** "/spec/containers/0/name" → "spec.containers[0].name". */
export function pointerToFieldPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const t = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^[0-9]+$/.test(t)) out += `[${t}]`;
    else out += out ? `.${t}` : t;
  }
  return out;
}

/**
 * Type mismatches in `obj` (wrong JSON types), as the messages of a 400 decoding error. `required` and
 * `enum` problems are left to semantic validation, which reports them as 422 field errors.
 */
export function typeProblems(kind: string, obj: Record<string, unknown>): string[] {
  if (!validators) throw new Error('schema-check: loadSchemas() was not awaited');
  const Model = validators[kind];
  if (!Model) return [];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: AjvError[] }).errors ?? [];
    // A path is a type problem when only `type` (and oneOf) failed there: a `format`, `pattern` or `enum`
    // failure means one branch accepted the JSON type, and semantic validation reports the content (422).
    const byPath = new Map<string, { types: Set<string>; content: boolean }>();
    for (const err of errors) {
      const p = pointerToFieldPath(err.instancePath);
      const entry = byPath.get(p) ?? { types: new Set<string>(), content: false };
      byPath.set(p, entry);
      if (err.keyword === 'type') entry.types.add(String(err.params.type));
      else if (err.keyword !== 'oneOf' && err.keyword !== 'anyOf') entry.content = true;
    }
    for (const [p, entry] of byPath) if (entry.types.size === 0 || entry.content) byPath.delete(p);
    return [...byPath].map(([p, { types }]) => `${p}: expected ${[...types].join(' or ')}`);
  }
}

interface Attr {
  baseName: string;
  type: string;
}

function attrsOf(type: string): Attr[] | undefined {
  return attrIndex.get(type);
}

function walkUnknown(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => walkUnknown(v, arr[1], `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isRecord(value)) for (const [k, v] of Object.entries(value)) walkUnknown(v, map[1], `${path}.${k}`, out);
    return;
  }
  const attrs = attrsOf(type);
  if (!attrs || !isRecord(value)) return;
  const known = new Map(attrs.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = known.get(k);
    const p = path ? `${path}.${k}` : k;
    if (t === undefined) out.push(p);
    else walkUnknown(v, t, p, out);
  }
}


/** Field paths present in `obj` that the kind's schema does not define. */
export function unknownFields(kind: string, obj: unknown): string[] {
  const type = MODEL_TYPES[kind];
  if (!type) return [];
  if (attrIndex.size === 0) throw new Error('schema-check: loadSchemas() was not awaited');
  const out: string[] = [];
  walkUnknown(obj, type, '', out);
  return out;
}
