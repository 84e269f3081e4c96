// loadConfig: defaults, floe.yaml, FLOE__SECTION__KEY overrides, precedence, errors, path resolution.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, databaseUrl, envOverrides, loadConfig } from '../../src/config/load.ts';

const root = mkdtempSync(path.join(tmpdir(), 'floe-config-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh empty folder, with the given files (relative path → content). */
function dir(files: Record<string, string> = {}): string {
  const d = path.join(root, `case${n++}`);
  mkdirSync(d);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, rel)), { recursive: true });
    writeFileSync(path.join(d, rel), content);
  }
  return d;
}
/** Asserts loadConfig throws a ConfigError whose message contains every fragment. */
function configError(fn: () => unknown, ...fragments: string[]): string {
  let message = '';
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    message = e.message;
    for (const f of fragments) assert.ok(message.includes(f), `message ${JSON.stringify(message)} should mention ${JSON.stringify(f)}`);
    return true;
  });
  return message;
}

describe('defaults', () => {
  const cwd = dir();
  const cfg = loadConfig({ env: {}, cwd });
  it('every section has its documented defaults', () => {
    assert.deepEqual(
      { ...cfg.core, dagsFolder: undefined },
      { dagsFolder: undefined, executor: 'local', parallelism: 16, defaultPoolSlots: 128, dagFileProcessorTimeout: 30, isolateTasks: false, maxActiveRunsPerDag: 16, maxActiveTasksPerDag: 16, defaultRetryDelay: 300, maxMapLength: 1024 },
    );
    assert.deepEqual(cfg.database, { url: null });
    assert.deepEqual(cfg.scheduler, { loopInterval: 1, dagDirListInterval: 30, taskHeartbeatInterval: 5, zombieThreshold: 60, healthCheckThreshold: 30, taskQueuedTimeout: 600 });
    assert.equal(cfg.logging.level, 'info');
    assert.deepEqual(cfg.queue, { redisUrl: 'redis://127.0.0.1:6379', prefix: 'floe', concurrency: 4, queueConcurrency: {}, shutdownTimeout: 60, lockDuration: 30, stalledInterval: 30, reconcileInterval: 5 });
    assert.deepEqual(cfg.hybrid, { kubernetesQueue: 'kubernetes' });
    const k = cfg.kubernetes;
    assert.deepEqual(
      [k.namespace, k.workerImage, k.podTemplateFile, k.podTemplates, k.inCluster, k.apiQps, k.apiBurst, k.deleteWorkerPods, k.multiNamespaces],
      ['default', 'floe:latest', null, {}, false, 5, 10, 'onSuccess', []],
    );
  });
  it('no file: FLOE_HOME is ./.floe, paths resolve against the working folder', () => {
    assert.equal(cfg.configFile, null);
    assert.equal(cfg.home, path.join(cwd, '.floe'));
    assert.equal(cfg.core.dagsFolder, path.join(cwd, 'dags'));
    assert.equal(cfg.logging.logsFolder, path.join(cwd, '.floe', 'logs'));
    assert.equal(databaseUrl(cfg), `sqlite://${path.join(cwd, '.floe', 'floe.db')}`);
  });
  it('FLOE_HOME, relative to the working folder or absolute, moves the DB and logs', () => {
    const rel = loadConfig({ env: { FLOE_HOME: 'state' }, cwd });
    assert.equal(rel.home, path.join(cwd, 'state'));
    assert.equal(databaseUrl(rel), `sqlite://${path.join(cwd, 'state', 'floe.db')}`);
    assert.equal(rel.logging.logsFolder, path.join(cwd, 'state', 'logs'));
    const abs = path.join(root, 'elsewhere');
    assert.equal(loadConfig({ env: { FLOE_HOME: abs }, cwd }).home, abs);
  });
  it('an empty floe.yaml means defaults', () => {
    const d = dir({ 'floe.yaml': '# nothing yet\n' });
    const c = loadConfig({ env: {}, cwd: d });
    assert.equal(c.configFile, path.join(d, 'floe.yaml'));
    assert.equal(c.core.parallelism, 16);
  });
});

