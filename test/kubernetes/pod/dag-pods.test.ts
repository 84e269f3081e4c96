// Parse-time validation of a DAG's pods, `renderDagPods`, and the `floe kubernetes render` command.
import { Command } from '@commander-js/extra-typings';
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { registerRender } from '../../../src/cli/commands/kubernetes-render.ts';
import { loadPodTemplates, PLACEHOLDER_RUN_ID, renderDagPods, validateDagPods, type KubernetesPodConfig } from '../../../src/kubernetes/pod/index.ts';
import type { SerializedDag } from '../../../src/dag/model.ts';
import { CFG, dag, FIXTURES, fixedRandom, task } from './helpers.ts';

const GEO = dag('geo', [
  task('extract'),
  task('load', { podOverride: { metadata: { labels: { state: 'wa' } }, spec: { containers: [{ name: 'base', env: [{ name: 'STATE', value: 'wa' }] }] } } }),
  task('legacy', { KubernetesExecutor: { request_memory: '2Gi', limit_memory: '4Gi' } }),
  task('gpu', { podTemplate: 'gpu' }),
]);

const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { containers: { name: string; env?: unknown[]; command?: string[] }[] } });

describe('validateDagPods', () => {
  it('accepts valid tasks and warns once per task using legacy keys', async () => {
    const t = await loadPodTemplates(CFG);
    const r = await validateDagPods(GEO, GEO.tasks.map((x) => x.taskId), CFG, t);
    assert.deepEqual(r.errors, []);
    assert.equal(r.warnings.length, 1);
    assert.equal(r.warnings[0].taskId, 'legacy');
    assert.match(r.warnings[0].message, /write this instead: executorConfig: \{ podOverride: \{"spec":\{"containers":\[\{"name":"base","resources":\{"requests":\{"memory":"2Gi"\},"limits":\{"memory":"4Gi"\}\}\}\]\}\} \}$/);
  });

  it('reports override faults at executorConfig.podOverride paths, only for the listed tasks', async () => {
    const t = await loadPodTemplates(CFG);
    const bad = dag('bad', [
      task('cpu', { podOverride: { spec: { containers: [{ name: 'base', resources: { limits: { cpu: 'lots' } } }] } } }),
      task('two', { podOverride: { metadata: { labels: { 'a b': 'x' } }, spec: { containers: [{ name: 'Side', image: 'x' }] } } }),
      task('local', { podOverride: 'not checked: not kubernetes-bound' as unknown as object }),
      task('tmpl', { podTemplate: 'nope' }),
    ]);
    const r = await validateDagPods(bad, ['cpu', 'two', 'tmpl'], CFG, t);
    assert.deepEqual(r.errors, [
      { taskId: 'cpu', path: 'executorConfig.podOverride.spec.containers[name=base].resources.limits.cpu', message: 'expected a quantity such as "500m", "2", "1.5Gi" or "512Mi", got "lots"' },
      { taskId: 'two', path: 'executorConfig.podOverride.metadata.labels["a b"]', message: 'the name part must consist of letters, digits, "-", "_" or ".", starting and ending with a letter or digit' },
      { taskId: 'two', path: 'executorConfig.podOverride.spec.containers[name=Side].name', message: 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, got "Side"' },
      { taskId: 'tmpl', path: 'executorConfig.podTemplate', message: 'no template named "nope"; known: default, gpu, minimal' },
    ]);
  });

  it('names a broken template file of a task in the message', async () => {
    const t = await loadPodTemplates(CFG);
    const file = path.join(FIXTURES, 'templates/invalid/no-base.yaml');
    const r = await validateDagPods(dag('d', [task('x', { podTemplateFile: file })]), ['x'], CFG, t);
    assert.deepEqual(r.errors, [{ taskId: 'x', path: 'spec.containers', message: `pod template ${file}: no container named "base": the worker runs in the container named "base", add one` }]);
  });

  it('warns, naming each field, when an override or legacy block sets fields Floe\'s identity replaces', async () => {
    const t = await loadPodTemplates(CFG);
    const d = dag('ids', [
      task('own', {
        podOverride: {
          metadata: { name: 'mine', generateName: 'm-', labels: { 'floe.dev/dag-id': 'x', 'floe.dev/custom': 'kept', team: 'a' }, annotations: { 'floe.dev/run-id': 'r' } },
          spec: { restartPolicy: 'Always', containers: [{ name: 'base', command: ['sh'], args: ['-c', 'x'] }, { name: 'side', image: 's', command: ['y'] }] },
        },
      }),
      task('legacy', { KubernetesExecutor: { labels: { 'floe.dev/worker': 'false' } } }),
      task('fine', { podOverride: { metadata: { labels: { team: 'a' } }, spec: { containers: [{ name: 'side', image: 's', command: ['y'] }] } } }),
    ]);
    const r = await validateDagPods(d, ['own', 'legacy', 'fine'], CFG, t);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.warnings.filter((w) => !w.message.includes('is deprecated')),
      [
        {
          taskId: 'own',
          message:
            'executorConfig.podOverride sets fields that Floe\'s identity replaces, so they have no effect: metadata.name, metadata.generateName, ' +
            'metadata.labels["floe.dev/dag-id"], metadata.annotations["floe.dev/run-id"], spec.containers[name=base].command, spec.containers[name=base].args, spec.restartPolicy ' +
            '(Floe owns the pod name, its floe.dev/ labels and annotations, the base command and args, and restartPolicy)',
        },
        {
          taskId: 'legacy',
          message:
            'executorConfig.KubernetesExecutor sets a field that Floe\'s identity replaces, so it has no effect: metadata.labels["floe.dev/worker"] ' +
            '(Floe owns the pod name, its floe.dev/ labels and annotations, the base command and args, and restartPolicy)',
        },
      ],
    );
  });

  it('reports a listed task that is not in the DAG', async () => {
    const r = await validateDagPods(GEO, ['nope'], CFG, await loadPodTemplates(CFG));
    assert.deepEqual(r.errors, [{ taskId: 'nope', path: '', message: 'no task "nope" in DAG "geo"; tasks: extract, load, legacy, gpu' }]);
  });
});

