// `floe kubernetes migrate-airflow-cfg`: airflow.cfg ([kubernetes] of Airflow 1.10.x / 2.x) → a Floe worker
// pod template + the matching floe.yaml keys + a report of what happened to every option read.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IAffinity } from 'kubernetes-models/v1/Affinity';
import type { IToleration } from 'kubernetes-models/v1/Toleration';
import { Affinity } from 'kubernetes-models/v1/Affinity';
import { Toleration } from 'kubernetes-models/v1/Toleration';
import { parseIni } from './ini.ts';
import type { Env } from './expand-env.ts';
import {
  AirflowConfig,
  MigrationError,
  asBoolean,
  asInt,
  asJson,
  asList,
  describeSource,
  type FoundOption,
  type ReportEntry,
} from './airflow-config.ts';
import {
  AIRFLOW_1_ONLY,
  DICT_SECTIONS,
  EXECUTOR_SECTIONS,
  IGNORED_OPTIONS,
  MAPPED_OPTIONS,
  airflowDefault,
  isKnownOption,
  suggest,
  type AirflowVersion,
  type DictSection,
} from './known-options.ts';
import { detectAirflowVersion, type DetectedVersion, type VersionEvidence } from './airflow-version.ts';
import {
  FLOE_DAGS_MOUNT,
  FLOE_LOGS_MOUNT,
  PULL_POLICIES,
  buildLegacyPod,
  dagsFolderFor,
  hasLogsVolume,
  type DagSource,
  type GitSyncSettings,
  type LegacyPodSettings,
  type LogsVolume,
  type PullPolicy,
} from './legacy-pod.ts';
import { adaptTemplate, parseTemplate } from './template-pod.ts';
import { checkFragment, deletePolicy, renderFloeYaml, type FloeFragment } from './floe-config.ts';
import { issuesOf, formatIssues } from './validate-manifest.ts';
import { validateWorkerPod } from './validate-pod.ts';

export interface MigrateInput {
  /** Path of airflow.cfg. */
  cfgPath: string;
  /** Where the pod template will be written (its path goes into kubernetes.podTemplateFile). */
  templatePath: string;
  /** floe.yaml to merge the keys into; null: the fragment is only returned (printed by the CLI). */
  floeConfigPath?: string | null;
  /** Environment applied as Airflow does (AIRFLOW__SECTION__KEY overrides, $VAR expansion). Default process.env. */
  env?: Env;
  cwd?: string;
}

export interface MigrationReport {
  cfgFile: string;
  /** The Airflow the configuration is for, and what in it says so. */
  airflow: DetectedVersion;
  /**
   * legacy: pod built from [kubernetes] options (1.10.x); template: an existing pod_template_file; minimal: an
   * Airflow 2 configuration without pod_template_file (a pod of the worker image and namespace only).
   */
  style: 'legacy' | 'template' | 'minimal';
  templateSource: string | null;
  entries: ReportEntry[];
  warnings: string[];
  notes: string[];
  /** Sections outside the Kubernetes executor's configuration, with their option counts. */
  otherSections: { name: string; options: number }[];
}

export interface MigrationResult {
  pod: IPod;
  podYaml: string;
  fragment: FloeFragment;
  floeYaml: string;
  templatePath: string;
  floeConfigPath: string | null;
  report: MigrationReport;
}

const K = EXECUTOR_SECTIONS;
const TEMPLATE_SET = 'pod_template_file is set: the template defines the pod, and Airflow ignores this option too';
const NOT_IN_2 = 'an Airflow 1.10.x option: Airflow 2 does not read it (its worker pods come from pod_template_file alone)';
const WORKER_ANNOTATIONS_SET =
  'worker_annotations is set, but no released Airflow reads it: your Airflow worker pods never had these annotations, and ' +
  'the migration does not add them (put them in metadata.annotations of the pod template if you want them)';
/** Options only the 1.10.x pod builder reads. */
const POD_OPTIONS = [...MAPPED_OPTIONS].filter(
  (k) =>
    ![
      'pod_template_file',
      'worker_container_repository',
      'worker_container_tag',
      'namespace',
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
    ].includes(k),
);
const AFFINITY_KEYS = new Set(['nodeAffinity', 'podAffinity', 'podAntiAffinity']);
const TOLERATION_KEYS = new Set(['key', 'operator', 'value', 'effect', 'tolerationSeconds']);