describe('floe.yaml', () => {
  it('values from ./floe.yaml replace the defaults they name, and only those', () => {
    const d = dir({ 'floe.yaml': 'core:\n  parallelism: 4\n  executor: kubernetes\nscheduler:\n  loopInterval: 0.25\nkubernetes:\n  multiNamespaces: [a, b]\n  podTemplates:\n    gpu: gpu.yaml\n' });
    const c = loadConfig({ env: {}, cwd: d });
    assert.equal(c.configFile, path.join(d, 'floe.yaml'));
    assert.equal(c.core.parallelism, 4);
    assert.equal(c.core.executor, 'kubernetes');
    assert.equal(c.core.defaultPoolSlots, 128);
    assert.equal(c.scheduler.loopInterval, 0.25);
    assert.equal(c.scheduler.zombieThreshold, 60);
    assert.deepEqual(c.kubernetes.multiNamespaces, ['a', 'b']);
    assert.deepEqual(c.kubernetes.podTemplates, { gpu: 'gpu.yaml' });
  });

  it('which file: explicit option, then FLOE_CONFIG, then $FLOE_HOME/floe.yaml, then ./floe.yaml', () => {
    const d = dir({
      'floe.yaml': 'core: { parallelism: 1 }\n',
      'home/floe.yaml': 'core: { parallelism: 2 }\n',
      'env.yaml': 'core: { parallelism: 3 }\n',
      'opt.yaml': 'core: { parallelism: 4 }\n',
    });
    const p = (o: Parameters<typeof loadConfig>[0]) => loadConfig({ cwd: d, ...o }).core.parallelism;
    assert.equal(p({ env: {} }), 1);
    assert.equal(p({ env: { FLOE_HOME: 'home' } }), 2);
    assert.equal(p({ env: { FLOE_HOME: 'home', FLOE_CONFIG: 'env.yaml' } }), 3);
    assert.equal(p({ env: { FLOE_HOME: 'home', FLOE_CONFIG: 'env.yaml' }, configFile: 'opt.yaml' }), 4);
    assert.equal(loadConfig({ cwd: d, env: { FLOE_CONFIG: path.join(d, 'env.yaml') } }).configFile, path.join(d, 'env.yaml'));
  });

  it('a config file asked for but missing is an error naming it', () => {
    const d = dir();
    configError(() => loadConfig({ env: {}, cwd: d, configFile: 'missing.yaml' }), 'missing.yaml', 'does not exist');
    configError(() => loadConfig({ env: { FLOE_CONFIG: '/no/such/floe.yaml' }, cwd: d }), '/no/such/floe.yaml', 'does not exist');
  });
});

describe('FLOE__SECTION__KEY environment overrides', () => {
  it('envOverrides parses values as YAML scalars: numbers, booleans, JSON lists and objects, strings', () => {
    assert.deepEqual(
      envOverrides({
        FLOE__CORE__PARALLELISM: '4',
        FLOE__SCHEDULER__LOOP_INTERVAL: '0.5',
        FLOE__CORE__ISOLATE_TASKS: 'true',
        FLOE__KUBERNETES__IN_CLUSTER: 'false',
        FLOE__KUBERNETES__MULTI_NAMESPACES: '["a", "b"]',
        FLOE__KUBERNETES__POD_TEMPLATES: '{"gpu": "/t/gpu.yaml"}',
        FLOE__LOGGING__LEVEL: 'debug',
        FLOE__CORE__MAX_ACTIVE_TASKS_PER_DAG: '3',
      }),
      {
        core: { parallelism: 4, isolateTasks: true, maxActiveTasksPerDag: 3 },
        scheduler: { loopInterval: 0.5 },
        kubernetes: { inCluster: false, multiNamespaces: ['a', 'b'], podTemplates: { gpu: '/t/gpu.yaml' } },
        logging: { level: 'debug' },
      },
    );
  });

  it('ignores variables that are not FLOE__SECTION__KEY', () => {
    assert.deepEqual(envOverrides({ FLOE_HOME: '/x', FLOE_CORE_PARALLELISM: '3', FLOE__CORE: '3', FLOE__CORE__: '3', PATH: '/bin', floe__core__parallelism: '3', FLOE__UNSET__KEY: undefined }), {});
  });

  it('overrides reach the loaded config with their types', () => {
    const c = loadConfig({
      cwd: dir(),
      env: { FLOE__CORE__PARALLELISM: '4', FLOE__CORE__ISOLATE_TASKS: 'true', FLOE__KUBERNETES__MULTI_NAMESPACES: '["a","b"]', FLOE__SCHEDULER__ZOMBIE_THRESHOLD: '90.5', FLOE__KUBERNETES__DELETE_WORKER_PODS: 'never' },
    });
    assert.equal(c.core.parallelism, 4);
    assert.equal(c.core.isolateTasks, true);
    assert.deepEqual(c.kubernetes.multiNamespaces, ['a', 'b']);
    assert.equal(c.scheduler.zombieThreshold, 90.5);
    assert.equal(c.kubernetes.deleteWorkerPods, 'never');
  });

  it('precedence: environment over floe.yaml over defaults, key by key', () => {
    const d = dir({ 'floe.yaml': 'core:\n  parallelism: 8\n  defaultPoolSlots: 64\n' });
    const c = loadConfig({ cwd: d, env: { FLOE__CORE__PARALLELISM: '2' } });
    assert.equal(c.core.parallelism, 2, 'env beats the file');
    assert.equal(c.core.defaultPoolSlots, 64, 'the file beats the default; the env override of a sibling keeps it');
    assert.equal(c.core.maxActiveRunsPerDag, 16, 'default');
  });

  it('FLOE_DATABASE_URL beats database.url from the file and from FLOE__DATABASE__URL', () => {
    const d = dir({ 'floe.yaml': 'database:\n  url: postgres://file/db\n' });
    assert.equal(databaseUrl(loadConfig({ cwd: d, env: {} })), 'postgres://file/db');
    assert.equal(databaseUrl(loadConfig({ cwd: d, env: { FLOE__DATABASE__URL: 'postgres://envkey/db' } })), 'postgres://envkey/db');
    const c = loadConfig({ cwd: d, env: { FLOE__DATABASE__URL: 'postgres://envkey/db', FLOE_DATABASE_URL: 'postgres://u:p@h:5432/floe?sslmode=disable' } });
    assert.equal(c.database.url, 'postgres://u:p@h:5432/floe?sslmode=disable');
    assert.equal(databaseUrl(c), 'postgres://u:p@h:5432/floe?sslmode=disable');
  });

  it(
    'a string key given a number-like value stays a string',
    {},
    () => {
      const c = loadConfig({ cwd: dir(), env: { FLOE__QUEUE__PREFIX: '2024', FLOE__KUBERNETES__NAMESPACE: '42' } });
      assert.equal(c.queue.prefix, '2024');
      assert.equal(c.kubernetes.namespace, '42');
    },
  );
});

