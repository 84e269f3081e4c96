// `floe kubernetes render DAG [TASK] [--run-id R] [--template NAME]`: the exact worker pods, no cluster.
import type { Command } from '@commander-js/extra-typings';
import type { SerializedDag } from '../../dag/model.ts';
import type { KubernetesPodConfig } from '../../kubernetes/pod/config.ts';

export interface RenderDeps {
  getDag(dagId: string): Promise<SerializedDag>;
  getPodConfig(): KubernetesPodConfig | Promise<KubernetesPodConfig>;
}

export function registerRender(kubernetes: Command, deps: RenderDeps): void {
  const render = kubernetes
    .command('render')
    .description(
      'print the pod YAML the Kubernetes executor would create for each task of a DAG ' +
        '(template, podOverride, identity and podMutationHook applied), one document per task, without a cluster',
    )
    .argument('<dag>', 'DAG id')
    .argument('[task]', 'only this task')
    .option('--run-id <runId>', 'run id the pods are for (default: manual__<now>)')
    .option('--template <name>', 'use this pod template (a kubernetes.podTemplates name, or "default") instead of each task\'s own')
    .action(async (dagId, taskId, opts) => {
      // Output goes through commander's output configuration so callers (and tests) can redirect it.
      // Errors (PodPipelineError naming task, file/hook and field) propagate to main, which prints them.
      const writeOut = render.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      // Warnings go to stderr as well as into the YAML: `render > pod.yaml` must not hide them.
      const writeErr = render.configureOutput().writeErr ?? ((s: string) => process.stderr.write(s));
      const { renderDagPods } = await import('../../kubernetes/pod/index.ts');
      const dag = await deps.getDag(dagId);
      const onWarning = (task: string, message: string) => writeErr(`warning: ${dag.dagId}.${task}: ${message}\n`);
      writeOut(await renderDagPods(dag, { cfg: await deps.getPodConfig(), taskId, runId: opts.runId, template: opts.template, onWarning }));
    });
}