describe('renderDagPods', () => {
  it('renders one document per task, warnings as comments, with the given run id', async () => {
    const yaml = await renderDagPods(GEO, { cfg: CFG, runId: 'manual__R', random: fixedRandom() });
    const pods = docs(yaml);
    assert.equal(pods.length, 4);
    assert.deepEqual(pods.map((p) => p.metadata.annotations['floe.dev/task-id']), ['extract', 'load', 'legacy', 'gpu']);
    for (const p of pods) assert.equal(p.metadata.annotations['floe.dev/run-id'], 'manual__R');
    assert.match(yaml, /^# geo\.extract\n/);
    assert.match(yaml, /\n# geo\.legacy\n# warning: executorConfig\.KubernetesExecutor \(Airflow 1\.10 style\) is deprecated/);
    assert.deepEqual(pods[1].spec.containers[0].env?.at(-1), { name: 'STATE', value: 'wa' });
  });

  it('hands each warning to onWarning as well as writing it as a comment', async () => {
    const d = dag('w', [task('a', { podOverride: { spec: { restartPolicy: 'Always' } } }), task('b')]);
    const seen: [string, string][] = [];
    const yaml = await renderDagPods(d, { cfg: CFG, random: fixedRandom(), onWarning: (t, m) => seen.push([t, m]) });
    assert.equal(seen.length, 1);
    assert.equal(seen[0][0], 'a');
    assert.match(seen[0][1], /^executorConfig\.podOverride sets a field that Floe's identity replaces, so it has no effect: spec\.restartPolicy /);
    assert.ok(yaml.includes(`# warning: ${seen[0][1]}\n`));
  });

  it('renders one task, with a forced template and the configured hook', async () => {
    const cfg: KubernetesPodConfig = { ...CFG, podMutationHook: 'hooks/add-label.ts' };
    const yaml = await renderDagPods(GEO, { cfg, taskId: 'load', template: 'minimal', now: () => new Date('2024-02-03T04:05:06.000Z') });
    const [pod, ...rest] = docs(yaml);
    assert.equal(rest.length, 0);
    assert.equal(pod.metadata.labels['cost-center'], 'analytics');
    assert.equal(pod.metadata.annotations['floe.dev/run-id'], 'manual__2024-02-03T04:05:06.000Z');
    assert.deepEqual(pod.spec.containers.map((c) => c.name), ['base'], 'the minimal template, not the default one');
  });

  it('names the task when a pod cannot be built', async () => {
    const bad: SerializedDag = dag('bad', [task('x', { podOverride: { spec: { containers: [{ image: 'i' }] } } })]);
    await assert.rejects(renderDagPods(bad, { cfg: CFG }), { message: 'task bad.x: executorConfig.podOverride.spec.containers[0].name: containers are matched by name, so every container in an override needs a "name"' });
    await assert.rejects(renderDagPods(bad, { cfg: CFG, taskId: 'y' }), { message: 'no task "y" in DAG "bad"; tasks: x' });
  });

  it('validates with a placeholder run id shaped like a real one', () => {
    assert.match(PLACEHOLDER_RUN_ID, /^manual__\d{4}-\d\d-\d\dT/);
  });
});

describe('floe kubernetes render', () => {
  function program(): { run: (...args: string[]) => Promise<void>; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    const root = new Command().name('floe').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
    const kubernetes = root.command('kubernetes');
    registerRender(kubernetes, {
      getDag: async (id) => {
        if (id !== 'geo') throw new Error(`no DAG "${id}"`);
        return GEO;
      },
      getPodConfig: () => CFG,
    });
    return { run: async (...args) => void (await root.parseAsync(['node', 'floe', 'kubernetes', 'render', ...args])), out, err };
  }

  it('prints the pods of a DAG, or of one task', async () => {
    const p = program();
    await p.run('geo', '--run-id', 'manual__X');
    assert.equal(docs(p.out.join('')).length, 4);
    const one = program();
    await one.run('geo', 'gpu', '--run-id', 'manual__X');
    const [pod] = docs(one.out.join(''));
    assert.equal(pod.metadata.labels['accelerator'], 'nvidia');
    assert.deepEqual(pod.spec.containers[0].command, ['floe', 'tasks', 'run', 'geo', 'gpu', 'manual__X', '--try', '1', '--map-index', '-1']);
  });

  it('prints warnings on stderr too, so a redirected render still shows them', async () => {
    const p = program();
    await p.run('geo', '--run-id', 'manual__X');
    assert.equal(p.err.length, 1);
    assert.match(p.err[0], /^warning: geo\.legacy: executorConfig\.KubernetesExecutor \(Airflow 1\.10 style\) is deprecated; write this instead: .*\n$/);
    assert.ok(p.out.join('').includes(`# warning: ${p.err[0].slice('warning: geo.legacy: '.length, -1)}\n`));
    const quiet = program();
    await quiet.run('geo', 'gpu');
    assert.deepEqual(quiet.err, []);
  });

  it('passes --template through and lets errors propagate to the main error handler', async () => {
    const p = program();
    await p.run('geo', 'extract', '--template', 'gpu');
    assert.equal(docs(p.out.join(''))[0].metadata.labels['accelerator'], 'nvidia');
    await assert.rejects(program().run('geo', 'extract', '--template', 'tpu'), { message: 'task geo.extract: --template: no template named "tpu"; known: default, gpu, minimal' });
    await assert.rejects(program().run('nope'), { message: 'no DAG "nope"' });
  });
});