describe('bad configuration: clear errors', () => {
  it('an unknown section in floe.yaml names the file and the section', () => {
    const d = dir({ 'floe.yaml': 'core:\n  parallelism: 2\nschedular:\n  loopInterval: 1\n' });
    configError(() => loadConfig({ env: {}, cwd: d }), path.join(d, 'floe.yaml'), 'schedular');
  });
  it('an unknown key names the section and the key', () => {
    const d = dir({ 'floe.yaml': 'core:\n  paralelism: 2\n' });
    configError(() => loadConfig({ env: {}, cwd: d }), path.join(d, 'floe.yaml'), 'core', 'paralelism');
  });
  it('an unknown section or key from the environment names it', () => {
    configError(() => loadConfig({ env: { FLOE__NOPE__X: '1' }, cwd: dir() }), 'nope');
    configError(() => loadConfig({ env: { FLOE__CORE__PARALELISM: '1' }, cwd: dir() }), 'core', 'paralelism');
  });
  it('a wrong type names the file, the key and what was expected', () => {
    const f = (yaml: string) => {
      const d = dir({ 'floe.yaml': yaml });
      return () => loadConfig({ env: {}, cwd: d });
    };
    configError(f('core:\n  parallelism: many\n'), 'floe.yaml', 'core.parallelism', 'number');
    configError(f('core:\n  parallelism: 2.5\n'), 'core.parallelism', 'int');
    configError(f('core:\n  parallelism: 0\n'), 'core.parallelism', '>0');
    configError(f('scheduler:\n  loopInterval: -1\n'), 'scheduler.loopInterval', '>=0');
    configError(f('core:\n  isolateTasks: sometimes\n'), 'core.isolateTasks', 'boolean');
    configError(f('core:\n  executor: celery\n'), 'core.executor', 'local', 'kubernetes', 'queue', 'hybrid');
    configError(f('logging:\n  level: loud\n'), 'logging.level', 'debug');
    configError(f('kubernetes:\n  multiNamespaces: a,b\n'), 'kubernetes.multiNamespaces', 'array');
    configError(f('core: 5\n'), 'core', 'object');
  });
  it('queue.redisUrl must be a Redis URL or a socket path, checked at load time', () => {
    const f = (yaml: string) => {
      const d = dir({ 'floe.yaml': yaml });
      return () => loadConfig({ env: {}, cwd: d });
    };
    configError(f('queue:\n  redisUrl: notaurl\n'), 'floe.yaml', 'queue.redisUrl', 'expected a Redis URL such as redis://127.0.0.1:6379', 'got "notaurl"');
    configError(f('queue:\n  redisUrl: http://redis:6379\n'), 'queue.redisUrl', 'got "http://redis:6379"');
    configError(f('queue:\n  redisUrl: "redis:///0"\n'), 'queue.redisUrl', '(no host)');
    configError(f('queue:\n  redisUrl: "redis://:6379"\n'), 'queue.redisUrl', '(not a valid URL)');
    configError(f('queue:\n  redisUrl: redis://r:6379/zero\n'), 'queue.redisUrl', 'database number');
    configError(() => loadConfig({ env: { FLOE__QUEUE__REDIS_URL: 'redis:/oops' }, cwd: dir() }), 'FLOE__QUEUE__REDIS_URL', 'queue.redisUrl');
    for (const ok of ['redis://127.0.0.1:6379', 'rediss://user:pw@redis.example.com:6380/2', 'redis://r', '/run/redis.sock'])
      assert.equal(loadConfig({ env: { FLOE__QUEUE__REDIS_URL: ok }, cwd: dir() }).queue.redisUrl, ok);
    assert.equal(loadConfig({ env: {}, cwd: dir() }).queue.redisUrl, 'redis://127.0.0.1:6379', 'the default passes');
  });
  it('a wrong type from the environment names the key', () => {
    configError(() => loadConfig({ env: { FLOE__CORE__PARALLELISM: 'lots' }, cwd: dir() }), 'core.parallelism', 'number');
    configError(() => loadConfig({ env: { FLOE__CORE__ISOLATE_TASKS: 'yes please' }, cwd: dir() }), 'core.isolateTasks', 'boolean');
  });
  it(
    'a wrong value from the environment is blamed on the variable, not on floe.yaml',
    {},
    () => {
      const d = dir({ 'floe.yaml': 'core:\n  parallelism: 8\n' });
      const msg = configError(() => loadConfig({ env: { FLOE__CORE__PARALLELISM: 'lots' }, cwd: d }), 'FLOE__CORE__PARALLELISM');
      assert.ok(!msg.startsWith(path.join(d, 'floe.yaml')), msg);
    },
  );
  it('every problem is reported, one per line', () => {
    const d = dir({ 'floe.yaml': 'core:\n  parallelism: many\n  executor: celery\n' });
    const msg = configError(() => loadConfig({ env: {}, cwd: d }), 'core.parallelism', 'core.executor');
    assert.equal(msg.split('\n').length, 2);
  });
  it('invalid YAML names the file and where', () => {
    const d = dir({ 'floe.yaml': 'core:\n  parallelism: 4\n  executor: [local\n' });
    configError(() => loadConfig({ env: {}, cwd: d }), path.join(d, 'floe.yaml'), 'not valid YAML', 'line');
  });
  it('a top level that is not a mapping of sections is an error naming the file', () => {
    for (const yaml of ['- core\n- database\n', 'just text\n', '42\n']) {
      const d = dir({ 'floe.yaml': yaml });
      configError(() => loadConfig({ env: {}, cwd: d }), path.join(d, 'floe.yaml'), 'mapping');
    }
  });
});

