// floe dev cluster: starts the Kubernetes-API test server with its process kubelet, writes a kubeconfig,
// prints how to use it, and runs until SIGINT/SIGTERM (then kills every pod process it started).
// floe dev kubelet: the same process kubelet attached to any API server (a real kube-apiserver).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '@commander-js/extra-typings';
import { floeRootUrl } from '../../util/own-modules.ts';
import type { DevClusterOptions } from '../../devcluster/index.ts';
import type { DevKubeletOptions } from '../../devcluster/dev-kubelet.ts';
import { parseStartupDelayFlag } from '../../devcluster/startup.ts';

export interface DevClusterFlags {
  port?: string;
  nodes: string;
  cpu: string;
  memory: string;
  kubeconfig?: string;
  env: string[];
  pathPrepend: string[];
  missingImagePrefix: string[];
  startupDelay?: string;
}

export interface DevKubeletFlags {
  kubeconfig: string;
  node: string;
  cpu: string;
  memory: string;
  bind: boolean;
  env: string[];
  pathPrepend: string[];
  missingImagePrefix: string[];
  startupDelay?: string;
}

/** The repo's bin directory, so a pod's `floe tasks run …` finds this installation's `floe`. */
const FLOE_BIN = fileURLToPath(new URL('bin', floeRootUrl));

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** Turns the flags into cluster options; throws an Error naming the bad flag. */
export function devClusterOptions(flags: DevClusterFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DevClusterOptions {
  let port: number | undefined;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port > 65535) throw new Error(`--port: expected a port number from 0 to 65535, got "${flags.port}"`);
  }
  const nodes = Number(flags.nodes);
  if (!/^\d+$/.test(flags.nodes) || nodes < 1 || nodes > 250) throw new Error(`--nodes: expected a number of nodes from 1 to 250, got "${flags.nodes}"`);
  const pods = podOptions(flags, env, cwd);
  return {
    port,
    nodes,
    cpu: flags.cpu,
    memory: flags.memory,
    kubeconfigPath: path.resolve(cwd, flags.kubeconfig ?? path.join(pods.home, 'dev-cluster', 'kubeconfig')),
    env: pods.env,
    pathPrepend: pods.pathPrepend,
    imageRule: pods.imageRule,
    startupDelay: pods.startupDelay,
  };
}

/** What both commands give the pods they run: environment, PATH, which images exist, how long a start takes. */
function podOptions(
  flags: Pick<DevClusterFlags, 'env' | 'pathPrepend' | 'missingImagePrefix' | 'startupDelay'>,
  env: NodeJS.ProcessEnv,
  cwd: string,
) {
  const podEnv: Record<string, string> = {};
  // Pods running `floe tasks run` need this Floe's settings (database, home, config): pass FLOE_* through.
  for (const [k, v] of Object.entries(env)) if (k.startsWith('FLOE_') && v !== undefined) podEnv[k] = v;
  // Pod processes run in their own working directories: a relative (or default) home or config file would
  // point somewhere else there, so they get the absolute paths this Floe resolves them to.
  const home = path.resolve(cwd, env.FLOE_HOME ?? '.floe');
  podEnv.FLOE_HOME = home;
  if (env.FLOE_CONFIG) podEnv.FLOE_CONFIG = path.resolve(cwd, env.FLOE_CONFIG);
  for (const kv of flags.env) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`--env: expected KEY=VALUE, got "${kv}"`);
    podEnv[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const prefixes = flags.missingImagePrefix;
  return {
    home,
    env: podEnv,
    pathPrepend: [...flags.pathPrepend.map((p) => path.resolve(p)), FLOE_BIN, path.dirname(process.execPath)],
    imageRule: prefixes.length ? (image: string) => !prefixes.some((p) => image.startsWith(p)) : undefined,
    startupDelay: flags.startupDelay === undefined ? undefined : parseStartupDelayFlag(flags.startupDelay),
  };
}

/** Turns `floe dev kubelet`'s flags into kubelet options; throws an Error naming the bad flag. */
export function devKubeletOptions(flags: DevKubeletFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): DevKubeletOptions {
  const pods = podOptions(flags, env, cwd);
  return {
    kubeconfigPath: path.resolve(cwd, flags.kubeconfig),
    nodeName: flags.node,
    cpu: flags.cpu,
    memory: flags.memory,
    bindPods: flags.bind,
    env: pods.env,
    pathPrepend: pods.pathPrepend,
    imageRule: pods.imageRule,
    startupDelay: pods.startupDelay,
  };
}

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

