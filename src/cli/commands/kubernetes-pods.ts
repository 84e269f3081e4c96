// `floe kubernetes pods [--namespace NS]... [-o table|json]`: Floe's worker pods as the cluster and the database
// see them — the try each runs, and for warm pods (kubernetes.warmPods) whether they are busy or idle.
import { type Command, Option } from '@commander-js/extra-typings';
import { parseFormat, printRows } from '../output.ts';

export function registerPods(kubernetes: Command): void {
  kubernetes
    .command('pods')
    .description('Floe worker pods: phase, the try each runs, warm pods busy or idle (with how long and how many tries)')
    .option('--namespace <ns>', 'namespace (repeatable; default: kubernetes.namespace and multiNamespaces)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addOption(new Option('-o, --output <format>', 'table or json').default('table').argParser(parseFormat))
    .action(async (o) => {
      const [{ openRuntime }, { kubeApiFromConfig }, { listWarmPods }] = await Promise.all([import('../runtime.ts'), import('../../kubernetes/client.ts'), import('../../db/warm-pods.ts')]);
      const rt = await openRuntime({ migrate: false });
      try {
        const k = rt.cfg.kubernetes;
        const namespaces = o.namespace.length ? o.namespace : [...new Set([k.namespace, ...(k.multiNamespaceMode ? k.multiNamespaces : [])])];
        const api = kubeApiFromConfig(rt.cfg);
        const warm = new Map((await listWarmPods(rt.db.kysely)).map((w) => [w.podName, w]));
        const rows = [];
        for (const namespace of namespaces) {
          const { items } = await api.call((c) => c.listNamespacedPod({ namespace, labelSelector: 'floe.dev/worker=true' }));
          for (const p of items) {
            const a = p.metadata?.annotations ?? {};
            const w = warm.get(p.metadata!.name!);
            const warmState = p.metadata?.labels?.['floe.dev/spec-key'] ? (w ? w.state : 'busy') : '';
            rows.push({
              namespace,
              pod: p.metadata!.name,
              phase: p.metadata?.deletionTimestamp ? 'Terminating' : p.status?.phase,
              warm: warmState,
              try: warmState === 'idle' ? '' : `${a['floe.dev/dag-id']}.${a['floe.dev/task-id']} ${a['floe.dev/run-id']} try ${a['floe.dev/try-number']}`,
              tries_run: w?.triesRun ?? '',
              idle_since: warmState === 'idle' ? w?.idleSince : '',
              scheduler: p.metadata?.labels?.['floe.dev/scheduler-id'],
            });
          }
        }
        printRows(rows, o.output, ['namespace', 'pod', 'phase', 'warm', 'try', 'tries_run', 'idle_since', 'scheduler']);
      } finally {
        await rt.close();
      }
    });
}
