// The machine's real kubectl against the dev cluster with the kubeconfig it writes: apply from YAML,
// get -l, wait --for=jsonpath, logs, describe, create configmap (a protobuf body), delete, and the
// server's validation errors as kubectl prints them. Without kubectl this file skips with a message,
// except under CI, where it fails.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.ts';

const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const found = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = found.status === 0;
/** kubectl's minor version: `wait --for=jsonpath` needs 1.23, server-side field validation 1.27. */
const minor = (() => {
  const r = spawnSync(KUBECTL, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  try {
    return Number.parseInt((JSON.parse(r.stdout) as { clientVersion: { minor: string } }).clientVersion.minor, 10);
  } catch {
    return 0;
  }
})();
if (!haveKubectl && !process.env.CI) {
  console.warn(`\n*** SKIPPING kubectl tests: "${KUBECTL}" is not runnable here (${found.error?.message ?? found.stderr}). Install kubectl (Debian: kubernetes-client) to run them. ***\n`);
}

let cluster: DevCluster;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      args,
      // A private HOME keeps kubectl's discovery cache out of the user's ~/.kube.
      { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: cluster.kubeconfigPath }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** `kubectl wait --for=jsonpath=…` where kubectl has it (1.23+), else polling with `kubectl get -o jsonpath`. */
async function waitJsonpath(target: string, path: string, value: string, ns: string[] = []): Promise<void> {
  if (minor >= 23) {
    await ok(...ns, 'wait', `--for=jsonpath=${path}=${value}`, target, '--timeout=60s');
    return;
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await kubectl(...ns, 'get', target, '-o', `jsonpath=${path}`);
    if (r.code === 0 && r.stdout === value) return;
    if (Date.now() > deadline) throw new Error(`${target}: ${path} did not become ${value} (last: ${r.stdout} ${r.stderr})`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

function yamlFile(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe(`kubectl${minor ? ` 1.${minor}` : ''} against the dev cluster`, { skip: !haveKubectl && !process.env.CI ? 'kubectl not installed (see message above)' : false }, () => {
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'floe-dc-kubectl-'));
    cluster = await startDevCluster({ kubeconfigPath: path.join(dir, 'kubeconfig'), nodes: 2, startupDelay: 0 });
  });
  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const podYaml = (tier: string) => `apiVersion: v1
kind: Pod
metadata:
  name: hello
  labels: {app: demo, tier: ${tier}}
spec:
  restartPolicy: Never
  containers:
  - name: base
    image: busybox:1.36
    command: [sh, -c, 'echo hi; echo there; sleep 1']
`;

  it('kubectl is installed and runnable (required under CI)', () => {
    assert.ok(haveKubectl, `kubectl is required under CI but "${KUBECTL}" could not run: ${found.error?.message ?? found.stderr}`);
  });

  it('the written kubeconfig is a real one: cluster, user and context', async () => {
    const view = JSON.parse(await ok('config', 'view', '-o', 'json')) as { contexts: { name: string }[]; users: unknown[]; clusters: { cluster: { server: string } }[]; 'current-context': string };
    assert.equal(view['current-context'], 'floe-dev');
    assert.equal(view.clusters[0].cluster.server, cluster.url);
    assert.equal(view.users.length, 1);
    const nodes = await ok('get', 'nodes', '-o', 'name');
    assert.deepEqual(nodes.trim().split('\n'), ['node/floe-dev-node-1', 'node/floe-dev-node-2']);
  });

  it('apply (create, unchanged, configured), get -l, wait --for=jsonpath, logs, delete', async () => {
    const f = yamlFile('pod.yaml', podYaml('web'));
    assert.match(await ok('apply', '-f', f), /pod\/hello created/);
    assert.match(await ok('apply', '-f', f), /pod\/hello unchanged/);
    assert.match(await ok('apply', '-f', yamlFile('pod2.yaml', podYaml('api'))), /pod\/hello configured/);
    assert.equal((await ok('get', 'pods', '-l', 'app=demo,tier=api', '-o', 'name')).trim(), 'pod/hello');
    assert.equal((await ok('get', 'pods', '-l', 'tier=web', '-o', 'name')).trim(), '');
    const table = await ok('get', 'pods', '-l', 'app in (demo)');
    assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    assert.match(table, /\nhello\s+/);
    await waitJsonpath('pod/hello', '{.status.phase}', 'Succeeded');
    assert.equal(await ok('logs', 'hello'), 'hi\nthere\n');
    assert.equal(await ok('logs', 'hello', '--tail=1'), 'there\n');
    const wide = await ok('get', 'pod', 'hello', '-o', 'wide');
    assert.match(wide, /hello\s+0\/1\s+Completed\s+0\s+\S+\s+127\.1\.\d+\.\d+\s+floe-dev-node-\d/);
    const described = await ok('describe', 'pod', 'hello');
    assert.match(described, /Status:\s+Succeeded/);
    assert.match(described, /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/hello to floe-dev-node-\d/);
    assert.match(described, /Normal\s+Started\s+\S+\s+kubelet\s+Started container base/);
    assert.match(await ok('delete', 'pod', 'hello'), /pod "hello" deleted/);
    const gone = await kubectl('get', 'pod', 'hello');
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /Error from server \(NotFound\): pods "hello" not found/);
  });

  it('logs -f follows a running container to its end; delete of a running pod waits for it', async () => {
    await ok('run', 'ticker', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done');
    await ok('wait', '--for=condition=Ready', 'pod/ticker', '--timeout=60s');
    assert.equal(await ok('logs', '-f', 'ticker'), 'tick 1\ntick 2\ntick 3\n');
    await ok('run', 'sleeper', '--image=busybox', '--restart=Never', '--', 'sleep', '300');
    await waitJsonpath('pod/sleeper', '{.status.phase}', 'Running');
    assert.match(await ok('delete', 'pod', 'sleeper', '--grace-period=5'), /pod "sleeper" deleted/);
    assert.equal((await ok('get', 'pods', '-o', 'name')).includes('sleeper'), false);
  });

  it('create configmap/secret/namespace (typed clients send protobuf) and use them from a pod', async () => {
    await ok('create', 'namespace', 'team-a');
    await ok('-n', 'team-a', 'create', 'configmap', 'settings', '--from-literal=mode=fast');
    await ok('-n', 'team-a', 'create', 'secret', 'generic', 'creds', '--from-literal=token=abc');
    assert.equal(await ok('-n', 'team-a', 'get', 'configmap', 'settings', '-o', 'jsonpath={.data.mode}'), 'fast');
    assert.equal(await ok('-n', 'team-a', 'get', 'secret', 'creds', '-o', 'jsonpath={.type}'), 'Opaque');
    const f = yamlFile('envpod.yaml', `apiVersion: v1
kind: Pod
metadata: {name: envpod, namespace: team-a}
spec:
  restartPolicy: Never
  containers:
  - name: base
    image: busybox
    command: [sh, -c, 'echo $MODE $TOKEN']
    env:
    - {name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}
`);
    await ok('apply', '-f', f);
    await waitJsonpath('pod/envpod', '{.status.phase}', 'Succeeded', ['-n', 'team-a']);
    assert.equal(await ok('-n', 'team-a', 'logs', 'envpod'), 'fast abc\n');
    await ok('delete', 'namespace', 'team-a');
    assert.notEqual((await kubectl('get', 'namespace', 'team-a')).code, 0);
  });

  it('invalid pods are rejected with the field paths, as kubectl prints them', async () => {
    const f = yamlFile('bad.yaml', `apiVersion: v1
kind: Pod
metadata: {name: Bad_Name, labels: {"bad key": x}}
spec:
  containers:
  - {name: base}
  - {name: base, image: x, resources: {limits: {memory: '-1'}}}
`);
    const r = await kubectl('apply', '-f', f);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The Pod "Bad_Name" is invalid/);
    for (const field of ['metadata.name', 'metadata.labels', 'spec.containers[0].image: Required value', 'spec.containers[1].name: Duplicate value: "base"', 'spec.containers[1].resources.limits[memory]']) {
      assert.ok(r.stderr.includes(field), `${field} in ${r.stderr}`);
    }
    const typo = await kubectl('apply', '-f', yamlFile('typo.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n  containers: [{name: base, image: x, comand: ["true"]}]\n'));
    assert.match(typo.stderr, /unknown field "spec\.containers\[0\]\.comand"/);
    // kubectl 1.27+ asks for fieldValidation=Strict (an error); older ones get the server's default warning.
    if (minor >= 27) assert.notEqual(typo.code, 0);
  });
});
