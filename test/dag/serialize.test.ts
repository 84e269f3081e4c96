// serializeDag: live DagDefinition → plain SerializedDag, with every problem reported (file:line where known).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { V1Container, V1EnvVar, V1ObjectMeta, V1Pod, V1PodSpec, V1ResourceRequirements, V1Toleration } from '@kubernetes/client-node';
import { findCycle, serializeDag, type DagProblem } from '../../src/dag/serialize.ts';
import type { SerializedTask } from '../../src/dag/model.ts';
import { dag, shell, task, TRIGGER_RULES, type DagOptions, type TaskOptions } from '../../src/sdk/index.ts';
import type { DagDefinition } from '../../src/sdk/dag.ts';

const CFG = { defaultRetryDelay: 42, maxActiveRuns: 7, maxActiveTasks: 9 };
const HERE = new URL(import.meta.url).pathname;

/** A DAG with one task per entry (options as given, untyped on purpose to feed bad values), chained in order. */
function build(opts: Partial<DagOptions> & Record<string, unknown>, tasks: Record<string, Record<string, unknown>> = { a: {} }): DagDefinition {
  return dag({ dagId: 'd', ...opts } as DagOptions, () => {
    let prev: ReturnType<ReturnType<typeof task>> | null = null;
    for (const [taskId, o] of Object.entries(tasks)) {
      const ref = task({ taskId, ...(o as TaskOptions) }, () => 1)();
      if (prev) ref.after(prev);
      prev = ref;
    }
  });
}
const ser = (def: DagDefinition) => serializeDag(def, '/dags/d.ts', CFG);
const problems = (def: DagDefinition): DagProblem[] => {
  const r = ser(def);
  assert.equal(r.dag, null, 'an invalid DAG is not serialized');
  assert.ok(r.problems.length > 0);
  return r.problems;
};
/** The one problem whose message contains `fragment`. */
function problem(def: DagDefinition, fragment: string): DagProblem {
  const ps = problems(def);
  const hits = ps.filter((p) => p.message.includes(fragment));
  assert.equal(hits.length, 1, `one problem mentioning ${JSON.stringify(fragment)} in ${JSON.stringify(ps.map((p) => p.message))}`);
  return hits[0];
}
const onlyTask = (def: DagDefinition): SerializedTask => {
  const r = ser(def);
  assert.deepEqual(r.problems, []);
  return r.dag!.tasks[0];
};

describe('a valid DAG', () => {
  it('serializes to plain JSON with core defaults for everything unset', () => {
    const def = dag({ dagId: 'etl', schedule: '@daily', startDate: new Date('2030-01-01T00:00:00Z') }, () => {
      const e = task('extract', () => [1, 2])();
      const l = shell({ taskId: 'load', command: 'echo {{ ds }}' });
      l.after(e);
    });
    const r = ser(def);
    assert.deepEqual(r.problems, []);
    const base = { retries: 0, retryDelay: 42, retryExponentialBackoff: false, maxRetryDelay: null, executionTimeout: null, triggerRule: 'all_success', pool: 'default_pool', poolSlots: 1, queue: 'default', executorConfig: null, doc: null };
    assert.deepEqual(r.dag, {
      dagId: 'etl', fileloc: '/dags/d.ts', schedule: '@daily', timezone: 'UTC', startDate: '2030-01-01T00:00:00.000Z', endDate: null,
      catchup: false, maxActiveRuns: 7, maxActiveTasks: 9, params: {}, tags: [], description: null,
      tasks: [
        { taskId: 'extract', kind: 'function', upstream: [], ...base },
        { taskId: 'load', kind: 'shell', upstream: ['extract'], ...base },
      ],
    });
    assert.deepEqual(JSON.parse(JSON.stringify(r.dag)), r.dag, 'JSON round trip is lossless');
  });

  it('keeps the DAG\'s own settings', () => {
    const r = ser(build({ schedule: '0 6 * * *', timezone: 'Europe/Amsterdam', startDate: '2030-01-01', endDate: '2030-02-01T00:00:00+01:00', catchup: true, maxActiveRuns: 1, maxActiveTasks: 2, params: { n: 3, when: '2030' }, tags: ['x'], description: 'hi' }));
    assert.deepEqual(r.problems, []);
    const d = r.dag!;
    assert.deepEqual(
      [d.schedule, d.timezone, d.startDate, d.endDate, d.catchup, d.maxActiveRuns, d.maxActiveTasks, d.params, d.tags, d.description],
      ['0 6 * * *', 'Europe/Amsterdam', '2030-01-01T00:00:00.000Z', '2030-01-31T23:00:00.000Z', true, 1, 2, { n: 3, when: '2030' }, ['x'], 'hi'],
    );
  });

  it('upstream lists are sorted; a schedule of null needs no startDate', () => {
    const def = dag({ dagId: 'fan', schedule: null }, () => {
      const z = task('z', () => 1)();
      const a = task('a', () => 1)();
      task('join', (_c, x: number, y: number) => x + y)(z, a);
    });
    const r = ser(def);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.dag!.tasks.find((t) => t.taskId === 'join')!.upstream, ['a', 'z']);
  });
});

