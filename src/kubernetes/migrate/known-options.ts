// Every [kubernetes] / [kubernetes_executor] option of Airflow 1.10.x and 2.x that the migration knows,
// with Airflow's default for those whose default matters, and why the ones Floe has no use for are ignored.

/** Sections read besides [kubernetes]: key = value dictionaries applied to worker pods (Airflow 1.10.x). */
export const DICT_SECTIONS = [
  'kubernetes_node_selectors',
  'kubernetes_annotations',
  'kubernetes_labels',
  'kubernetes_secrets',
  'kubernetes_environment_variables',
] as const;
export type DictSection = (typeof DICT_SECTIONS)[number];

/** Airflow 2.5 moved [kubernetes] to [kubernetes_executor]; the new section wins, the old one still works. */
export const EXECUTOR_SECTIONS = ['kubernetes_executor', 'kubernetes'] as const;

/**
 * [kubernetes] options only Airflow 1.10.x reads (its default_airflow.cfg has them, 2.0.0's has not): Airflow 2
 * builds worker pods from pod_template_file alone. Checked against Airflow 1.10.12 and 2.0.0.
 */
export const AIRFLOW_1_ONLY: ReadonlySet<string> = new Set([
  'affinity',
  'airflow_configmap',
  'airflow_local_settings_configmap',
  'dags_in_image',
  'dags_volume_claim',
  'dags_volume_host',
  'dags_volume_mount_point',
  'dags_volume_subpath',
  'env_from_configmap_ref',
  'env_from_secret_ref',
  'fs_group',
  'gcp_service_account_keys',
  'git_branch',
  'git_dags_folder_mount_point',
  'git_password',
  'git_repo',
  'git_ssh_key_secret_name',
  'git_ssh_known_hosts_configmap_name',
  'git_subpath',
  'git_sync_container_repository',
  'git_sync_container_tag',
  'git_sync_credentials_secret',
  'git_sync_depth',
  'git_sync_dest',
  'git_sync_init_container_name',
  'git_sync_rev',
  'git_sync_root',
  'git_sync_run_as_user',
  'git_user',
  'image_pull_secrets',
  'logs_volume_claim',
  'logs_volume_host',
  'logs_volume_subpath',
  'run_as_user',
  'tolerations',
  'worker_container_image_pull_policy',
  'worker_service_account_name',
]);

/** [kubernetes] options that came with Airflow 2 (no 1.10.x release reads them). */
export const AIRFLOW_2_ONLY: ReadonlySet<string> = new Set([
  'enable_tcp_keepalive',
  'tcp_keep_idle',
  'tcp_keep_intvl',
  'tcp_keep_cnt',
  'task_publish_max_retries',
  'worker_pods_pending_timeout',
  'worker_pods_pending_timeout_check_interval',
  'worker_pods_pending_timeout_batch_size',
  'worker_pods_queued_check_interval',
  'multi_namespace_mode_namespace_list',
  'verify_ssl',
  'ssl_ca_cert',
  'api_client_retry_configuration',
  'logs_task_metadata',
  'pod_template_file_allow_list',
  'worker_pod_pending_fatal_container_state_reasons',
]);

export type AirflowVersion = '1.10' | '2';

/** Airflow's default for `key` in that version, or undefined when the option is not that version's. */
export function airflowDefault(key: string, version: AirflowVersion): string | undefined {
  if (version === '2' ? AIRFLOW_1_ONLY.has(key) : AIRFLOW_2_ONLY.has(key)) return undefined;
  return AIRFLOW_DEFAULTS[key];
}

/** Airflow's defaults (1.10.12 / 2.x default_airflow.cfg) for options whose absence changes the output. */
export const AIRFLOW_DEFAULTS: Record<string, string> = {
  worker_container_image_pull_policy: 'IfNotPresent',
  delete_worker_pods: 'True',
  delete_worker_pods_on_failure: 'False',
  worker_pods_creation_batch_size: '1',
  namespace: 'default',
  multi_namespace_mode: 'False',
  dags_in_image: 'False',
  in_cluster: 'True',
  git_sync_root: '/git',
  git_sync_dest: 'repo',
  git_sync_depth: '1',
  git_sync_container_repository: 'k8s.gcr.io/git-sync',
  git_sync_container_tag: 'v3.1.1',
  git_sync_init_container_name: 'git-sync-clone',
  git_sync_run_as_user: '65533',
  worker_pods_pending_timeout: '300',
};