/** Reads airflow.cfg (and an existing pod_template_file) and computes every output. Writes nothing. */
export async function migrateAirflowCfg(input: MigrateInput): Promise<MigrationResult> {
  const cwd = input.cwd ?? process.cwd();
  const env = input.env ?? process.env;
  const cfgFile = path.resolve(cwd, input.cfgPath);
  const templatePath = path.resolve(cwd, input.templatePath);
  const floeConfigPath = input.floeConfigPath ? path.resolve(cwd, input.floeConfigPath) : null;
  const text = readInput(cfgFile, input.cfgPath, 'airflow.cfg');
  const cfg = new AirflowConfig(parseIni(text, input.cfgPath), env);
  const m = new Migration(cfg, path.dirname(cfgFile), cwd);
  const { pod, fragment } = m.run(templatePath, floeConfigPath ?? path.join(cwd, 'floe.yaml'));

  if (m.templateSource && templatePath === path.resolve(cwd, m.templateSource)) {
    throw new MigrationError(`-o ${input.templatePath}: would overwrite the Airflow pod template it reads; pick another output file`);
  }
  const issues = validateWorkerPod(pod, input.templatePath);
  if (issues.length) {
    const from = m.templateSource ? ` (from ${m.templateSource})` : '';
    throw new MigrationError(`the migrated pod template${from} is not a valid Floe pod template:\n${formatIssues(issues)}`);
  }
  checkFragment(fragment, 'migrated floe.yaml keys');
  const header = `# Generated by floe kubernetes migrate-airflow-cfg from ${input.cfgPath}`;
  const podYaml = `${header}\n${stringify(pod)}`;
  const existing = floeConfigPath && existsSync(floeConfigPath) ? readFileSync(floeConfigPath, 'utf8') : null;
  const floeYaml = renderFloeYaml(fragment, existing, input.floeConfigPath ?? 'floe.yaml', header);
  return { pod, podYaml, fragment, floeYaml, templatePath, floeConfigPath, report: m.report(input.cfgPath) };
}

/** Writes the pod template and, when a floe.yaml path was given, the merged floe.yaml. */
export function writeMigration(r: MigrationResult): void {
  writeFileSync(r.templatePath, r.podYaml);
  if (r.floeConfigPath) writeFileSync(r.floeConfigPath, r.floeYaml);
}

function readInput(abs: string, shown: string, what: string): string {
  if (!existsSync(abs)) throw new MigrationError(`${shown}: no such file (expected the ${what} to migrate)`);
  if (statSync(abs).isDirectory()) throw new MigrationError(`${shown}: is a directory, expected the ${what} file`);
  return readFileSync(abs, 'utf8');
}

/** `./x.yaml` relative to floe.yaml's folder (how Floe resolves paths in floe.yaml), else absolute. */
function relativeTo(fromFile: string, target: string): string {
  const rel = path.relative(path.dirname(fromFile), target).split(path.sep).join('/');
  return rel.startsWith('..') ? target : `./${rel}`;
}

/**
 * Why Airflow never reads an option whose name differs from a known one only in case, or null. Airflow keeps
 * option names as written and looks them up in lower case (and variables in upper case), so `Namespace = x`
 * and AIRFLOW__KUBERNETES__Namespace are not its `namespace`.
 */
function caseProblem(o: FoundOption): string | null {
  const lower = o.key.toLowerCase();
  if (!isKnownOption(lower)) return null;
  let meant: string;
  if (o.source.kind === 'env') {
    if (o.source.name === o.source.name.toUpperCase()) return null;
    meant = o.source.name.toUpperCase();
  } else {
    if (o.key === lower) return null;
    meant = lower;
  }
  return `names are case-sensitive in Airflow, which reads only ${meant}: not read by Airflow, not migrated (did you mean ${meant}?)`;
}

class Migration {
  readonly warnings: string[] = [];
  readonly notes: string[] = [];
  style: MigrationReport['style'] = 'legacy';
  templateSource: string | null = null;
  airflow: DetectedVersion = { version: '1.10', reason: '' };

  constructor(
    readonly cfg: AirflowConfig,
    readonly cfgDir: string,
    readonly cwd: string,
  ) {}

  private get version(): AirflowVersion {
    return this.airflow.version;
  }

  /** Airflow's value of `key`: present, else that Airflow version's default (none for another version's option). */
  private take(key: string): FoundOption | undefined {
    return this.cfg.take(K, key, airflowDefault(key, this.version));
  }

  /** A non-empty string value (empty means unset, as in Airflow), recorded as mapped to `target`. */
  private str(key: string, target: string): string | undefined {
    const o = this.take(key);
    this.cfg.mapped(o, target);
    return o?.value.trim() || undefined;
  }

  private bool(key: string, target: string): boolean {
    const o = this.take(key)!;
    const v = asBoolean(this.cfg, o);
    this.cfg.mapped(o, target);
    return v;
  }

  private int(key: string, target: string, min = 0): number | undefined {
    const o = this.take(key);
    if (!o || o.value.trim() === '') {
      this.cfg.mapped(o, target);
      return undefined;
    }
    const v = asInt(this.cfg, o, min > 0 ? 'a positive integer' : 'a non-negative integer');
    if (v < min) throw this.cfg.error(o, `expected ${min > 0 ? 'a positive' : 'a non-negative'} integer, found ${v}`);
    this.cfg.mapped(o, target);
    return v;
  }