describe('defaults', () => {
  it('defaultArgs apply to every task; a task\'s own options win', () => {
    const def = build({ defaultArgs: { retries: 2, retryDelay: 5, pool: 'etl', queue: 'kubernetes', doc: 'shared' } }, { a: {}, b: { retries: 0, pool: 'db', poolSlots: 3 } });
    const [a, b] = ser(def).dag!.tasks;
    assert.deepEqual([a.retries, a.retryDelay, a.pool, a.poolSlots, a.queue, a.doc], [2, 5, 'etl', 1, 'kubernetes', 'shared']);
    assert.deepEqual([b.retries, b.retryDelay, b.pool, b.poolSlots, b.queue, b.doc], [0, 5, 'db', 3, 'kubernetes', 'shared']);
  });
  it('retryDelay falls back to the configured default, not a constant', () => {
    assert.equal(onlyTask(build({}, { a: { retries: 1 } })).retryDelay, 42);
    assert.equal(serializeDag(build({}), '/f', { ...CFG, defaultRetryDelay: 7 }).dag!.tasks[0].retryDelay, 7);
  });
  it('every task option is carried through', () => {
    const t = onlyTask(build({}, { a: { retries: 3, retryDelay: 10, retryExponentialBackoff: true, maxRetryDelay: 600, executionTimeout: 30, triggerRule: 'all_done', pool: 'p', poolSlots: 2, queue: 'q', executorConfig: { podTemplate: 'gpu' }, doc: 'does a' } }));
    assert.deepEqual(
      { ...t, taskId: undefined, kind: undefined, upstream: undefined },
      { taskId: undefined, kind: undefined, upstream: undefined, retries: 3, retryDelay: 10, retryExponentialBackoff: true, maxRetryDelay: 600, executionTimeout: 30, triggerRule: 'all_done', pool: 'p', poolSlots: 2, queue: 'q', executorConfig: { podTemplate: 'gpu' }, doc: 'does a' },
    );
  });
  it('maxActiveRuns / maxActiveTasks come from the configuration unless the DAG sets them', () => {
    const d = ser(build({})).dag!;
    assert.deepEqual([d.maxActiveRuns, d.maxActiveTasks], [7, 9]);
  });
});

describe('ids', () => {
  it('valid ids: letters, digits, _ - . up to 250 characters', () => {
    for (const id of ['a', 'etl.daily-v2_X', '0', 'x'.repeat(250)]) assert.deepEqual(ser(build({ dagId: id }, { [id]: {} })).problems, [], id);
  });
  it('an invalid dagId is a problem naming it and the rule', () => {
    for (const id of ['my dag', '', 'a/b', 'été', 'x'.repeat(251), 'semi;colon']) {
      const p = problem(build({ dagId: id }), `dagId "${id}" is invalid`);
      assert.match(p.message, /letters, digits/);
      assert.equal(p.dagId, id);
    }
  });
  it('an invalid taskId is a problem naming the task, with the line that declared it', () => {
    const p = problem(build({}, { 'bad id!': {} }), 'taskId "bad id!" is invalid');
    assert.equal(p.taskId, 'bad id!');
    assert.ok(p.at?.startsWith(`${HERE}:`), `at ${p.at}`);
  });
  it('a shell task id used twice is a problem; a TaskFlow task called twice gets a suffix', () => {
    const dup = dag({ dagId: 'dup' }, () => {
      shell({ taskId: 'run', command: 'true' });
      shell({ taskId: 'run', command: 'false' });
    });
    assert.match(problem(dup, 'duplicate').message, /duplicate task id "run"/);
    const twice = dag({ dagId: 'twice' }, () => {
      const t = task('t', () => 1);
      t();
      t();
    });
    assert.deepEqual(ser(twice).dag!.tasks.map((x) => x.taskId), ['t', 't__1']);
  });
});

