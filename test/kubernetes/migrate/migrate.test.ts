// Behaviour of the [kubernetes] → Floe mapping beyond the golden fixtures: precedence, defaults, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { migrateAirflowCfg, writeMigration, type MigrationResult } from '../../../src/kubernetes/migrate/migrate.ts';
import { MigrationError } from '../../../src/kubernetes/migrate/airflow-config.ts';
import { IniError } from '../../../src/kubernetes/migrate/ini.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { cfg, tempDir } from './helpers.ts';
import { detectAirflowVersion } from '../../../src/kubernetes/migrate/airflow-version.ts';

async function migrate(text: string, env: Record<string, string> = {}, extraFiles: Record<string, string> = {}): Promise<MigrationResult> {
  const dir = tempDir({ 'airflow.cfg': text, ...extraFiles });
  return migrateAirflowCfg({ cfgPath: 'airflow.cfg', templatePath: 'pod_template.yaml', cwd: dir, env: { HOME: '/home/u', ...env } });
}

const base = (r: MigrationResult) => r.pod.spec!.containers.find((c) => c.name === 'base')!;
const entry = (r: MigrationResult, section: string, key: string) => r.report.entries.filter((e) => e.section === section && e.key === key);

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MigrationError || e instanceof IniError, `unexpected error type: ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test('an empty [kubernetes] section gives Airflow defaults: namespace default, batch 1, delete on success, in cluster', async () => {
  const r = await migrate(cfg('dags_in_image = True'));
  assert.deepEqual(
    { ...r.fragment.kubernetes, podTemplateFile: undefined },
    {
      namespace: 'default',
      podTemplateFile: undefined,
      workerImage: 'floe:latest',
      podCreationBatchSize: 1,
      deleteWorkerPods: 'onSuccess',
      multiNamespaceMode: false,
      multiNamespaces: [],
      podPendingTimeout: 300,
      kubeconfig: null,
      context: null,
      inCluster: true,
    },
  );
  assert.equal(r.fragment.kubernetes.podTemplateFile, './pod_template.yaml');
  assert.deepEqual(r.fragment.core, { dagsFolder: '/opt/floe/dags', executor: 'kubernetes' });
  assert.equal(base(r).volumeMounts, undefined, 'DAGs in the image: no DAG volume');
  assert.ok(r.report.warnings.some((w) => /no worker image configured/.test(w)));
});

test('delete_worker_pods + delete_worker_pods_on_failure → one Floe policy', async () => {
  const policy = async (del: string, onFail: string) =>
    (await migrate(cfg(`dags_in_image = True\ndelete_worker_pods = ${del}\ndelete_worker_pods_on_failure = ${onFail}`))).fragment.kubernetes.deleteWorkerPods;
  assert.equal(await policy('True', 'False'), 'onSuccess');
  assert.equal(await policy('true', 'True'), 'always');
  assert.equal(await policy('False', 'True'), 'never');
  assert.equal(await policy('0', '1'), 'never');
});

test('AIRFLOW__KUBERNETES__* overrides the file; AIRFLOW__KUBERNETES_EXECUTOR__* overrides both; the report says so', async () => {
  const text = cfg('dags_in_image = True\nnamespace = from-file\nworker_pods_creation_batch_size = 2', '[kubernetes_executor]\nworker_pods_creation_batch_size = 3\n');
  const r = await migrate(text, {
    AIRFLOW__KUBERNETES__NAMESPACE: 'from-env',
    AIRFLOW__KUBERNETES__WORKER_PODS_CREATION_BATCH_SIZE: '4',
    AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE: '5',
  });
  assert.equal(r.fragment.kubernetes.namespace, 'from-env');
  assert.equal(r.pod.metadata!.namespace, 'from-env');
  assert.equal(r.fragment.kubernetes.podCreationBatchSize, 5);
  const ns = entry(r, 'kubernetes', 'namespace');
  assert.deepEqual(ns.map((e) => [e.where, e.disposition]).sort(), [['env AIRFLOW__KUBERNETES__NAMESPACE', 'mapped'], ['line 7', 'ignored']]);
  assert.match(ns.find((e) => e.disposition === 'ignored')!.detail, /overridden by env AIRFLOW__KUBERNETES__NAMESPACE/);
  const batch = r.report.entries.filter((e) => e.key === 'worker_pods_creation_batch_size');
  assert.equal(batch.filter((e) => e.disposition === 'mapped').length, 1);
  assert.equal(batch.filter((e) => e.disposition === 'ignored').length, 3);
});

test('$VAR and ~ in values are expanded from the environment, as Airflow does', async () => {
  const r = await migrate(cfg('dags_in_image = True\nin_cluster = False\nconfig_file = ~/.kube/$CLUSTER.yaml\ncluster_context = ${CLUSTER}-admin'), { CLUSTER: 'prod' });
  assert.equal(r.fragment.kubernetes.kubeconfig, '/home/u/.kube/prod.yaml');
  assert.equal(r.fragment.kubernetes.context, 'prod-admin');
  assert.equal(r.fragment.kubernetes.inCluster, false);
});

test('dictionary sections from env: keys lower-cased except environment variable names', async () => {
  const r = await migrate(cfg('dags_in_image = True'), {
    AIRFLOW__KUBERNETES_NODE_SELECTORS__DISKTYPE: 'ssd',
    AIRFLOW__KUBERNETES_ENVIRONMENT_VARIABLES__MY_VAR: 'x',
    AIRFLOW__KUBERNETES_SECRETS__DB_PASSWORD: 'db-secret=password',
  });
  assert.deepEqual(r.pod.spec!.nodeSelector, { disktype: 'ssd' });
  const env = base(r).env!;
  assert.deepEqual(env.find((e) => e.name === 'MY_VAR'), { name: 'MY_VAR', value: 'x' });
  assert.deepEqual(env.find((e) => e.name === 'db_password'), { name: 'db_password', valueFrom: { secretKeyRef: { name: 'db-secret', key: 'password' } } });
});

test('option names are case-sensitive, as Airflow reads them: Namespace is not namespace (unknown, with a did-you-mean)', async () => {
  const r = await migrate(cfg('dags_in_image = True\nNamespace = jobs\nDelete_Worker_Pods = False'), { AIRFLOW__KUBERNETES__In_Cluster: 'False' });
  assert.equal(r.fragment.kubernetes.namespace, 'default', 'Airflow ignores Namespace: its default namespace applies');
  assert.equal(r.fragment.kubernetes.deleteWorkerPods, 'onSuccess');
  assert.equal(r.fragment.kubernetes.inCluster, true);
  const [ns] = entry(r, 'kubernetes', 'Namespace');
  assert.equal(ns.disposition, 'unknown');
  assert.equal(ns.detail, 'names are case-sensitive in Airflow, which reads only namespace: not read by Airflow, not migrated (did you mean namespace?)');
  const [env] = r.report.entries.filter((e) => e.where === 'env AIRFLOW__KUBERNETES__In_Cluster');
  assert.equal(env.disposition, 'unknown');
  assert.match(env.detail, /did you mean AIRFLOW__KUBERNETES__IN_CLUSTER\?\)$/);
  // Dictionary sections keep their keys as written (Airflow's as_dict does): Team and team are two labels.
  const labels = await migrate(cfg('dags_in_image = True', '[kubernetes_labels]\nTeam = a\n'), { AIRFLOW__KUBERNETES_LABELS__TEAM: 'b' });
  assert.deepEqual(labels.pod.metadata!.labels, { Team: 'a', team: 'b' });
});

test('$VAR in dictionary sections stays literal, as Airflow passes it; variables\' own values are expanded, as Airflow does', async () => {
  const r = await migrate(cfg('dags_in_image = True', '[kubernetes_environment_variables]\nCACHE = $HOME/x\nTOOLS = ${TOOLS_DIR}/bin\n[kubernetes_secrets]\nTOKEN = $SECRET_NAME=token\n'), {
    TOOLS_DIR: '/opt/tools',
    SECRET_NAME: 'mine',
    AIRFLOW__KUBERNETES_ENVIRONMENT_VARIABLES__FROM_ENV: '$TOOLS_DIR/env',
  });
  const env = base(r).env!;
  assert.deepEqual(env.find((e) => e.name === 'CACHE'), { name: 'CACHE', value: '$HOME/x' });
  assert.deepEqual(env.find((e) => e.name === 'TOOLS'), { name: 'TOOLS', value: '${TOOLS_DIR}/bin' });
  assert.deepEqual(env.find((e) => e.name === 'TOKEN'), { name: 'TOKEN', valueFrom: { secretKeyRef: { name: '$SECRET_NAME', key: 'token' } } });
  assert.deepEqual(env.find((e) => e.name === 'FROM_ENV'), { name: 'FROM_ENV', value: '/opt/tools/env' });
});

test('worker_annotations is reported as ignored by Airflow, with a warning, and not applied', async () => {
  const r = await migrate(cfg('dags_in_image = True\nworker_annotations = {"iam.amazonaws.com/role": "etl"}'));
  assert.equal(r.pod.metadata!.annotations, undefined);
  const [e] = entry(r, 'kubernetes', 'worker_annotations');
  assert.equal(e.disposition, 'ignored');
  assert.match(e.detail, /^no released Airflow reads it \(added to Airflow's development branch in 2019, removed before 2\.0\.0/);
  assert.ok(r.report.warnings.some((w) => /^worker_annotations is set, but no released Airflow reads it/.test(w)));
});

test('the Airflow version comes from what the configuration holds; 1.10.x-only options are ignored for 2.x', async () => {
  const v = (sections: string[], options: string[], podTemplateFile = false, envSections: string[] = []) => detectAirflowVersion({ sections, options, podTemplateFile, envSections }).version;
  assert.equal(v(['kubernetes_executor', 'kubernetes'], ['git_repo']), '2');
  assert.equal(v(['kubernetes'], ['dags_in_image'], false, ['kubernetes_executor']), '2');
  assert.equal(v(['kubernetes'], ['git_repo', 'tcp_keep_idle']), '2', 'a 2.x option wins over stale 1.10.x ones');
  assert.equal(v(['core', 'logging', 'kubernetes'], ['namespace']), '2');
  assert.equal(v(['kubernetes'], ['namespace', 'dags_in_image'], true), '1.10');
  assert.equal(v(['kubernetes', 'kubernetes_labels'], ['namespace']), '1.10');
  assert.equal(v(['kubernetes'], ['namespace'], true), '2');
  assert.equal(v(['kubernetes'], ['namespace']), '1.10');

  // A 2.x configuration without pod_template_file: a minimal pod, the 1.10.x options and sections ignored.
  const r = await migrate(cfg('pod_template_file =\nnamespace = jobs\nworker_container_repository = my/floe\nworker_container_tag = 2\nenable_tcp_keepalive = True\ndags_in_image = True\ngit_repo = https://g/r.git\ngit_branch = main', '[kubernetes_labels]\nteam = a\n'));
  assert.equal(r.report.airflow.version, '2');
  assert.equal(r.report.style, 'minimal');
  assert.equal(r.pod.spec!.initContainers, undefined);
  assert.equal(r.pod.metadata!.labels, undefined);
  assert.equal(base(r).image, 'my/floe:2');
  for (const key of ['dags_in_image', 'git_repo', 'git_branch']) assert.match(entry(r, 'kubernetes', key)[0].detail, /^an Airflow 1\.10\.x option: Airflow 2 does not read it/);
  assert.match(entry(r, 'kubernetes_labels', 'team')[0].detail, /^an Airflow 1\.10\.x section: Airflow 2 does not read \[kubernetes_labels\]/);
  assert.ok(!r.report.entries.some((e) => e.where === 'Airflow default' && e.key.startsWith('git_sync')), 'no 1.10.x defaults for a 2.x configuration');
  assert.ok(r.report.warnings.some((w) => /^pod_template_file is not set, and Airflow 2 builds worker pods from it alone/.test(w)));

  // A 1.10.x configuration: no worker_pods_pending_timeout "Airflow default" (1.10.x has no such option).
  const old = await migrate(cfg('dags_in_image = True'));
  assert.equal(old.report.airflow.version, '1.10');
  assert.deepEqual(entry(old, 'kubernetes', 'worker_pods_pending_timeout'), []);
  assert.equal(old.fragment.kubernetes.podPendingTimeout, 300, "Floe's own default");
});

test('1.10.x with pod_template_file: the template keeps its image (Airflow 1.10.x sets only the namespace over it)', async () => {
  const tpl = 'spec:\n  containers:\n    - name: base\n      image: my/airflow:1\n';
  const r = await migrate(cfg('pod_template_file = t.yaml\nworker_container_repository = my/floe\nworker_container_tag = 1\nworker_service_account_name = sa'), {}, { 't.yaml': tpl });
  assert.equal(r.report.airflow.version, '1.10');
  assert.equal(base(r).image, 'my/airflow:1');
  assert.match(entry(r, 'kubernetes', 'worker_container_repository')[0].detail, /Airflow 1\.10\.x does not apply it over pod_template_file/);
  assert.match(entry(r, 'kubernetes', 'worker_service_account_name')[0].detail, /^pod_template_file is set: the template defines the pod/);
});

test('JSON values may span indented continuation lines', async () => {
  const r = await migrate(cfg('dags_in_image = True\ntolerations = [\n    {"key": "dedicated", "operator": "Exists"}\n  ]'));
  assert.deepEqual(r.pod.spec!.tolerations, [{ key: 'dedicated', operator: 'Exists' }]);
});

test('DAG source precedence follows Airflow: dags_in_image > dags_volume_claim > dags_volume_host > git_repo', async () => {
  const claimAndGit = await migrate(cfg('dags_volume_claim = dags-pvc\ndags_volume_host = /mnt/dags\ngit_repo = https://g/r.git\ngit_branch = main'));
  assert.deepEqual(claimAndGit.pod.spec!.volumes, [{ name: 'floe-dags', persistentVolumeClaim: { claimName: 'dags-pvc' } }]);
  assert.equal(claimAndGit.pod.spec!.initContainers, undefined);
  assert.match(entry(claimAndGit, 'kubernetes', 'git_repo')[0].detail, /dags_volume_claim is set: no git-sync/);
  assert.match(entry(claimAndGit, 'kubernetes', 'dags_volume_host')[0].detail, /dags_volume_claim wins/);

  const host = await migrate(cfg('dags_volume_host = /mnt/dags\ndags_volume_subpath = team-a'));
  assert.deepEqual(host.pod.spec!.volumes, [{ name: 'floe-dags', hostPath: { path: '/mnt/dags' } }]);
  assert.deepEqual(base(host).volumeMounts, [{ name: 'floe-dags', mountPath: '/opt/floe/dags', readOnly: true, subPath: 'team-a' }]);

  const image = await migrate(cfg('dags_in_image = True\ndags_volume_claim = dags-pvc'));
  assert.equal(image.pod.spec!.volumes, undefined);
  assert.equal(entry(image, 'kubernetes', 'dags_volume_claim')[0].disposition, 'ignored');
});

test('git-sync with a credentials Secret: username/password from the Secret, never in plain text', async () => {
  const r = await migrate(cfg('git_repo = https://g/r.git\ngit_branch = main\ngit_sync_credentials_secret = git-creds\ngit_user = me\ngit_password = hunter2\ngit_subpath = pipelines'));
  const init = r.pod.spec!.initContainers![0];
  assert.equal(init.name, 'git-sync-clone');
  assert.equal(init.image, 'k8s.gcr.io/git-sync:v3.1.1', "Airflow 1.10.12's default git-sync image");
  assert.deepEqual(init.securityContext, { runAsUser: 65533 });
  const env = Object.fromEntries(init.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
  assert.deepEqual(env.GIT_SYNC_USERNAME, { secretKeyRef: { name: 'git-creds', key: 'GIT_SYNC_USERNAME' } });
  assert.deepEqual(env.GIT_SYNC_PASSWORD, { secretKeyRef: { name: 'git-creds', key: 'GIT_SYNC_PASSWORD' } });
  assert.equal(env.GIT_KNOWN_HOSTS, 'false');
  assert.ok(!JSON.stringify(r.pod).includes('hunter2'));
  assert.match(entry(r, 'kubernetes', 'git_password')[0].detail, /credentials come from that Secret/);
  assert.equal(r.fragment.core.dagsFolder, '/opt/floe/dags/repo/pipelines');
  assert.deepEqual(base(r).env!.find((e) => e.name === 'FLOE_DAGS_FOLDER'), { name: 'FLOE_DAGS_FOLDER', value: '/opt/floe/dags/repo/pipelines' });
});

test('a plain-text git password is mapped with a warning', async () => {
  const r = await migrate(cfg('git_repo = https://g/r.git\ngit_branch = main\ngit_user = me\ngit_password = hunter2'));
  assert.ok(r.report.warnings.some((w) => /airflow\.cfg:\d+ \[kubernetes\] git_password: the git password is written in plain text/.test(w)));
});

test('unknown options are reported with a suggestion; unknown kubernetes-like sections are warned about', async () => {
  const r = await migrate(cfg('dags_in_image = True\nworker_container_tagg = 1.0\nfrobnicate = yes', '[Kubernetes_Labels]\na = b\n'), {
    AIRFLOW__KUBERNETES__NAMESPAC: 'x',
  });
  const unknown = r.report.entries.filter((e) => e.disposition === 'unknown');
  assert.deepEqual(unknown.map((e) => e.key).sort(), ['frobnicate', 'namespac', 'worker_container_tagg']);
  assert.match(unknown.find((e) => e.key === 'worker_container_tagg')!.detail, /did you mean worker_container_tag\?/);
  assert.match(unknown.find((e) => e.key === 'namespac')!.where, /env AIRFLOW__KUBERNETES__NAMESPAC/);
  assert.ok(r.report.warnings.some((w) => /\[Kubernetes_Labels\] is not a section Airflow reads.*did you mean \[kubernetes_labels\]/.test(w)));
});

test('every option of the executor sections ends up in the report, exactly once per source', async () => {
  const text = cfg('dags_in_image = True\nairflow_configmap = cm\nverify_ssl = True\nworker_container_repository = r\nworker_container_tag = t\ngit_repo =');
  const r = await migrate(text);
  const keys = r.report.entries.filter((e) => e.section === 'kubernetes' && e.where.startsWith('line')).map((e) => e.key);
  assert.deepEqual(keys.sort(), ['airflow_configmap', 'dags_in_image', 'git_repo', 'verify_ssl', 'worker_container_repository', 'worker_container_tag']);
  assert.equal(entry(r, 'kubernetes', 'git_repo')[0].disposition, 'unset');
});

test('bad values: clear errors naming file, line, section and key (or the environment variable)', async () => {
  await rejects(migrate(cfg('dags_in_image = True\naffinity = {"nodeAffinity": ')), /^airflow\.cfg:7 \[kubernetes\] affinity: not valid JSON \([^)]*\)$/);
  await rejects(migrate(cfg('dags_in_image = True'), { AIRFLOW__KUBERNETES__TOLERATIONS: '[{"key": "a",}]' }), /^environment variable AIRFLOW__KUBERNETES__TOLERATIONS \(\[kubernetes\] tolerations\): not valid JSON/);
  await rejects(migrate(cfg('dags_in_image = True\ntolerations = {"key": "a"}')), /airflow\.cfg:7 \[kubernetes\] tolerations: expected a JSON list of tolerations/);
  await rejects(migrate(cfg('dags_in_image = True\ntolerations = [{"key": "a", "toleration_seconds": 5}]')), /tolerations: item 0: unknown toleration field "toleration_seconds"/);
  await rejects(migrate(cfg('dags_in_image = True\naffinity = {"node_affinity": {}}')), /affinity: unknown affinity field "node_affinity": expected nodeAffinity, podAffinity, podAntiAffinity/);
  await rejects(migrate(cfg('dags_in_image = True\naffinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": 5}}')), /affinity: not a valid Kubernetes affinity: nodeAffinity\.requiredDuringSchedulingIgnoredDuringExecution/);
  await rejects(migrate(cfg('dags_in_image = maybe')), /airflow\.cfg:6 \[kubernetes\] dags_in_image: expected True or False, found "maybe"/);
  await rejects(migrate(cfg('dags_in_image = True\nworker_pods_creation_batch_size = lots')), /worker_pods_creation_batch_size: expected a positive integer, found "lots"/);
  await rejects(migrate(cfg('dags_in_image = True\nworker_pods_creation_batch_size = 0')), /worker_pods_creation_batch_size: expected a positive integer, found 0/);
  await rejects(migrate(cfg('dags_in_image = True\nworker_container_image_pull_policy = Sometimes')), /expected one of Always, IfNotPresent, Never, found "Sometimes"/);
  await rejects(migrate(cfg('dags_in_image = True', '[kubernetes_secrets]\nDB = just-a-name\n')), /airflow\.cfg:8 \[kubernetes_secrets\] DB: expected <secret name>=<key in the secret>, found "just-a-name"/);
  await rejects(migrate(cfg('git_repo = https://g/r.git')), /\[kubernetes\] git_repo: git_repo is set but git_branch is empty/);
  await rejects(migrate(cfg('git_repo = r\ngit_branch = b\ngit_user = u\ngit_ssh_key_secret_name = k')), /git_ssh_key_secret_name: git_user\/git_password and git_ssh_key_secret_name are both set/);
  await rejects(migrate(cfg('dags_in_image = True', '[kubernetes_node_selectors]\ndisk = has spaces\n')), /not a valid Floe pod template:\nspec\.nodeSelector/);
});

test('bad files: missing airflow.cfg, bad INI, missing or broken pod template', async () => {
  const dir = tempDir();
  await rejects(migrateAirflowCfg({ cfgPath: 'nope.cfg', templatePath: 'p.yaml', cwd: dir }), /^nope\.cfg: no such file \(expected the airflow\.cfg to migrate\)/);
  await rejects(migrateAirflowCfg({ cfgPath: '.', templatePath: 'p.yaml', cwd: dir }), /is a directory/);
  await rejects(migrate('[kubernetes]\nnamespace = a\nnamespace = b'), /^airflow\.cfg:3 \[kubernetes\] namespace: option is set twice \(first on line 2\)/);
  await rejects(migrate(cfg('pod_template_file = /opt/airflow/missing.yaml')), /airflow\.cfg:6 \[kubernetes\] pod_template_file: pod template \/opt\/airflow\/missing\.yaml not found \(looked at .*missing\.yaml\)/);
  await rejects(
    migrate(cfg('pod_template_file = t.yaml'), {}, { 't.yaml': 'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: worker\n      image: x\n' }),
    /t\.yaml: spec\.containers: no container named "base" \(found "worker"\)/,
  );
  await rejects(
    migrate(cfg('pod_template_file = t.yaml'), {}, { 't.yaml': 'kind: Deployment\nspec: {}\n' }),
    /t\.yaml: kind: expected Pod, found "Deployment"/,
  );
  await rejects(
    migrate(cfg('pod_template_file = t.yaml'), {}, { 't.yaml': 'spec:\n  containers:\n    - name: base\n      image: x\n      resources: {limits: {cpu: lots}}\n' }),
    /the migrated pod template \(from t\.yaml\) is not a valid Floe pod template:\nspec\.containers\[(0|name=base)\]\.resources\.limits\.cpu/,
  );
  const d2 = tempDir({ 'airflow.cfg': cfg('pod_template_file = pod_template.yaml'), 'pod_template.yaml': 'spec:\n  containers:\n    - name: base\n' });
  await rejects(migrateAirflowCfg({ cfgPath: 'airflow.cfg', templatePath: 'pod_template.yaml', cwd: d2, env: {} }), /would overwrite the Airflow pod template it reads/);
});

test('2.x template: image overridden only with both repository and tag; namespace from config; command/args dropped', async () => {
  const tpl = 'metadata:\n  namespace: other\nspec:\n  containers:\n    - name: base\n      image: apache/airflow:2.8.0\n      command: [airflow]\n';
  const onlyRepo = await migrate(cfg('pod_template_file = t.yaml\nworker_container_repository = my/floe\nnamespace = ns1'), {}, { 't.yaml': tpl });
  assert.equal(base(onlyRepo).image, 'apache/airflow:2.8.0');
  assert.equal(base(onlyRepo).command, undefined);
  assert.equal(onlyRepo.pod.metadata!.namespace, 'ns1');
  assert.equal(onlyRepo.pod.apiVersion, 'v1');
  assert.match(entry(onlyRepo, 'kubernetes', 'worker_container_repository')[0].detail, /only when worker_container_repository and worker_container_tag are both set/);
  const both = await migrate(cfg('pod_template_file = t.yaml\nworker_container_repository = my/floe\nworker_container_tag = 1'), {}, { 't.yaml': tpl });
  assert.equal(base(both).image, 'my/floe:1');
  assert.equal(both.fragment.kubernetes.workerImage, 'my/floe:1');
});

test('--floe-config merges into an existing floe.yaml, keeping its other keys and comments', async () => {
  const dir = tempDir({
    'airflow.cfg': cfg('dags_in_image = True\nnamespace = jobs'),
    'floe.yaml': '# my settings\ncore:\n  parallelism: 8 # tuned\nkubernetes:\n  namespace: old\n  apiQps: 20\n',
  });
  const r = await migrateAirflowCfg({ cfgPath: 'airflow.cfg', templatePath: 'out/pod_template.yaml', floeConfigPath: 'floe.yaml', cwd: dir, env: {} });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(dir, 'out'));
  writeMigration(r);
  const text = readFileSync(path.join(dir, 'floe.yaml'), 'utf8');
  assert.match(text, /# my settings/);
  assert.match(text, /parallelism: 8 # tuned/);
  const loaded = loadConfig({ configFile: path.join(dir, 'floe.yaml'), env: {}, cwd: dir });
  assert.equal(loaded.core.parallelism, 8);
  assert.equal(loaded.kubernetes.apiQps, 20);
  assert.equal(loaded.kubernetes.namespace, 'jobs');
  assert.equal(loaded.kubernetes.podTemplateFile, './out/pod_template.yaml');
  assert.equal(loaded.core.executor, 'kubernetes');

  writeFileSync(path.join(dir, 'floe.yaml'), 'kubernetes:\n  bogusKey: 1\n');
  await rejects(
    migrateAirflowCfg({ cfgPath: 'airflow.cfg', templatePath: 'p.yaml', floeConfigPath: 'floe.yaml', cwd: dir, env: {} }),
    /floe\.yaml \(after merging the migrated keys\): kubernetes: Unrecognized key: "bogusKey"|floe\.yaml \(after merging the migrated keys\): kubernetes/,
  );
});
