// `floe dags list` says what it could not list: a count of import errors, and an unloadable pod template once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importErrorNotice } from '../../src/cli/commands/dags.ts';

const BIN = fileURLToPath(new URL('../../bin/floe.js', import.meta.url));
let home: string;

function floe(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, FLOE_HOME: home, FLOE_DAGS_FOLDER: path.join(home, 'dags'), FLOE__LOGGING__LEVEL: 'silent', FLOE_CONFIG: '', ...extraEnv },
    cwd: home,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  home = mkdtempSync(path.join(tmpdir(), 'floe-dags-list-'));
  mkdirSync(path.join(home, 'dags'));
  writeFileSync(
    path.join(home, 'dags', 'good.ts'),
    `import { dag, task } from 'floe';
dag({ dagId: 'one', schedule: null }, () => { task('a', async () => 1)(); });
dag({ dagId: 'two', schedule: null }, () => { task('b', async () => 2)(); });
`,
  );
  writeFileSync(path.join(home, 'dags', 'broken.ts'), `throw new Error('nope');\n`);
  writeFileSync(path.join(home, 'broken.yaml'), `apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: base\n      resouces: {}\n`);
});
after(() => rmSync(home, { recursive: true, force: true }));

describe('floe dags list', () => {
  it('lists the DAGs and counts the import errors on stderr, exiting 0', () => {
    const r = floe(['dags', 'list']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^one\s/m);
    assert.equal(r.err, '1 import error in 1 file (not listed above); run "floe dags list-import-errors" to see them\n');
    const json = floe(['dags', 'list', '-o', 'json']);
    assert.deepEqual(JSON.parse(json.out).map((d: { dag_id: string }) => d.dag_id), ['one', 'two'], 'stdout stays JSON');
  });

  it('says once, on stderr, that an invalid pod template kept DAGs from importing, and exits 1', () => {
    const template = path.join(home, 'broken.yaml');
    const r = floe(['dags', 'list'], { FLOE__CORE__EXECUTOR: 'kubernetes', FLOE__KUBERNETES__POD_TEMPLATE_FILE: template });
    assert.equal(r.code, 1);
    assert.equal(r.out, '(none)\n');
    assert.equal(
      r.err,
      '1 import error in 1 file (not listed above); run "floe dags list-import-errors" to see them\n' +
        `error: the Kubernetes pod templates cannot be loaded, so 2 DAGs with tasks that run in pods failed to import: pod template ${template}: spec.containers[name=base].resouces: unknown field; did you mean "resources"?\n`,
    );
  });
});

describe('importErrorNotice', () => {
  const e = (fileloc: string, message: string) => ({ fileloc, message });
  it('is silent without import errors', () => {
    assert.deepEqual(importErrorNotice([], null), { error: null, hint: null });
  });
  it('counts errors and files', () => {
    assert.deepEqual(importErrorNotice([e('/a.ts', 'x'), e('/a.ts', 'y'), e('/b.ts', 'z')], null), {
      error: null,
      hint: '3 import errors in 2 files (not listed above); run "floe dags list-import-errors" to see them',
    });
  });
  it('reports the pod templates error once, apart from the other errors; only when DAGs failed because of it', () => {
    const t = 'pod template /t.yaml: bad';
    assert.deepEqual(importErrorNotice([e('/a.ts', `pod templates: ${t}`)], t), {
      error: `the Kubernetes pod templates cannot be loaded, so 1 DAG with tasks that run in pods failed to import: ${t}`,
      hint: null,
    });
    assert.deepEqual(importErrorNotice([e('/a.ts', 'x')], t), { error: null, hint: '1 import error in 1 file (not listed above); run "floe dags list-import-errors" to see them' });
  });
});
