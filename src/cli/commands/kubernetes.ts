// floe kubernetes …: render worker pods, migrate an airflow.cfg.
import type { Command } from '@commander-js/extra-typings';
import { loadConfig } from '../../config/load.ts';
import { getDag, kubernetesPodConfig, openRuntime } from '../runtime.ts';
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
}