  run(templatePath: string, floeConfigPath: string): { pod: IPod; fragment: FloeFragment } {
    this.airflow = detectAirflowVersion(this.inventory());
    const namespace = this.str('namespace', 'kubernetes.namespace, pod metadata.namespace') ?? 'default';
    const settings = this.floeSettings(namespace, relativeTo(floeConfigPath, templatePath));
    const templateOpt = this.take('pod_template_file');
    if (this.cfg.candidates(K, 'worker_annotations').some((o) => o.value.trim())) this.warnings.push(WORKER_ANNOTATIONS_SET);
    let pod: IPod;
    let dagsFolder: string;
    let logsFolder: string | null = null;
    if (templateOpt && templateOpt.value.trim()) {
      this.style = 'template';
      ({ pod, dagsFolder } = this.fromTemplate(templateOpt, namespace));
    } else if (this.version === '2') {
      this.style = 'minimal';
      this.cfg.skip(templateOpt);
      ({ pod, dagsFolder } = this.withoutTemplate(namespace));
    } else {
      this.cfg.skip(templateOpt);
      const s = this.legacySettings(namespace);
      pod = buildLegacyPod(s);
      dagsFolder = dagsFolderFor(s.dags);
      if (hasLogsVolume(s)) logsFolder = FLOE_LOGS_MOUNT;
    }
    this.cfg.ignored(
      this.cfg.take(['database', 'core'], 'sql_alchemy_conn'),
      `Floe's metadata database is its own: FLOE_DATABASE_URL, from Secret floe-database (key url) in worker pods`,
    );
    this.cfg.ignored(
      this.cfg.take(['core'], 'fernet_key'),
      "Floe encrypts connections and variables with its own key, secrets.key (FLOE__SECRETS__KEY, from Secret floe-secrets in worker pods): " +
        'move them with airflow connections/variables export and floe connections/variables import; AIRFLOW_CONN_* and AIRFLOW_VAR_* variables are read as they are',
    );
    const base = pod.spec?.containers.find((c) => c.name === 'base');
    const workerImage = base?.image ?? 'floe:latest';
    this.notes.unshift(
      `worker image ${workerImage}: it must contain Floe and your DAGs ported to Floe (build it FROM the image of deploy/Dockerfile); ` +
        'an Airflow image cannot run floe tasks run',
    );
    const { namespace: ns, podTemplateFile, ...rest } = settings;
    const executor = this.executor();
    const fragment: FloeFragment = {
      core: { dagsFolder, executor },
      kubernetes: { namespace: ns, podTemplateFile, workerImage, ...rest },
    };
    if (logsFolder) fragment.logging = { logsFolder };
    if (executor === 'hybrid') {
      const q = this.cfg.take(['celery_kubernetes_executor', 'local_kubernetes_executor'], 'kubernetes_queue', 'kubernetes');
      this.cfg.mapped(q, 'hybrid.kubernetesQueue');
      fragment.hybrid = { kubernetesQueue: q!.value.trim() || 'kubernetes' };
    }
    this.finish();
    return { pod, fragment };
  }

  /**
   * Records every option present in the executor sections so unknown ones get reported, and returns what tells
   * the Airflow version.
   */
  private inventory(): VersionEvidence {
    const options: string[] = [];
    for (const section of K) {
      const sect = this.cfg.doc.sections.get(section);
      for (const opt of sect?.options.values() ?? []) {
        this.cfg.track({ section, key: opt.name, value: '', source: { kind: 'file', line: opt.line } });
        options.push(opt.name);
      }
      for (const { name, key } of this.cfg.envOptions(section)) {
        this.cfg.track({ section, key, value: '', source: { kind: 'env', name } });
        options.push(key);
      }
    }
    for (const opt of this.cfg.doc.defaults.options.values()) {
      this.cfg.track({ section: 'DEFAULT', key: opt.name, value: '', source: { kind: 'defaults', line: opt.line } });
    }
    return {
      sections: [...this.cfg.doc.sections.keys()],
      envSections: this.cfg.envSections(),
      options,
      podTemplateFile: (this.cfg.candidates(K, 'pod_template_file')[0]?.value.trim() ?? '') !== '',
    };
  }

  private executor(): 'kubernetes' | 'hybrid' {
    const o = this.cfg.take(['core'], 'executor');
    const v = o?.value.trim() ?? '';
    if (!o || v === '') {
      this.cfg.skip(o);
      return 'kubernetes';
    }
    const name = v.split('.').pop()!;
    if (name === 'KubernetesExecutor') {
      this.cfg.mapped(o, 'core.executor = kubernetes');
      return 'kubernetes';
    }
    if (name === 'CeleryKubernetesExecutor' || name === 'LocalKubernetesExecutor') {
      this.cfg.mapped(o, "core.executor = hybrid (the queue named in hybrid.kubernetesQueue runs in pods, the rest on Floe's queue executor)");
      return 'hybrid';
    }
    this.cfg.mapped(o, 'core.executor = kubernetes');
    this.warnings.push(`[core] executor is ${v}, not a Kubernetes executor: floe.yaml selects Floe's kubernetes executor anyway`);
    return 'kubernetes';
  }

