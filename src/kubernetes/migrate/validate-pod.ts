// A migrated worker pod template must load in the pod pipeline exactly like a hand-written one.
import { stringify } from 'yaml';
import { parsePodTemplate, PodPipelineError } from '../pod/index.ts';
import type { ManifestIssue } from './validate-manifest.ts';

/** The pod pipeline's template checks (Kubernetes schema, API-server rules, a `base` container). */
export function validateWorkerPod(pod: unknown, file = 'pod template'): ManifestIssue[] {
  try {
    parsePodTemplate(stringify(pod), file);
    return [];
  } catch (e) {
    if (!(e instanceof PodPipelineError)) throw e;
    return e.issues.length ? e.issues.map((i) => ({ path: i.path, message: i.message })) : [{ path: e.path, message: e.detail }];
  }
}
