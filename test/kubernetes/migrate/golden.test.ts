// Golden outputs for the realistic airflow.cfg fixtures: pod template, floe.yaml and report, byte for byte.
// The produced template must also load in the pod pipeline and render a worker pod.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { migrateAirflowCfg, writeMigration } from '../../../src/kubernetes/migrate/migrate.ts';
import { formatReport } from '../../../src/kubernetes/migrate/report.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { renderDagPods, type KubernetesPodConfig } from '../../../src/kubernetes/pod/index.ts';
import type { SerializedDag } from '../../../src/dag/model.ts';
import { FIXTURES, fixtureCopy } from './helpers.ts';

const update = process.env.UPDATE_GOLDEN === '1';

const dag: SerializedDag = {
  dagId: 'etl',
  fileloc: 'etl.ts',
  schedule: null,
  timezone: 'UTC',
  startDate: null,
  endDate: null,
  catchup: false,
  maxActiveRuns: 1,
  maxActiveTasks: 1,
  params: {},
  tags: [],
  description: null,
  tasks: [
    {
      taskId: 'extract',
      kind: 'function',
      upstream: [],
      retries: 0,
      retryDelay: 300,
      retryExponentialBackoff: false,
      maxRetryDelay: null,
      executionTimeout: null,
      triggerRule: 'all_success',
      pool: 'default_pool',
      poolSlots: 1,
      queue: 'default',
      executorConfig: null,
      doc: null,
    },
  ],
};

function golden(fixture: string, name: string, actual: string): void {
  const file = path.join(FIXTURES, fixture, 'expected', name);
  if (update) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `missing golden ${file}; run with UPDATE_GOLDEN=1 and review it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `${fixture}/${name} differs from its golden file`);
}

const fixtures = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

test('every fixture folder is covered (1.10.12 git-sync, 1.10.12 PVC, 2.0.0 default, 2.x pod_template_file)', () => {
  assert.deepEqual(fixtures.sort(), ['1.10.12-git-sync', '1.10.12-pvc', '2.0.0-default', '2.x-pod-template']);
});

for (const fixture of fixtures) {
  test(`golden: ${fixture}`, async () => {
    const dir = fixtureCopy(fixture);
    const envFile = path.join(dir, 'env.json');
    const env = existsSync(envFile) ? (JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>) : { HOME: '/home/airflow' };
    const result = await migrateAirflowCfg({ cfgPath: 'airflow.cfg', templatePath: 'pod_template.yaml', floeConfigPath: 'floe.yaml', cwd: dir, env });
    writeMigration(result);
    golden(fixture, 'pod_template.yaml', readFileSync(path.join(dir, 'pod_template.yaml'), 'utf8'));
    golden(fixture, 'floe.yaml', readFileSync(path.join(dir, 'floe.yaml'), 'utf8'));
    golden(fixture, 'report.txt', formatReport(result.report));

    // Nothing read was dropped silently: every entry says what became of it.
    for (const e of result.report.entries) assert.ok(e.detail, `[${e.section}] ${e.key} has no target or reason`);

    // The written floe.yaml loads as Floe configuration, pointing at the written template.
    const loaded = loadConfig({ configFile: path.join(dir, 'floe.yaml'), env: {}, cwd: dir });
    assert.equal(loaded.core.executor, result.fragment.core.executor);
    const cfg: KubernetesPodConfig = {
      namespace: loaded.kubernetes.namespace,
      podTemplateFile: loaded.kubernetes.podTemplateFile,
      workerImage: loaded.kubernetes.workerImage,
      baseDir: dir,
    };
    assert.equal(path.resolve(dir, cfg.podTemplateFile!), path.join(dir, 'pod_template.yaml'));

    // …and renders through the pod pipeline as `floe kubernetes render etl` would.
    const rendered = await renderDagPods(dag, { cfg, runId: 'manual__2024-01-01T00:00:00Z', random: () => 0 });
    assert.match(rendered, /name: base/);
    assert.match(rendered, new RegExp(`image: ${result.fragment.kubernetes.workerImage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(rendered, /FLOE_DATABASE_URL/);
    assert.match(rendered, new RegExp(`namespace: ${result.fragment.kubernetes.namespace}`));
  });
}
