// Template loading, reloading on change, and selection.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  buildWorkerPod,
  builtinTemplate,
  loadPodTemplates,
  parsePodTemplate,
  PodPipelineError,
  refreshPodTemplates,
  selectTemplate,
  type KubernetesPodConfig,
} from '../../../src/kubernetes/pod/index.ts';
import type { ExecutorConfig } from '../../../src/sdk/types.ts';
import { CFG, fixedRandom, task } from './helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'floe-templates-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let tick = 1_700_000_000;
function write(name: string, image: string | null, extra = ''): string {
  const file = path.join(dir, name);
  writeFileSync(file, `spec:\n  containers:\n    - name: base\n${image ? `      image: ${image}\n` : ''}${extra}`);
  // A distinct mtime per write, as a real edit would give (file systems may have coarse timestamps).
  tick += 10;
  utimesSync(file, tick, tick);
  return file;
}

describe('templates', () => {
  it('uses the built-in pod when no template file is configured', async () => {
    const t = await loadPodTemplates({ namespace: 'n', workerImage: 'floe:x', baseDir: dir });
    const sel = selectTemplate(task('t'), t);
    assert.equal(sel.file, null);
    assert.deepEqual(sel.pod, builtinTemplate('floe:x'));
  });

  it('selects: forced template > task podTemplateFile > podTemplate > queue > default', async () => {
    const t = await loadPodTemplates(CFG);
    await refreshPodTemplates(t, ['templates/minimal.yaml']);
    const pick = (ec: ExecutorConfig | null, queue = 'default', template?: string) => selectTemplate(task('t', ec, queue), t, { template }).name;
    assert.equal(pick(null), 'default');
    assert.equal(pick(null, 'gpu_queue'), 'gpu');
    assert.equal(pick({ podTemplate: 'minimal' }, 'gpu_queue'), 'minimal');
    assert.equal(pick({ podTemplateFile: 'templates/minimal.yaml' }, 'gpu_queue'), path.join(CFG.baseDir, 'templates/minimal.yaml'));
    assert.equal(pick({ podTemplate: 'minimal' }, 'gpu_queue', 'gpu'), 'gpu');
    assert.equal(pick(null, 'default', 'default'), 'default');
  });

  it('re-reads a template when its file changes, and only then', async () => {
    const file = write('reload.yaml', 'v1');
    const cfg: KubernetesPodConfig = { namespace: 'n', workerImage: 'w', baseDir: dir, podTemplateFile: 'reload.yaml' };
    const t = await loadPodTemplates(cfg);
    const image = async () => {
      await refreshPodTemplates(t);
      return selectTemplate(task('t'), t).pod.spec!.containers[0].image;
    };
    assert.equal(await image(), 'v1');
    const before = t.files.get(file);
    assert.equal(await image(), 'v1');
    assert.equal(t.files.get(file), before, 'unchanged file: the cached parse is reused');
    write('reload.yaml', 'v2');
    assert.equal(await image(), 'v2');
  });

  it('a template that becomes invalid fails only the tasks using it, until it is fixed', async () => {
    write('good.yaml', 'good');
    write('flaky.yaml', 'flaky');
    const cfg: KubernetesPodConfig = { namespace: 'n', workerImage: 'w', baseDir: dir, podTemplateFile: 'good.yaml', podTemplates: { flaky: 'flaky.yaml' } };
    const t = await loadPodTemplates(cfg);
    const build = (ec: ExecutorConfig | null) => buildWorkerPod({ dagId: 'd', taskId: 't', runId: 'r', tryNumber: 1, mapIndex: -1, schedulerId: 's', task: task('t', ec), templates: t, cfg, random: fixedRandom() });
    write('flaky.yaml', 'flaky', '      resources:\n        limits:\n          cpu: lots\n');
    await assert.rejects(build({ podTemplate: 'flaky' }), (e: unknown) => e instanceof PodPipelineError && e.stage === 'template' && e.path === 'spec.containers[name=base].resources.limits.cpu' && e.message.startsWith(`pod template ${path.join(dir, 'flaky.yaml')}: `));
    assert.equal((await build(null)).pod.spec!.containers[0].image, 'good');
    write('flaky.yaml', 'fixed');
    assert.equal((await build({ podTemplate: 'flaky' })).pod.spec!.containers[0].image, 'fixed');
  });

  it('refuses an invalid template at start, naming file and field', async () => {
    write('bad.yaml', 'x', '      ports:\n        - containerPort: 0\n');
    await assert.rejects(loadPodTemplates({ namespace: 'n', workerImage: 'w', baseDir: dir, podTemplates: { bad: 'bad.yaml' } }), {
      message: `pod template ${path.join(dir, 'bad.yaml')}: spec.containers[name=base].ports[0].containerPort: must be between 1 and 65535, got 0`,
    });
  });

  it('accepts what kubectl generates: nulls are absent, an empty status is dropped', async () => {
    const file = path.join(CFG.baseDir, 'templates/kubectl-generated.yaml');
    const pod = parsePodTemplate(readFileSync(file, 'utf8'), file);
    assert.deepEqual(pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { labels: { run: 'base' }, name: 'base' },
      spec: { containers: [{ image: 'floe:1', name: 'base', resources: {} }], dnsPolicy: 'ClusterFirst', restartPolicy: 'Always' },
    });
    assert.throws(() => parsePodTemplate('spec:\n  containers: [{name: base}]\nstatus:\n  phase: Running\n', 'x.yaml'), /^PodPipelineError: pod template x\.yaml: status: a pod status is set by Kubernetes/);
  });

  it('reserves the name "default" for kubernetes.podTemplateFile', async () => {
    await assert.rejects(loadPodTemplates({ namespace: 'n', workerImage: 'w', baseDir: dir, podTemplates: { default: 'good.yaml' } }), /kubernetes\.podTemplates\.default: "default" names kubernetes\.podTemplateFile/);
  });

  it('resolves a task\'s podTemplateFile against baseDir and loads it on demand', async () => {
    write('own.yaml', 'own');
    const cfg: KubernetesPodConfig = { namespace: 'n', workerImage: 'w', baseDir: dir };
    const t = await loadPodTemplates(cfg);
    const { pod } = await buildWorkerPod({ dagId: 'd', taskId: 't', runId: 'r', tryNumber: 1, mapIndex: -1, schedulerId: 's', task: task('t', { podTemplateFile: 'own.yaml' }), templates: t, cfg });
    assert.equal(pod.spec!.containers[0].image, 'own');
  });
});
