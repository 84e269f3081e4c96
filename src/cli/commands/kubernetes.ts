// floe kubernetes …: render worker pods, migrate an airflow.cfg.
import type { Command } from '@commander-js/extra-typings';
import { loadConfig } from '../../config/load.ts';
import { getDag, kubeApi, kubernetesPodConfig, openRuntime } from '../runtime.ts';
import { registerCleanup } from './kubernetes-cleanup.ts';
import { registerMigrate } from './kubernetes-migrate.ts';
import { registerRender } from './kubernetes-render.ts';

export function registerKubernetesCommands(program: Command): void {
  const k8s = program.command('kubernetes').description('Kubernetes: render worker pods, migrate from Airflow');
  registerRender(k8s, {
    async getDag(dagId) {
      const rt = await openRuntime();
      try {
        return await getDag(rt, dagId);
      } finally {
        await rt.close();
      }
    },
    getPodConfig: () => kubernetesPodConfig(loadConfig()),
  });
  registerMigrate(k8s);
  registerCleanup(k8s, {
    api: () => kubeApi(loadConfig()),
    namespaces: () => {
      const k = loadConfig().kubernetes;
      return [...new Set([k.namespace, ...(k.multiNamespaceMode ? k.multiNamespaces : [])])];
    },
    logsFolder: () => loadConfig().logging.logsFolder,
  });
}