/** Options the migration maps (the mapping code consumes each of them). */
export const MAPPED_OPTIONS = new Set([
  'pod_template_file',
  'worker_container_repository',
  'worker_container_tag',
  'worker_container_image_pull_policy',
  'namespace',
  'worker_service_account_name',
  'image_pull_secrets',
  'dags_in_image',
  'dags_volume_claim',
  'dags_volume_subpath',
  'dags_volume_host',
  'dags_volume_mount_point',
  'logs_volume_claim',
  'logs_volume_subpath',
  'logs_volume_host',
  'git_repo',
  'git_branch',
  'git_subpath',
  'git_sync_rev',
  'git_sync_depth',
  'git_user',
  'git_password',
  'git_sync_root',
  'git_sync_dest',
  'git_dags_folder_mount_point',
  'git_ssh_key_secret_name',
  'git_ssh_known_hosts_configmap_name',
  'git_sync_credentials_secret',
  'git_sync_container_repository',
  'git_sync_container_tag',
  'git_sync_init_container_name',
  'git_sync_run_as_user',
  'env_from_configmap_ref',
  'env_from_secret_ref',
  'affinity',
  'tolerations',
  'run_as_user',
  'fs_group',
  'worker_pods_creation_batch_size',
  'delete_worker_pods',
  'delete_worker_pods_on_failure',
  'multi_namespace_mode',
  'multi_namespace_mode_namespace_list',
  'worker_pods_pending_timeout',
  'task_publish_max_retries',
  'config_file',
  'cluster_context',
  'in_cluster',
]);

const CLIENT_TUNING = "Kubernetes client tuning; Floe's client sets its own timeouts, keepalive and retries";

/** Known options Floe does not use, with the reason shown in the report. */
export const IGNORED_OPTIONS: Record<string, string> = {
  airflow_configmap: 'Floe pods read floe.yaml (deploy/kubernetes ConfigMap floe-config), not airflow.cfg',
  airflow_local_settings_configmap: "Floe's pod mutation hook is kubernetes.podMutationHook (a module), not airflow_local_settings.py",
  gcp_service_account_keys: 'removed in Airflow 2; mount the key file with a Secret volume in the pod template',
  worker_resources: 'never part of a released Airflow; set resources on the base container of the pod template',
  worker_annotations:
    'no released Airflow reads it (added to Airflow\'s development branch in 2019, removed before 2.0.0, never in a 1.10.x release), ' +
    'so Airflow never applied these annotations; not migrated: [kubernetes_annotations] (1.10.x) or the pod template set annotations',
  kube_client_request_args: CLIENT_TUNING,
  delete_option_kwargs: CLIENT_TUNING,
  enable_tcp_keepalive: CLIENT_TUNING,
  tcp_keep_idle: CLIENT_TUNING,
  tcp_keep_intvl: CLIENT_TUNING,
  tcp_keep_cnt: CLIENT_TUNING,
  verify_ssl: 'TLS settings come from the kubeconfig (kubernetes.kubeconfig) or the in-cluster service account',
  ssl_ca_cert: 'TLS settings come from the kubeconfig (kubernetes.kubeconfig) or the in-cluster service account',
  api_client_retry_configuration: CLIENT_TUNING,
  worker_pods_pending_timeout_check_interval: "Floe's pod watcher checks pending pods on every event and loop",
  worker_pods_pending_timeout_batch_size: "Floe's pod watcher checks every pending pod",
  worker_pods_queued_check_interval: "Floe's scheduler re-queues lost tries through adoption and heartbeats",
  worker_pod_pending_fatal_container_state_reasons:
    'Floe always fails a try on ErrImagePull, ImagePullBackOff and CreateContainerConfigError',
  logs_task_metadata: 'Floe task logs always carry the task identity',
  pod_template_file_allow_list: "not used: Floe's named templates are kubernetes.podTemplates",
};

export function isKnownOption(key: string): boolean {
  return MAPPED_OPTIONS.has(key) || key in IGNORED_OPTIONS;
}

/** The closest known name when `word` looks like a typo of it (edit distance ≤ 3, or a prefix/suffix). */
export function suggest(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    const limit = Math.max(2, Math.min(4, Math.floor(c.length / 4)));
    // A long fragment of a name ("pending_timeout") also counts as a near miss.
    const partial = word.length >= 8 && (c.includes(word) || word.includes(c));
    const score = d <= limit ? d : partial ? limit : Infinity;
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
