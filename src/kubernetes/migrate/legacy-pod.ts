// The worker pod Airflow 1.10.x's WorkerConfiguration built from [kubernetes] options, rebuilt for Floe:
// same volumes, git-sync init container, secrets, selectors and security context; DAGs mounted at
// Floe's documented image path. Pure: settings in, Pod object out.
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IEnvFromSource } from 'kubernetes-models/v1/EnvFromSource';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { IAffinity } from 'kubernetes-models/v1/Affinity';
import type { IToleration } from 'kubernetes-models/v1/Toleration';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import path from 'node:path/posix';

/** Where the Floe image (deploy/Dockerfile) keeps DAGs; DAG volumes are mounted here. */
export const FLOE_DAGS_MOUNT = '/opt/floe/dags';
/** Where a shared logs volume is mounted in Floe worker pods. */
export const FLOE_LOGS_MOUNT = '/opt/floe/logs';
/** The Secret holding the metadata database URL (the same reference deploy/kubernetes uses). */
export const DATABASE_SECRET = { name: 'floe-database', key: 'url' } as const;

export const DAGS_VOLUME = 'floe-dags';
export const LOGS_VOLUME = 'floe-logs';
const SSH_VOLUME = 'git-sync-ssh-key';
const KNOWN_HOSTS_VOLUME = 'git-sync-known-hosts';
// Airflow's fixed names inside the SSH key Secret and known-hosts ConfigMap.
const SSH_SECRET_KEY = 'gitSshKey';
const KNOWN_HOSTS_KEY = 'known_hosts';

export interface GitSyncSettings {
  repo: string;
  branch: string;
  rev?: string;
  depth: string;
  root: string;
  dest: string;
  /** Folder inside the repository holding the DAGs (git_subpath). */
  repoSubpath?: string;
  user?: string;
  password?: string;
  credentialsSecret?: string;
  sshKeySecret?: string;
  knownHostsConfigMap?: string;
  image: string;
  containerName: string;
  runAsUser?: number;
}

export type DagSource =
  | { kind: 'image' }
  | { kind: 'claim'; claim: string; subPath?: string }
  | { kind: 'host'; path: string; subPath?: string }
  | { kind: 'git'; git: GitSyncSettings; subPath?: string };

export interface LogsVolume {
  claim?: string;
  hostPath?: string;
  subPath?: string;
}

export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export interface LegacyPodSettings {
  namespace: string;
  image: string;
  imagePullPolicy?: PullPolicy;
  serviceAccountName?: string;
  imagePullSecrets: string[];
  dags: DagSource;
  logs?: LogsVolume;
  nodeSelector: Record<string, string>;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  env: { name: string; value: string }[];
  secretEnv: { name: string; secret: string; key: string }[];
  envFromConfigMaps: string[];
  envFromSecrets: string[];
  affinity?: IAffinity;
  tolerations?: IToleration[];
  runAsUser?: number;
  fsGroup?: number;
}

/** The DAGs folder inside the worker container for a DAG source. */
export function dagsFolderFor(dags: DagSource): string {
  if (dags.kind === 'git') return path.join(FLOE_DAGS_MOUNT, dags.git.dest, dags.git.repoSubpath ?? '');
  return FLOE_DAGS_MOUNT;
}

/** Floe's own environment for worker pods: where DAGs and logs are, the database URL and encryption key Secrets. */
export function floeEnv(dagsFolder: string, logsFolder: string | null): IEnvVar[] {
  const env: IEnvVar[] = [{ name: 'FLOE_DAGS_FOLDER', value: dagsFolder }];
  if (logsFolder) env.push({ name: 'FLOE__LOGGING__LOGS_FOLDER', value: logsFolder });
  env.push({ name: 'FLOE_DATABASE_URL', valueFrom: { secretKeyRef: { name: DATABASE_SECRET.name, key: DATABASE_SECRET.key } } });
  // The key of encrypted connections and variables, as in deploy/kubernetes (optional: a cluster without it still runs).
  env.push({ name: 'FLOE__SECRETS__KEY', valueFrom: { secretKeyRef: { name: 'floe-secrets', key: 'key', optional: true } } });
  return env;
}

/** Appends `extra` variables whose names are not set yet (the user's own settings win). */
export function withEnv(env: IEnvVar[], extra: IEnvVar[]): IEnvVar[] {
  const names = new Set(env.map((e) => e.name));
  return [...env, ...extra.filter((e) => !names.has(e.name))];
}

function gitSyncContainer(g: GitSyncSettings): IContainer {
  const env: IEnvVar[] = [
    { name: 'GIT_SYNC_REPO', value: g.repo },
    { name: 'GIT_SYNC_BRANCH', value: g.branch },
    { name: 'GIT_SYNC_ROOT', value: g.root },
    { name: 'GIT_SYNC_DEST', value: g.dest },
  ];
  if (g.rev) env.push({ name: 'GIT_SYNC_REV', value: g.rev });
  env.push({ name: 'GIT_SYNC_DEPTH', value: g.depth }, { name: 'GIT_SYNC_ONE_TIME', value: 'true' });
  if (g.credentialsSecret) {
    for (const name of ['GIT_SYNC_USERNAME', 'GIT_SYNC_PASSWORD']) {
      env.push({ name, valueFrom: { secretKeyRef: { name: g.credentialsSecret, key: name } } });
    }
  } else {
    if (g.user) env.push({ name: 'GIT_SYNC_USERNAME', value: g.user });
    if (g.password) env.push({ name: 'GIT_SYNC_PASSWORD', value: g.password });
  }
  const mounts: IVolumeMount[] = [{ name: DAGS_VOLUME, mountPath: g.root, readOnly: false }];
  if (g.sshKeySecret) {
    mounts.push({ name: SSH_VOLUME, mountPath: '/etc/git-secret/ssh', subPath: 'ssh' });
    env.push({ name: 'GIT_SSH_KEY_FILE', value: '/etc/git-secret/ssh' }, { name: 'GIT_SYNC_SSH', value: 'true' });
  }
  if (g.knownHostsConfigMap) {
    mounts.push({ name: KNOWN_HOSTS_VOLUME, mountPath: '/etc/git-secret/known_hosts', subPath: KNOWN_HOSTS_KEY });
    env.push({ name: 'GIT_KNOWN_HOSTS', value: 'true' }, { name: 'GIT_SSH_KNOWN_HOSTS_FILE', value: '/etc/git-secret/known_hosts' });
  } else {
    env.push({ name: 'GIT_KNOWN_HOSTS', value: 'false' });
  }
  const c: IContainer = { name: g.containerName, image: g.image, env, volumeMounts: mounts };
  if (g.runAsUser !== undefined) c.securityContext = { runAsUser: g.runAsUser };
  return c;
}