const STARTUP_DELAY_HELP =
  'how long pods take to start: 0 (at once), default (about 1.3 s from a cached image), or KEY=MS,... over the default with KEY scheduling, sandbox, pull, containerStart';

export function registerDevCommands(program: Command): void {
  const dev = program.command('dev').description('Development helpers');
  dev
    .command('cluster')
    .description(
      'Run a Kubernetes-API test server with a process kubelet (pods run as local processes) and write a kubeconfig for it. A test server, not a production cluster.',
    )
    .option('--port <port>', 'port on 127.0.0.1 (default: a free one)')
    .option('--nodes <n>', 'number of nodes', '1')
    .option('--cpu <quantity>', 'CPU capacity of each node', '4')
    .option('--memory <quantity>', 'memory capacity of each node', '8Gi')
    .option('--kubeconfig <path>', 'where to write the kubeconfig (default: $FLOE_HOME/dev-cluster/kubeconfig)')
    .option('--env <KEY=VALUE>', 'extra environment for every container (repeatable; FLOE_* variables are passed through)', collect, [] as string[])
    .option('--path-prepend <dir>', 'directory put in front of PATH in every container (repeatable; the floe bin directory always is)', collect, [] as string[])
    .option('--missing-image-prefix <prefix>', 'images starting with this do not "exist" (ErrImagePull), for trying failure handling (repeatable)', collect, [] as string[])
    .option('--startup-delay <spec>', STARTUP_DELAY_HELP)
    .action(async (flags) => {
      const opts = devClusterOptions(flags);
      const { startDevCluster } = await import('../../devcluster/index.ts');
      const cluster = await startDevCluster(opts);
      const out = [
        `Floe dev cluster: Kubernetes API on ${cluster.url} (core/v1), ${opts.nodes} node(s) with cpu ${opts.cpu} and memory ${opts.memory}; pods run as local processes.`,
        `kubeconfig: ${cluster.kubeconfigPath}`,
        '',
        'Use it with kubectl:',
        `  export KUBECONFIG=${cluster.kubeconfigPath}`,
        '  kubectl get nodes',
        "  kubectl run hello --image=busybox --restart=Never -- sh -c 'echo hello from a pod'",
        '  kubectl logs hello',
        '',
        `Faults for testing: curl -X PUT ${cluster.url}/_floe/faults -d '{"errorRate":0.1}'   (see docs/devcluster.md)`,
        'Stop with Ctrl-C: every pod process is killed.',
      ];
      process.stdout.write(`${out.join('\n')}\n`);
      await untilSignal();
      process.stdout.write('Stopping the dev cluster...\n');
      await cluster.stop();
    });
  dev
    .command('kubelet')
    .description(
      "Attach the dev cluster's process kubelet to any Kubernetes API server: register a node, bind pending pods that fit it, run their containers as local processes, serve their logs to the API server. For trying Floe against a real kube-apiserver on one machine.",
    )
    .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server')
    .option('--node <name>', 'name of the node to register', 'floe-dev-kubelet')
    .option('--cpu <quantity>', 'CPU capacity of the node', '4')
    .option('--memory <quantity>', 'memory capacity of the node', '8Gi')
    .option('--no-bind', 'do not bind pending pods (when a kube-scheduler runs)')
    .option('--env <KEY=VALUE>', 'extra environment for every container (repeatable; FLOE_* variables are passed through)', collect, [] as string[])
    .option('--path-prepend <dir>', 'directory put in front of PATH in every container (repeatable; the floe bin directory always is)', collect, [] as string[])
    .option('--missing-image-prefix <prefix>', 'images starting with this do not "exist" (ErrImagePull) (repeatable)', collect, [] as string[])
    .option('--startup-delay <spec>', STARTUP_DELAY_HELP)
    .action(async (flags) => {
      const opts = devKubeletOptions(flags);
      const { startDevKubelet } = await import('../../devcluster/dev-kubelet.ts');
      const kubelet = await startDevKubelet(opts);
      process.stdout.write(
        `Floe dev kubelet: node ${kubelet.nodeName} registered, kubelet endpoint https://127.0.0.1:${kubelet.port}; pods bound to it run as local processes.\nStop with Ctrl-C: every pod process is killed.\n`,
      );
      await untilSignal();
      process.stdout.write('Stopping the dev kubelet...\n');
      await kubelet.stop();
    });
}