describe('task options', () => {
  it('an unknown trigger rule is a problem that lists the valid ones', () => {
    const p = problem(build({}, { a: { triggerRule: 'all_sucess' } }), 'triggerRule');
    for (const r of TRIGGER_RULES) assert.ok(p.message.includes(r), `lists ${r}: ${p.message}`);
    assert.equal(p.taskId, 'a');
    assert.ok(p.at?.startsWith(`${HERE}:`));
  });
  it('bad retries: negative, fractional, a string', () => {
    for (const retries of [-1, 1.5, '3', Number.NaN, Number.POSITIVE_INFINITY]) {
      const p = problem(build({}, { a: { retries } }), 'retries');
      assert.equal(p.taskId, 'a');
      assert.match(p.message, /^task option retries: /, String(retries));
    }
  });
  it('other bad values name their option', () => {
    const cases: [string, unknown][] = [
      ['retryDelay', -5], ['retryExponentialBackoff', 'yes'], ['maxRetryDelay', 0], ['executionTimeout', -1],
      ['pool', ''], ['poolSlots', 0], ['poolSlots', 1.5], ['queue', ''], ['executorConfig', 'pod.yaml'], ['doc', 5],
    ];
    for (const [key, value] of cases) problem(build({}, { a: { [key]: value } }), `task option ${key}: `);
  });
  it('an unknown option is a problem naming it', () => {
    problem(build({}, { a: { retry: 3 } }), '"retry"');
  });
  it('bad defaultArgs are reported for each task they reach', () => {
    const ps = problems(build({ defaultArgs: { retries: -2 } as TaskOptions }, { a: {}, b: {} }));
    assert.deepEqual(ps.map((p) => p.taskId), ['a', 'b']);
    for (const p of ps) assert.match(p.message, /retries/);
  });
});

describe('DAG options', () => {
  it('a schedule without startDate is a problem', () => {
    problem(build({ schedule: '@daily' }), 'startDate is required when a schedule is set');
    problem(build({ schedule: { every: 60 } }), 'startDate is required');
  });
  it('a bad startDate names the field and the value', () => {
    const ps = problems(build({ schedule: '@daily', startDate: 'next tuesday' }));
    assert.ok(ps.some((p) => p.message === 'startDate: expected a Date or ISO date string, got "next tuesday"'), JSON.stringify(ps));
    problem(build({ startDate: new Date('invalid') }), 'startDate: expected a Date');
    problem(build({ endDate: 'soon' }), 'endDate: expected a Date');
  });
  it('a bad schedule or time zone is a problem naming it', () => {
    problem(build({ schedule: 'every day', startDate: '2030-01-01' }), '"every day"');
    problem(build({ schedule: '@daily', startDate: '2030-01-01', timezone: 'Mars/Olympus' }), 'Mars/Olympus');
  });
  it('maxActiveRuns / maxActiveTasks must be positive integers', () => {
    problem(build({ maxActiveRuns: 0 }), 'maxActiveRuns: expected a positive integer, got 0');
    problem(build({ maxActiveTasks: 2.5 }), 'maxActiveTasks: expected a positive integer, got 2.5');
  });
  it('every problem is reported at once', () => {
    const ps = problems(build({ dagId: 'bad dag', schedule: '@daily', maxActiveRuns: -1 }, { 'x y': {}, b: { retries: -1 }, c: { triggerRule: 'sometimes' } }));
    const text = ps.map((p) => p.message).join('\n');
    for (const f of ['dagId "bad dag"', 'startDate is required', 'maxActiveRuns', 'taskId "x y"', 'retries', 'triggerRule']) assert.ok(text.includes(f), `${f} in\n${text}`);
  });
});