function volumes(s: LegacyPodSettings): IVolume[] {
  const out: IVolume[] = [];
  const d = s.dags;
  if (d.kind === 'claim') out.push({ name: DAGS_VOLUME, persistentVolumeClaim: { claimName: d.claim } });
  else if (d.kind === 'host') out.push({ name: DAGS_VOLUME, hostPath: { path: d.path } });
  else if (d.kind === 'git') out.push({ name: DAGS_VOLUME, emptyDir: {} });
  if (s.logs?.claim) out.push({ name: LOGS_VOLUME, persistentVolumeClaim: { claimName: s.logs.claim } });
  else if (s.logs?.hostPath) out.push({ name: LOGS_VOLUME, hostPath: { path: s.logs.hostPath } });
  if (d.kind === 'git' && d.git.sshKeySecret) {
    out.push({
      name: SSH_VOLUME,
      // 0o440: the key must not be world-readable for ssh to accept it.
      secret: { secretName: d.git.sshKeySecret, items: [{ key: SSH_SECRET_KEY, path: 'ssh', mode: 0o440 }] },
    });
  }
  if (d.kind === 'git' && d.git.knownHostsConfigMap) {
    out.push({ name: KNOWN_HOSTS_VOLUME, configMap: { name: d.git.knownHostsConfigMap, defaultMode: 0o440 } });
  }
  return out;
}

function baseMounts(s: LegacyPodSettings): IVolumeMount[] {
  const out: IVolumeMount[] = [];
  const d = s.dags;
  if (d.kind !== 'image') {
    const m: IVolumeMount = { name: DAGS_VOLUME, mountPath: FLOE_DAGS_MOUNT, readOnly: true };
    if (d.subPath) m.subPath = d.subPath;
    out.push(m);
  }
  if (s.logs?.claim || s.logs?.hostPath) {
    const m: IVolumeMount = { name: LOGS_VOLUME, mountPath: FLOE_LOGS_MOUNT };
    if (s.logs.subPath) m.subPath = s.logs.subPath;
    out.push(m);
  }
  return out;
}

export function hasLogsVolume(s: LegacyPodSettings): boolean {
  return Boolean(s.logs?.claim || s.logs?.hostPath);
}

export function buildLegacyPod(s: LegacyPodSettings): IPod {
  let env: IEnvVar[] = s.env.map((e) => ({ name: e.name, value: e.value }));
  env = withEnv(
    env,
    s.secretEnv.map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: e.secret, key: e.key } } })),
  );
  env = withEnv(env, floeEnv(dagsFolderFor(s.dags), hasLogsVolume(s) ? FLOE_LOGS_MOUNT : null));
  const envFrom: IEnvFromSource[] = [
    ...s.envFromConfigMaps.map((name) => ({ configMapRef: { name } })),
    ...s.envFromSecrets.map((name) => ({ secretRef: { name } })),
  ];
  const base: IContainer = { name: 'base', image: s.image };
  if (s.imagePullPolicy) base.imagePullPolicy = s.imagePullPolicy;
  base.env = env;
  if (envFrom.length) base.envFrom = envFrom;
  const mounts = baseMounts(s);
  if (mounts.length) base.volumeMounts = mounts;

  const metadata: NonNullable<IPod['metadata']> = { namespace: s.namespace };
  if (Object.keys(s.labels).length) metadata.labels = { ...s.labels };
  if (Object.keys(s.annotations).length) metadata.annotations = { ...s.annotations };

  // Field order follows the usual reading order of a pod spec; containers is filled in below.
  const spec = { restartPolicy: 'Never' } as NonNullable<IPod['spec']>;
  if (s.serviceAccountName) spec.serviceAccountName = s.serviceAccountName;
  if (s.imagePullSecrets.length) spec.imagePullSecrets = s.imagePullSecrets.map((name) => ({ name }));
  if (Object.keys(s.nodeSelector).length) spec.nodeSelector = { ...s.nodeSelector };
  if (s.affinity) spec.affinity = s.affinity;
  if (s.tolerations) spec.tolerations = s.tolerations;
  const sc: IPodSecurityContext = {};
  if (s.runAsUser !== undefined) sc.runAsUser = s.runAsUser;
  if (s.fsGroup !== undefined) sc.fsGroup = s.fsGroup;
  if (Object.keys(sc).length) spec.securityContext = sc;
  if (s.dags.kind === 'git') spec.initContainers = [gitSyncContainer(s.dags.git)];
  spec.containers = [base];
  const vols = volumes(s);
  if (vols.length) spec.volumes = vols;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}