  private floeSettings(namespace: string, podTemplateFile: string): Omit<FloeFragment['kubernetes'], 'workerImage'> {
    const batch = this.int('worker_pods_creation_batch_size', 'kubernetes.podCreationBatchSize', 1) ?? 1;
    const del = this.take('delete_worker_pods')!;
    const onFail = this.take('delete_worker_pods_on_failure')!;
    const policy = deletePolicy(asBoolean(this.cfg, del), asBoolean(this.cfg, onFail));
    this.cfg.mapped(del, `kubernetes.deleteWorkerPods = ${policy}`);
    this.cfg.mapped(onFail, `kubernetes.deleteWorkerPods = ${policy}`);
    const multi = this.bool('multi_namespace_mode', 'kubernetes.multiNamespaceMode');
    const nsListOpt = this.take('multi_namespace_mode_namespace_list');
    const multiNamespaces = nsListOpt ? asList(nsListOpt) : [];
    this.cfg.mapped(nsListOpt, 'kubernetes.multiNamespaces');
    if (multi && multiNamespaces.length === 0) {
      this.notes.push('multi_namespace_mode without a namespace list watches every namespace: the scheduler needs a ClusterRole (docs/deployment.md)');
    }
    const pending = this.int('worker_pods_pending_timeout', 'kubernetes.podPendingTimeout (seconds)') ?? 300;
    const retries = this.int('task_publish_max_retries', 'kubernetes.taskPublishMaxRetries');
    const kubeconfig = this.str('config_file', 'kubernetes.kubeconfig') ?? null;
    const context = this.str('cluster_context', 'kubernetes.context') ?? null;
    const inCluster = this.bool('in_cluster', 'kubernetes.inCluster');
    const out: Omit<FloeFragment['kubernetes'], 'workerImage'> = {
      namespace,
      podTemplateFile,
      podCreationBatchSize: batch,
      deleteWorkerPods: policy,
      multiNamespaceMode: multi,
      multiNamespaces,
      podPendingTimeout: pending,
      kubeconfig,
      context,
      inCluster,
    };
    if (retries !== undefined) out.taskPublishMaxRetries = retries;
    return out;
  }

  // ---------------------------------------------------------------- Airflow 2.x: pod_template_file

  private fromTemplate(opt: FoundOption, namespace: string): { pod: IPod; dagsFolder: string } {
    const file = this.findTemplate(opt);
    const shown = path.relative(this.cwd, file).startsWith('..') ? file : path.relative(this.cwd, file);
    this.templateSource = shown;
    this.cfg.mapped(opt, `read ${shown}; its pod becomes the Floe pod template`);
    const repo = this.take('worker_container_repository');
    const tag = this.take('worker_container_tag');
    let image: string | undefined;
    if (this.version === '1.10') {
      // Airflow 1.10.x's construct_pod sets only the namespace over the template pod: its image stays.
      const why = "Airflow 1.10.x does not apply it over pod_template_file: the template's image is used";
      for (const o of [repo, tag]) {
        if (o?.value.trim()) this.cfg.ignored(o, why);
        else this.cfg.skip(o);
      }
    } else if (repo?.value.trim() && tag?.value.trim()) {
      image = `${repo.value.trim()}:${tag.value.trim()}`;
      this.cfg.mapped(repo, 'base container image, kubernetes.workerImage');
      this.cfg.mapped(tag, 'base container image, kubernetes.workerImage');
    } else {
      const why = 'Airflow 2 overrides the template image only when worker_container_repository and worker_container_tag are both set';
      if (repo?.value.trim()) this.cfg.ignored(repo, why);
      else this.cfg.skip(repo);
      if (tag?.value.trim()) this.cfg.ignored(tag, why);
      else this.cfg.skip(tag);
    }
    const dagsOpt = this.cfg.take(['core'], 'dags_folder');
    const dagsFolder = dagsOpt?.value.trim() || FLOE_DAGS_MOUNT;
    this.cfg.mapped(dagsOpt, `core.dagsFolder and FLOE_DAGS_FOLDER on base (the template's DAG mounts are kept as written)`);
    if (!dagsOpt?.value.trim()) this.notes.push(`[core] dags_folder not set: core.dagsFolder = ${FLOE_DAGS_MOUNT} (the Floe image's DAGs folder)`);
    this.cfg.ignored(this.cfg.take(['logging', 'core'], 'base_log_folder'), 'the template defines any logs volume; Floe keeps task logs under logging.logsFolder');
    this.ignorePodOptions(this.version === '2' ? NOT_IN_2 : TEMPLATE_SET);
    const raw = parseTemplate(readFileSync(file, 'utf8'), shown);
    const { pod, notes } = adaptTemplate(raw, shown, { image, namespace, dagsFolder });
    this.notes.push(...notes.map((n) => `pod template: ${n}`));
    return { pod, dagsFolder };
  }

  /** The options and dictionary sections only the 1.10.x pod builder reads, all ignored for `why`. */
  private ignorePodOptions(why: string): void {
    for (const key of POD_OPTIONS) {
      const o = this.cfg.take(K, key);
      if (o?.value.trim()) this.cfg.ignored(o, why);
      else this.cfg.skip(o);
    }
    for (const section of DICT_SECTIONS) {
      const sectionWhy = this.version === '2' ? `an Airflow 1.10.x section: Airflow 2 does not read [${section}]` : why;
      for (const o of this.cfg.items(section)) this.cfg.ignored(o, sectionWhy);
    }
  }

  // ---------------------------------------------------------------- Airflow 2 without pod_template_file