describe('cycles', () => {
  /** Checks the message names a closed path whose every arrow is an upstream → downstream edge. */
  function assertCycleMessage(def: DagDefinition, members: string[]): void {
    const p = problem(def, 'cycle between tasks: ');
    const names = p.message.replace('cycle between tasks: ', '').split(' → ');
    assert.equal(names[0], names.at(-1), `closed: ${p.message}`);
    assert.deepEqual([...new Set(names)].sort(), [...members].sort(), p.message);
    for (let i = 1; i < names.length; i++)
      assert.ok(def.tasks.get(names[i])!.upstream.has(names[i - 1]), `${names[i - 1]} → ${names[i]} is an edge: ${p.message}`);
  }
  const graph = (edges: [string, string][], extra: string[] = []) =>
    dag({ dagId: 'cyc' }, () => {
      const refs = new Map<string, ReturnType<ReturnType<typeof task>>>();
      for (const id of [...new Set([...edges.flat(), ...extra])].sort()) refs.set(id, task(id, () => 1)());
      for (const [up, down] of edges) refs.get(down)!.after(refs.get(up)!);
    });

  it('a three-task cycle is named in order', () => assertCycleMessage(graph([['a', 'b'], ['b', 'c'], ['c', 'a']]), ['a', 'b', 'c']));
  it('a two-task cycle', () => assertCycleMessage(graph([['a', 'b'], ['b', 'a']]), ['a', 'b']));
  it('a task depending on itself', () => assertCycleMessage(graph([['a', 'a']]), ['a']));
  it('only the tasks on the cycle are named, not those leading into it', () =>
    assertCycleMessage(graph([['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'b'], ['d', 'e']], ['z']), ['b', 'c', 'd']));
  it('findCycle: null for a DAG, also a wide diamond', () => {
    assert.equal(findCycle(new Map([['a', { upstream: [] }], ['b', { upstream: ['a'] }], ['c', { upstream: ['a'] }], ['d', { upstream: ['b', 'c', 'a'] }]])), null);
    assert.equal(findCycle(new Map()), null);
    const wide = new Map(Array.from({ length: 300 }, (_, i) => [`t${i}`, { upstream: i ? [`t${i - 1}`] : [] }]));
    assert.equal(findCycle(wide), null);
  });
});

describe('executorConfig', () => {
  function podOverride(): V1Pod {
    const env = new V1EnvVar();
    env.name = 'STATE';
    env.value = 'wa';
    const resources = new V1ResourceRequirements();
    resources.limits = { cpu: '1', memory: '512Mi' };
    const base = new V1Container();
    base.name = 'base';
    base.imagePullPolicy = 'IfNotPresent';
    base.env = [env];
    base.resources = resources;
    const tol = new V1Toleration();
    tol.key = 'gpu';
    tol.operator = 'Exists';
    tol.tolerationSeconds = 30;
    const spec = new V1PodSpec();
    spec.containers = [base];
    spec.serviceAccountName = 'runner';
    spec.tolerations = [tol];
    spec.nodeSelector = { 'kubernetes.io/arch': 'arm64' };
    const pod = new V1Pod();
    pod.apiVersion = 'v1';
    pod.kind = 'Pod';
    pod.metadata = new V1ObjectMeta();
    pod.metadata.labels = { purpose: 'pod-override-example' };
    pod.metadata.annotations = { 'example.com/owner': 'data' };
    pod.spec = spec;
    return pod;
  }
  const plain = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { labels: { purpose: 'pod-override-example' }, annotations: { 'example.com/owner': 'data' } },
    spec: {
      containers: [{ name: 'base', imagePullPolicy: 'IfNotPresent', env: [{ name: 'STATE', value: 'wa' }], resources: { limits: { cpu: '1', memory: '512Mi' } } }],
      serviceAccountName: 'runner',
      tolerations: [{ key: 'gpu', operator: 'Exists', tolerationSeconds: 30 }],
      nodeSelector: { 'kubernetes.io/arch': 'arm64' },
    },
  };
  const isPlain = (v: unknown): boolean => {
    if (Array.isArray(v)) return v.every(isPlain);
    if (v && typeof v === 'object') return Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(isPlain);
    return ['string', 'number', 'boolean'].includes(typeof v) || v === null;
  };

  it('a V1Pod podOverride becomes its plain camelCase JSON', () => {
    const t = onlyTask(build({}, { a: { executorConfig: { podOverride: podOverride() } } }));
    assert.deepEqual(t.executorConfig, { podOverride: plain });
    assert.ok(isPlain(t.executorConfig), 'no class instances left');
    assert.ok(!(t.executorConfig!.podOverride instanceof V1Pod));
  });
  it('also when the V1Pod comes from defaultArgs, beside other keys', () => {
    const t = onlyTask(build({ defaultArgs: { executorConfig: { podOverride: podOverride(), podTemplate: 'gpu' } } }));
    assert.deepEqual(t.executorConfig, { podOverride: plain, podTemplate: 'gpu' });
    assert.ok(isPlain(t.executorConfig));
  });
  it('the serialized config does not share objects with the DAG file\'s', () => {
    const pod = podOverride();
    const t = onlyTask(build({}, { a: { executorConfig: { podOverride: pod } } }));
    pod.metadata!.labels!.purpose = 'changed';
    assert.equal((t.executorConfig!.podOverride as typeof plain).metadata.labels.purpose, 'pod-override-example');
  });
  it('undefined fields and functions are dropped, Dates become ISO strings', () => {
    const t = onlyTask(build({}, { a: { executorConfig: { podOverride: { metadata: { name: undefined, labels: { a: 'b' } } }, hook: () => 1, at: new Date('2030-01-01T00:00:00Z') } } }));
    assert.deepEqual(t.executorConfig, { podOverride: { metadata: { labels: { a: 'b' } } }, at: '2030-01-01T00:00:00.000Z' });
  });
});