describe('relative paths', () => {
  it('resolve against the config file\'s folder, not the working folder', () => {
    const d = dir({ 'conf/floe.yaml': 'core:\n  dagsFolder: ./dags\nlogging:\n  logsFolder: ../logs\n' });
    const cwd = dir();
    const c = loadConfig({ env: {}, cwd, configFile: path.join(d, 'conf/floe.yaml') });
    assert.equal(c.core.dagsFolder, path.join(d, 'conf', 'dags'));
    assert.equal(c.logging.logsFolder, path.join(d, 'logs'));
  });
  it('also when the file is found through FLOE_CONFIG given relative to the working folder', () => {
    const d = dir({ 'conf/floe.yaml': 'core:\n  dagsFolder: pipelines\n' });
    assert.equal(loadConfig({ env: { FLOE_CONFIG: 'conf/floe.yaml' }, cwd: d }).core.dagsFolder, path.join(d, 'conf', 'pipelines'));
  });
  it('absolute paths are kept', () => {
    const d = dir({ 'floe.yaml': `core:\n  dagsFolder: ${path.join(root, 'abs-dags')}\nlogging:\n  logsFolder: ${path.join(root, 'abs-logs')}\n` });
    const c = loadConfig({ env: {}, cwd: d });
    assert.equal(c.core.dagsFolder, path.join(root, 'abs-dags'));
    assert.equal(c.logging.logsFolder, path.join(root, 'abs-logs'));
  });
  it('the default logs folder stays under FLOE_HOME even with a config file elsewhere', () => {
    const d = dir({ 'conf/floe.yaml': 'core:\n  parallelism: 2\n' });
    const c = loadConfig({ env: { FLOE_HOME: 'home' }, cwd: d, configFile: 'conf/floe.yaml' });
    assert.equal(c.logging.logsFolder, path.join(d, 'home', 'logs'));
    assert.equal(c.core.dagsFolder, path.join(d, 'conf', 'dags'));
  });
  it('FLOE_DAGS_FOLDER replaces core.dagsFolder', () => {
    const d = dir({ 'floe.yaml': 'core:\n  dagsFolder: ./dags\n' });
    assert.equal(loadConfig({ env: { FLOE_DAGS_FOLDER: path.join(root, 'x') }, cwd: d }).core.dagsFolder, path.join(root, 'x'));
  });
});