  /**
   * Airflow 2 builds worker pods from pod_template_file alone and refuses to start without one, so there is no
   * pod to carry over: the template is the worker image and namespace, DAGs baked into the image.
   */
  private withoutTemplate(namespace: string): { pod: IPod; dagsFolder: string } {
    const image = this.image();
    this.ignorePodOptions(NOT_IN_2);
    const dagsOpt = this.cfg.take(['core'], 'dags_folder');
    if (dagsOpt?.value.trim() && dagsOpt.value.trim() !== FLOE_DAGS_MOUNT) {
      this.cfg.mapped(dagsOpt, `replaced: core.dagsFolder = ${FLOE_DAGS_MOUNT} (DAGs baked into the worker image), FLOE_DAGS_FOLDER on base`);
    } else this.cfg.mapped(dagsOpt, `core.dagsFolder = ${FLOE_DAGS_MOUNT}, FLOE_DAGS_FOLDER on base`);
    this.cfg.ignored(this.cfg.take(['logging', 'core'], 'base_log_folder'), "no logs volume: task logs go to Floe's logging.logsFolder ($FLOE_HOME/logs by default)");
    this.warnings.push(
      'pod_template_file is not set, and Airflow 2 builds worker pods from it alone (it does not start without one): ' +
        `the written template is a minimal pod — the worker image, the namespace, DAGs in the image at ${FLOE_DAGS_MOUNT}; ` +
        'add what your workers need (service account, volumes, resources)',
    );
    const dags: DagSource = { kind: 'image' };
    const pod = buildLegacyPod({
      namespace,
      image,
      imagePullSecrets: [],
      dags,
      nodeSelector: {},
      annotations: {},
      labels: {},
      env: [],
      secretEnv: [],
      envFromConfigMaps: [],
      envFromSecrets: [],
    });
    return { pod, dagsFolder: dagsFolderFor(dags) };
  }

  /** The template path as written, else relative to airflow.cfg's folder, else its file name beside airflow.cfg. */
  private findTemplate(opt: FoundOption): string {
    const written = opt.value.trim();
    const tried = [path.resolve(this.cfgDir, written), path.join(this.cfgDir, path.basename(written))];
    if (path.isAbsolute(written)) tried.unshift(written);
    for (const candidate of tried) if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    throw this.cfg.error(
      opt,
      `pod template ${written} not found (looked at ${[...new Set(tried)].join(', ')}); ` +
        'copy the template next to airflow.cfg or point pod_template_file at it',
    );
  }

  // ---------------------------------------------------------------- Airflow 1.10.x: [kubernetes] options

  private legacySettings(namespace: string): LegacyPodSettings {
    const image = this.image();
    const imagePullPolicy = this.pullPolicy();
    const serviceAccountName = this.str('worker_service_account_name', 'spec.serviceAccountName');
    const pullOpt = this.take('image_pull_secrets');
    const imagePullSecrets = pullOpt ? asList(pullOpt) : [];
    this.cfg.mapped(pullOpt, 'spec.imagePullSecrets');
    const dags = this.dagSource();
    const logs = this.logsVolume();
    const cmOpt = this.take('env_from_configmap_ref');
    const secOpt = this.take('env_from_secret_ref');
    this.cfg.mapped(cmOpt, 'base container envFrom configMapRef');
    this.cfg.mapped(secOpt, 'base container envFrom secretRef');
    const runAsUser = this.int('run_as_user', 'spec.securityContext.runAsUser');
    let fsGroup = this.int('fs_group', 'spec.securityContext.fsGroup');
    if (fsGroup === undefined && dags.kind === 'git' && dags.git.sshKeySecret) {
      // As Airflow: the git-sync user must be able to read the mounted SSH key.
      fsGroup = 65533;
      this.notes.push('spec.securityContext.fsGroup = 65533 so git-sync can read the SSH key (as Airflow sets it)');
    }
    const s: LegacyPodSettings = {
      namespace,
      image,
      imagePullPolicy,
      serviceAccountName,
      imagePullSecrets,
      dags,
      logs,
      nodeSelector: {},
      annotations: {},
      labels: {},
      env: [],
      secretEnv: [],
      envFromConfigMaps: cmOpt ? asList(cmOpt) : [],
      envFromSecrets: secOpt ? asList(secOpt) : [],
      affinity: this.affinity(),
      tolerations: this.tolerations(),
      runAsUser,
      fsGroup,
    };
    this.dictSections(s);
    return s;
  }

  private pullPolicy(): PullPolicy | undefined {
    const o = this.take('worker_container_image_pull_policy');
    const v = o?.value.trim();
    if (o && v && !(PULL_POLICIES as readonly string[]).includes(v)) {
      throw this.cfg.error(o, `expected one of ${PULL_POLICIES.join(', ')}, found ${JSON.stringify(v)}`);
    }
    this.cfg.mapped(o, 'base container imagePullPolicy');
    return (v || undefined) as PullPolicy | undefined;
  }

  private image(): string {
    const repo = this.str('worker_container_repository', 'base container image, kubernetes.workerImage');
    const tag = this.str('worker_container_tag', 'base container image, kubernetes.workerImage');
    if (repo && tag) return `${repo}:${tag}`;
    if (repo) {
      this.warnings.push(`worker_container_tag is empty: the worker image is ${repo} (Kubernetes pulls :latest)`);
      return repo;
    }
    if (tag) this.warnings.push('worker_container_tag is set without worker_container_repository: it is not used');
    this.warnings.push('no worker image configured: the template uses floe:latest (build it from deploy/Dockerfile)');
    return 'floe:latest';
  }

