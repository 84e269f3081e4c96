// Worker pod template validation: the pod pipeline's validatePod (src/kubernetes/pod/validate.ts)
// when that module is present, else the Kubernetes schema plus the one rule Floe needs (a `base` container).
import { validateManifest, type ManifestIssue } from './validate-manifest.ts';

type PodValidator = (pod: unknown) => unknown[];

let pipeline: PodValidator | null | undefined;

async function pipelineValidator(): Promise<PodValidator | null> {
  if (pipeline !== undefined) return pipeline;
  pipeline = null;
  // Resolved at run time so this module does not fail to load (or type-check) before the pipeline exists.
  const url = new URL('../pod/validate.ts', import.meta.url).href;
  try {
    const mod = (await import(url)) as { validatePod?: unknown };
    if (typeof mod.validatePod === 'function') pipeline = mod.validatePod as PodValidator;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
  return pipeline;
}

/** Normalizes the pipeline's PodIssue values (shape owned by the pod pipeline) to ManifestIssue. */
function toIssue(issue: unknown): ManifestIssue {
  if (typeof issue === 'string') return { path: '', message: issue };
  const rec = (issue ?? {}) as { path?: unknown; message?: unknown };
  const p = Array.isArray(rec.path) ? rec.path.join('.') : typeof rec.path === 'string' ? rec.path : '';
  return { path: p, message: typeof rec.message === 'string' ? rec.message : JSON.stringify(issue) };
}

export async function validateWorkerPod(pod: unknown): Promise<ManifestIssue[]> {
  const v = await pipelineValidator();
  if (v) return v(pod).map(toIssue);
  const issues = await validateManifest(pod);
  const containers = (pod as { spec?: { containers?: unknown } } | null)?.spec?.containers;
  const hasBase = Array.isArray(containers) && containers.some((c) => (c as { name?: unknown } | null)?.name === 'base');
  if (!hasBase) issues.push({ path: 'spec.containers', message: 'needs a container named "base" (the Floe worker container)' });
  return issues;
}

/** True when the pod pipeline's own validatePod is in use (reported by tests and the CLI). */
export async function usesPipelineValidator(): Promise<boolean> {
  return (await pipelineValidator()) !== null;
}
