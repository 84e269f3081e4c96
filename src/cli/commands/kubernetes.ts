// floe kubernetes …: render worker pods, migrate an airflow.cfg, clean up pods. Each subcommand loads the
// configuration, the pod pipeline or the Kubernetes client only when it runs.
import type { Command } from '@commander-js/extra-typings';
import { registerCleanup } from './kubernetes-cleanup.ts';
import { registerMigrate } from './kubernetes-migrate.ts';
import { registerPods } from './kubernetes-pods.ts';
import { registerRender } from './kubernetes-render.ts';

const config = async () => (await import('../../config/load.ts')).loadConfig();

export function registerKubernetesCommands(program: Command): void {
  const k8s = program.command('kubernetes').description('Kubernetes: render worker pods, list them, clean them up, migrate from Airflow');
  registerRender(k8s, {
    async getDag(dagId) {
      const { getDag, openRuntime } = await import('../runtime.ts');
      const rt = await openRuntime();
      try {
        return await getDag(rt, dagId);
      } finally {
        await rt.close();
      }
    },
    getPodConfig: async () => (await import('../../kubernetes/pod/config.ts')).kubernetesPodConfig(await config()),
  });
  registerMigrate(k8s);
  registerPods(k8s);
  registerCleanup(k8s, {
    api: async () => (await import('../../kubernetes/client.ts')).kubeApiFromConfig(await config()),
    namespaces: async () => {
      const k = (await config()).kubernetes;
      return [...new Set([k.namespace, ...(k.multiNamespaceMode ? k.multiNamespaces : [])])];
    },
    logsFolder: async () => (await config()).logging.logsFolder,
    async retireIdleWarmPods(namespaces, olderThanSeconds, dryRun) {
      const [{ openRuntime }, { retireIdleSince }] = await Promise.all([import('../runtime.ts'), import('../../db/warm-pods.ts')]);
      const rt = await openRuntime();
      try {
        const before = new Date(Date.now() - olderThanSeconds * 1000).toISOString();
        return (await retireIdleSince(rt.db.kysely, before, namespaces, dryRun)).map((r) => `${r.namespace}/${r.podName}`);
      } finally {
        await rt.close();
      }
    },
  });
}