  private dagSource(): DagSource {
    const inImageOpt = this.take('dags_in_image')!;
    const inImage = asBoolean(this.cfg, inImageOpt);
    const claimOpt = this.take('dags_volume_claim');
    const hostOpt = this.take('dags_volume_host');
    const subOpt = this.take('dags_volume_subpath');
    const repoOpt = this.take('git_repo');
    const claim = claimOpt?.value.trim();
    const host = hostOpt?.value.trim();
    const subPath = subOpt?.value.trim() || undefined;
    const repo = repoOpt?.value.trim();
    for (const key of ['dags_volume_mount_point', 'git_dags_folder_mount_point']) {
      const o = this.take(key);
      if (o?.value.trim()) this.cfg.mapped(o, `replaced: worker pods mount DAGs at ${FLOE_DAGS_MOUNT} (the Floe image's DAGs folder)`);
      else this.cfg.skip(o);
    }
    const dagsFolderOpt = this.cfg.take(['core'], 'dags_folder');
    const gitKeys = [...MAPPED_OPTIONS].filter((k) => k.startsWith('git_') && k !== 'git_dags_folder_mount_point');
    const unused = (keys: string[], why: string) => {
      for (const k of keys) {
        const o = this.take(k);
        if (o && o.value.trim() && o.source.kind !== 'airflow-default') this.cfg.ignored(o, why);
        else this.cfg.skip(o);
      }
    };
    let source: DagSource;
    if (inImage) {
      this.cfg.mapped(inImageOpt, `no DAG volume: DAGs are baked into the worker image at ${FLOE_DAGS_MOUNT}`);
      for (const o of [claimOpt, hostOpt, subOpt]) {
        if (o?.value.trim()) this.cfg.ignored(o, 'dags_in_image = True wins (as in Airflow)');
        else this.cfg.skip(o);
      }
      unused(gitKeys, 'dags_in_image = True: no git-sync (as in Airflow)');
      source = { kind: 'image' };
    } else if (claim) {
      this.cfg.mapped(inImageOpt, 'DAGs come from a volume');
      this.cfg.mapped(claimOpt, `volume floe-dags (persistentVolumeClaim ${claim}) mounted read-only at ${FLOE_DAGS_MOUNT}`);
      this.cfg.mapped(subOpt, 'subPath of the floe-dags mount');
      if (host) this.cfg.ignored(hostOpt, 'dags_volume_claim wins (as in Airflow)');
      else this.cfg.skip(hostOpt);
      unused(gitKeys, 'dags_volume_claim is set: no git-sync (as in Airflow)');
      source = { kind: 'claim', claim, subPath };
    } else if (host) {
      this.cfg.mapped(inImageOpt, 'DAGs come from a volume');
      this.cfg.skip(claimOpt);
      this.cfg.mapped(hostOpt, `volume floe-dags (hostPath ${host}) mounted read-only at ${FLOE_DAGS_MOUNT}`);
      this.cfg.mapped(subOpt, 'subPath of the floe-dags mount');
      unused(gitKeys, 'dags_volume_host is set: no git-sync (as in Airflow)');
      source = { kind: 'host', path: host, subPath };
    } else if (repo) {
      this.cfg.mapped(inImageOpt, 'DAGs come from git');
      this.cfg.skip(claimOpt);
      this.cfg.skip(hostOpt);
      this.cfg.mapped(subOpt, 'subPath of the floe-dags mount in base');
      source = { kind: 'git', git: this.gitSync(repoOpt!), subPath };
    } else {
      this.cfg.mapped(inImageOpt, `no DAG volume: DAGs are expected in the worker image at ${FLOE_DAGS_MOUNT}`);
      for (const o of [claimOpt, hostOpt, subOpt]) this.cfg.skip(o);
      unused(gitKeys, 'git_repo is not set');
      this.warnings.push(
        'no DAG source is configured (dags_in_image, dags_volume_claim, dags_volume_host or git_repo; Airflow would refuse this ' +
          `for the KubernetesExecutor): the template assumes DAGs are baked into the image at ${FLOE_DAGS_MOUNT}`,
      );
      source = { kind: 'image' };
    }
    const folder = dagsFolderFor(source);
    if (dagsFolderOpt?.value.trim() && dagsFolderOpt.value.trim() !== folder) {
      this.cfg.mapped(dagsFolderOpt, `replaced: core.dagsFolder = ${folder} (Floe's layout), FLOE_DAGS_FOLDER on base`);
    } else {
      this.cfg.mapped(dagsFolderOpt, `core.dagsFolder = ${folder}, FLOE_DAGS_FOLDER on base`);
    }
    return source;
  }

