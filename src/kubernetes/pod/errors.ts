// The one error type of the pod pipeline: which stage failed, where (a field path), and why.
import type { PodIssue } from './validate.ts';

export type PodStage = 'template' | 'legacy' | 'override' | 'identity' | 'hook' | 'validate';

export interface PodPipelineErrorInit {
  stage: PodStage;
  /** Field path, e.g. `executorConfig.podOverride.spec.containers[name=base].resources.limits.cpu`; '' for the whole. */
  path: string;
  /** What is wrong at `path`. */
  message: string;
  /** Where the input came from: `pod template /etc/floe/gpu.yaml`, `podMutationHook in /etc/floe/hook.ts`. */
  source?: string;
  /** Every problem when several were found (the first is `path`/`message`). */
  issues?: PodIssue[];
}

export class PodPipelineError extends Error {
  readonly stage: PodStage;
  readonly path: string;
  /** The message without source and path. */
  readonly detail: string;
  readonly source: string | null;
  readonly issues: PodIssue[];

  constructor(init: PodPipelineErrorInit) {
    const issues = init.issues?.length ? init.issues : [{ path: init.path, message: init.message }];
    const line = (i: PodIssue) => (i.path ? `${i.path}: ${i.message}` : i.message);
    const head = [init.source, line(issues[0])].filter(Boolean).join(': ');
    const rest = issues.slice(1).map((i) => `\n  ${line(i)}`).join('');
    super(head + rest);
    this.name = 'PodPipelineError';
    this.stage = init.stage;
    this.path = issues[0].path;
    this.detail = issues[0].message;
    this.source = init.source ?? null;
    this.issues = issues;
  }
}

/** Error text of anything thrown (user hooks may throw non-Errors). */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}
