// The executor's pod cache (template + overrides per queue and executorConfig, validated once) must build
// exactly the pods and errors the uncached pipeline builds, and notice a template file that changed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { buildWorkerPod, type KubernetesPodConfig, loadPodTemplates, PodPipelineError, WorkerPodCache } from '../../../src/kubernetes/pod/index.ts';
import type { ExecutorConfig } from '../../../src/sdk/types.ts';
import { CFG, fixedRandom, task } from '../pod/helpers.ts';

const CONFIGS: [string, ExecutorConfig | null, string?][] = [
  ['plain', null],
  ['gpu queue', null, 'gpu_queue'],
  ['override', { podOverride: { metadata: { labels: { team: 'geo' } }, spec: { containers: [{ name: 'base', env: [{ name: 'STATE', value: 'wa' }] }] } } }],
  ['legacy', { KubernetesExecutor: { request_memory: '1Gi', labels: { a: 'b' } } }],
  ['named template', { podTemplate: 'minimal' }],
];

async function outcome(p: Promise<{ pod: unknown; warnings: string[] }>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    if (!(e instanceof PodPipelineError)) throw e;
    return { error: e.message };
  }
}

test('cached builds equal uncached ones, for every try and every similar task', async () => {
  const templates = await loadPodTemplates(CFG);
  const cache = new WorkerPodCache();
  for (const [label, ec, queue] of CONFIGS) {
    for (const [taskId, tryNumber] of [['t1', 1], ['t1', 2], ['t2', 1]] as const) {
      const args = { dagId: 'd', taskId, runId: 'manual__1', tryNumber, mapIndex: -1, schedulerId: 's', task: task(taskId, ec, queue), templates, cfg: CFG };
      const plain = await outcome(buildWorkerPod({ ...args, random: fixedRandom() }));
      const cached = await outcome(buildWorkerPod({ ...args, random: fixedRandom(), cache }));
      assert.deepEqual(cached, plain, `${label}, ${taskId} try ${tryNumber}`);
    }
  }
  assert.equal(cache.size, CONFIGS.length, 'one entry per (queue, executorConfig)');
});

test('errors are the same with the cache: an invalid override, and identity values that break only one try', async () => {
  const templates = await loadPodTemplates(CFG);
  const cache = new WorkerPodCache();
  const bad = task('t', { podOverride: { spec: { containers: [{ name: 'base', resources: { limits: { memory: 'lots' } } }] } } });
  const base = { dagId: 'd', taskId: 't', runId: 'r', tryNumber: 1, mapIndex: -1, schedulerId: 's', templates, cfg: CFG };
  for (let i = 0; i < 2; i++) {
    const got = await outcome(buildWorkerPod({ ...base, task: bad, cache }));
    assert.match(JSON.stringify(got), /executorConfig\.podOverride\.spec\.containers\[name=base\]\.resources\.limits\.memory/);
  }
  const ok = task('t', null);
  await buildWorkerPod({ ...base, task: ok, cache });
  // A run id too long for the annotations fails this try on the cached path exactly as without the cache.
  const huge = { ...base, runId: 'r'.repeat(300 * 1024), task: ok };
  const plain = await outcome(buildWorkerPod(huge));
  assert.match(JSON.stringify(plain), /256 KiB/);
  assert.deepEqual(await outcome(buildWorkerPod({ ...huge, cache })), plain);
});

test('a template file that changed is read again, not served from the cache', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'floe-podcache-'));
  const file = path.join(dir, 'pod.yaml');
  writeFileSync(file, 'spec:\n  containers:\n    - name: base\n');
  const cfg: KubernetesPodConfig = { ...CFG, baseDir: dir, podTemplateFile: 'pod.yaml', podTemplates: {}, queueTemplates: {} };
  const templates = await loadPodTemplates(cfg);
  const cache = new WorkerPodCache();
  const args = { dagId: 'd', taskId: 't', runId: 'r', tryNumber: 1, mapIndex: -1, schedulerId: 's', task: task('t'), templates, cfg, cache };
  const first = await buildWorkerPod(args);
  assert.equal(first.pod.metadata?.labels?.changed, undefined);
  // Longer, too: the template cache compares mtime and size.
  writeFileSync(file, 'metadata:\n  labels:\n    changed: "yes"\nspec:\n  containers:\n    - name: base\n');
  const second = await buildWorkerPod(args);
  assert.equal(second.pod.metadata?.labels?.changed, 'yes');
});