  private gitSync(repoOpt: FoundOption): GitSyncSettings {
    const target = (what: string) => `git-sync init container ${what}`;
    const repo = repoOpt.value.trim();
    this.cfg.mapped(repoOpt, target('GIT_SYNC_REPO'));
    const branch = this.str('git_branch', target('GIT_SYNC_BRANCH'));
    if (!branch) {
      throw this.cfg.error(repoOpt, 'git_repo is set but git_branch is empty: Airflow requires both to sync DAGs from git');
    }
    const user = this.take('git_user');
    const password = this.take('git_password');
    const sshKey = this.take('git_ssh_key_secret_name');
    const creds = this.take('git_sync_credentials_secret');
    if ((user?.value.trim() || password?.value.trim()) && sshKey?.value.trim()) {
      throw this.cfg.error(
        sshKey,
        'git_user/git_password and git_ssh_key_secret_name are both set: use either user credentials or an SSH key (Airflow refuses both)',
      );
    }
    const credsName = creds?.value.trim() || undefined;
    this.cfg.mapped(creds, target('GIT_SYNC_USERNAME/GIT_SYNC_PASSWORD from this Secret (keys GIT_SYNC_USERNAME, GIT_SYNC_PASSWORD)'));
    for (const o of [user, password]) {
      if (!o?.value.trim()) this.cfg.skip(o);
      else if (credsName) this.cfg.ignored(o, 'git_sync_credentials_secret is set: credentials come from that Secret');
      else this.cfg.mapped(o, target(o === user ? 'GIT_SYNC_USERNAME' : 'GIT_SYNC_PASSWORD'));
    }
    if (!credsName && password?.value.trim()) {
      this.warnings.push(
        `${describeSource(this.cfg.file, password)}: the git password is written in plain text into the pod template; ` +
          'prefer git_sync_credentials_secret (a Secret with GIT_SYNC_USERNAME and GIT_SYNC_PASSWORD)',
      );
    }
    this.cfg.mapped(sshKey, target('SSH key from this Secret (key gitSshKey), volume git-sync-ssh-key'));
    const repoImage = this.str('git_sync_container_repository', target('image'));
    const tagImage = this.str('git_sync_container_tag', target('image'));
    const runAsUser = this.int('git_sync_run_as_user', target('securityContext.runAsUser'));
    const subpath = this.str('git_subpath', 'FLOE_DAGS_FOLDER / core.dagsFolder (folder inside the repository)');
    return {
      repo,
      branch,
      rev: this.str('git_sync_rev', target('GIT_SYNC_REV')),
      depth: this.str('git_sync_depth', target('GIT_SYNC_DEPTH')) ?? '1',
      root: this.str('git_sync_root', target('GIT_SYNC_ROOT and floe-dags mount')) ?? '/git',
      dest: this.str('git_sync_dest', target('GIT_SYNC_DEST')) ?? 'repo',
      repoSubpath: subpath,
      user: credsName ? undefined : user?.value.trim() || undefined,
      password: credsName ? undefined : password?.value.trim() || undefined,
      credentialsSecret: credsName,
      sshKeySecret: sshKey?.value.trim() || undefined,
      knownHostsConfigMap: this.str('git_ssh_known_hosts_configmap_name', target('known_hosts from this ConfigMap')),
      image: [repoImage ?? 'k8s.gcr.io/git-sync', tagImage].filter(Boolean).join(':'),
      containerName: this.str('git_sync_init_container_name', target('name')) ?? 'git-sync-clone',
      runAsUser,
    };
  }

  private logsVolume(): LogsVolume | undefined {
    const claim = this.str('logs_volume_claim', `volume floe-logs (persistentVolumeClaim) mounted at ${FLOE_LOGS_MOUNT}, logging.logsFolder`);
    const hostOpt = this.take('logs_volume_host');
    const host = hostOpt?.value.trim() || undefined;
    if (host && claim) this.cfg.ignored(hostOpt, 'logs_volume_claim wins (as in Airflow)');
    else this.cfg.mapped(hostOpt, `volume floe-logs (hostPath) mounted at ${FLOE_LOGS_MOUNT}, logging.logsFolder`);
    const subOpt = this.take('logs_volume_subpath');
    const baseLog = this.cfg.take(['logging', 'core'], 'base_log_folder');
    if (!claim && !host) {
      if (subOpt?.value.trim()) this.cfg.ignored(subOpt, 'no logs volume is configured');
      else this.cfg.skip(subOpt);
      this.cfg.ignored(baseLog, "no logs volume: task logs go to Floe's logging.logsFolder ($FLOE_HOME/logs by default)");
      return undefined;
    }
    this.cfg.mapped(subOpt, 'subPath of the floe-logs mount');
    this.cfg.mapped(baseLog, `replaced: the logs volume is mounted at ${FLOE_LOGS_MOUNT} (logging.logsFolder)`);
    return { claim, hostPath: claim ? undefined : host, subPath: subOpt?.value.trim() || undefined };
  }

  private affinity(): IAffinity | undefined {
    const o = this.take('affinity');
    if (!o || !o.value.trim()) {
      this.cfg.skip(o);
      return undefined;
    }
    const v = asJson(this.cfg, o);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw this.cfg.error(o, 'expected a JSON object like {"nodeAffinity": {...}}');
    }
    for (const k of Object.keys(v)) {
      if (!AFFINITY_KEYS.has(k)) {
        throw this.cfg.error(o, `unknown affinity field ${JSON.stringify(k)}: expected ${[...AFFINITY_KEYS].join(', ')} (Kubernetes API names, camelCase)`);
      }
    }
    const issues = issuesOf(new Affinity(v as IAffinity));
    if (issues.length) throw this.cfg.error(o, `not a valid Kubernetes affinity: ${formatIssues(issues).replace(/\n/g, '; ')}`);
    this.cfg.mapped(o, 'spec.affinity');
    return v as IAffinity;
  }

  private tolerations(): IToleration[] | undefined {
    const o = this.take('tolerations');
    if (!o || !o.value.trim()) {
      this.cfg.skip(o);
      return undefined;
    }
    const v = asJson(this.cfg, o);
    if (!Array.isArray(v)) throw this.cfg.error(o, 'expected a JSON list of tolerations like [{"key": "...", "operator": "Exists"}]');
    v.forEach((t: unknown, i: number) => {
      if (typeof t !== 'object' || t === null || Array.isArray(t)) throw this.cfg.error(o, `item ${i}: expected a JSON object`);
      for (const k of Object.keys(t)) {
        if (!TOLERATION_KEYS.has(k)) {
          throw this.cfg.error(o, `item ${i}: unknown toleration field ${JSON.stringify(k)}: expected ${[...TOLERATION_KEYS].join(', ')}`);
        }
      }
      const issues = issuesOf(new Toleration(t as IToleration));
      if (issues.length) throw this.cfg.error(o, `item ${i}: not a valid Kubernetes toleration: ${formatIssues(issues).replace(/\n/g, '; ')}`);
    });
    this.cfg.mapped(o, 'spec.tolerations');
    return v as IToleration[];
  }

  private dictSections(s: LegacyPodSettings): void {
    const handlers: Record<DictSection, (o: FoundOption) => string> = {
      kubernetes_node_selectors: (o) => {
        s.nodeSelector[o.key] = o.value;
        return `spec.nodeSelector[${JSON.stringify(o.key)}]`;
      },
      kubernetes_annotations: (o) => {
        s.annotations[o.key] = o.value;
        return `metadata.annotations[${JSON.stringify(o.key)}]`;
      },
      kubernetes_labels: (o) => {
        s.labels[o.key] = o.value;
        return `metadata.labels[${JSON.stringify(o.key)}]`;
      },
      kubernetes_environment_variables: (o) => {
        s.env.push({ name: o.key, value: o.value });
        return `base container env ${o.key}`;
      },
      kubernetes_secrets: (o) => {
        const parts = o.value.split('=');
        if (parts.length !== 2 || !parts[0].trim() || !parts[1].trim()) {
          throw this.cfg.error(o, `expected <secret name>=<key in the secret>, found ${JSON.stringify(o.value)}`);
        }
        const [secret, key] = parts.map((p) => p.trim());
        s.secretEnv.push({ name: o.key, secret, key });
        return `base container env ${o.key} from Secret ${secret} key ${key}`;
      },
    };
    const airflowNames: string[] = [];
    for (const section of DICT_SECTIONS) {
      for (const o of this.cfg.items(section)) {
        this.cfg.note(o, 'mapped', handlers[section](o));
        if ((section === 'kubernetes_environment_variables' || section === 'kubernetes_secrets') && /^AIRFLOW/i.test(o.key)) {
          airflowNames.push(o.key);
        }
      }
    }
    if (airflowNames.length) {
      this.warnings.push(
        `copied ${airflowNames.join(', ')} into the worker environment, but Floe does not read Airflow settings: ` +
          'its equivalents are FLOE__SECTION__KEY variables (docs/configuration.md)',
      );
    }
  }

  /** Everything present and still undecided is an unknown option (or an unused [DEFAULT] value). */
  private finish(): void {
    for (const o of this.cfg.undecided()) {
      if (o.section === 'DEFAULT') {
        this.cfg.note(o, 'ignored', '[DEFAULT] value: used only for %(…)s references and as a fallback for options not set in their section');
        continue;
      }
      const key = o.key;
      const miscased = caseProblem(o);
      if (miscased) {
        this.cfg.note(o, 'unknown', miscased);
      } else if (key in IGNORED_OPTIONS) {
        this.cfg.note(o, 'ignored', IGNORED_OPTIONS[key]);
      } else if (this.version === '2' && AIRFLOW_1_ONLY.has(key)) {
        this.cfg.note(o, 'ignored', NOT_IN_2);
      } else if (isKnownOption(key)) {
        this.cfg.note(o, 'ignored', 'not used in this configuration');
      } else {
        const near = suggest(key.toLowerCase(), [...MAPPED_OPTIONS, ...Object.keys(IGNORED_OPTIONS)]);
        this.cfg.note(o, 'unknown', `not an Airflow 1.10.x/2.x [kubernetes] option, not migrated${near ? ` (did you mean ${near}?)` : ''}`);
      }
    }
  }

  report(cfgFile: string): MigrationReport {
    const known = new Set<string>([...K, ...DICT_SECTIONS]);
    const otherSections: MigrationReport['otherSections'] = [];
    for (const [name, sect] of this.cfg.doc.sections) {
      if (known.has(name)) continue;
      const lower = name.toLowerCase();
      const near = suggest(lower, known);
      if (lower.startsWith('kubernetes') && lower !== 'kubernetes_pod_operator' && lower !== 'kubernetes_job_operator') {
        this.warnings.push(
          `${cfgFile}:${sect.line} [${name}] is not a section Airflow reads for the Kubernetes executor` +
            `${near ? ` (section names are case-sensitive; did you mean [${near}]?)` : ''}: its ${sect.options.size} option(s) are not migrated`,
        );
        continue;
      }
      const read = this.cfg.entries().filter((e) => e.section === name && e.where.startsWith('line')).length;
      otherSections.push({ name, options: sect.options.size - read });
    }
    return {
      cfgFile,
      airflow: this.airflow,
      style: this.style,
      templateSource: this.templateSource,
      entries: this.cfg.entries(),
      warnings: this.warnings,
      notes: this.notes,
      otherSections: otherSections.filter((s) => s.options > 0),
    };
  }
}
