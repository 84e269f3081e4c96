// `floe dev cluster` as a process: it writes a kubeconfig, prints how to use it, runs pods with FLOE_*
// and --env passed through and floe on PATH, and on SIGTERM stops and kills every pod process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { devClusterOptions } from '../../src/cli/commands/dev.ts';
import { podSpec, waitFor, waitPhase } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = `
import { Command } from '@commander-js/extra-typings';
import { registerDevCommands } from './src/cli/commands/dev.ts';
const program = new Command().name('floe');
registerDevCommands(program);
try { await program.parseAsync(process.argv); } catch (e) { console.error('error: ' + e.message); process.exitCode = 1; }
`;

describe('floe dev cluster', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-dc-cli-'));
  let child: ChildProcess | undefined;
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('flags are checked and named', () => {
    const base = { nodes: '1', cpu: '4', memory: '8Gi', env: [], pathPrepend: [], missingImagePrefix: [] };
    assert.throws(() => devClusterOptions({ ...base, port: 'http' }), /--port: expected a port number/);
    assert.throws(() => devClusterOptions({ ...base, nodes: '0' }), /--nodes: expected a number of nodes/);
    assert.throws(() => devClusterOptions({ ...base, env: ['NOEQUALS'] }), /--env: expected KEY=VALUE, got "NOEQUALS"/);
    const o = devClusterOptions({ ...base, env: ['A=1=2'], missingImagePrefix: ['missing/'] }, { FLOE_HOME: '/x', OTHER: 'no' });
    assert.deepEqual(o.env, { FLOE_HOME: '/x', A: '1=2' });
    assert.equal(o.kubeconfigPath, '/x/dev-cluster/kubeconfig');
    assert.equal(o.imageRule!('missing/a'), false);
    assert.equal(o.imageRule!('busybox'), true);
  });

  it('starts, prints kubectl instructions, runs pods, and kills them on SIGTERM', async () => {
    const kubeconfig = path.join(dir, 'kc', 'config');
    const pidFile = path.join(dir, 'pid');
    child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', MAIN, 'floe', 'dev', 'cluster', '--nodes', '2', '--cpu', '2', '--memory', '1Gi', '--kubeconfig', kubeconfig, '--env', 'GREETING=hi'],
      { cwd: ROOT, env: { ...process.env, FLOE_TEST_MARK: 'marked' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
    await waitFor('the ready banner', () => stdout.includes('Stop with Ctrl-C') || (child!.exitCode !== null && Promise.reject(new Error(stderr))), 60_000);
    assert.match(stdout, new RegExp(`kubeconfig: ${kubeconfig.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.match(stdout, /export KUBECONFIG=/);
    assert.match(stdout, /kubectl get nodes/);
    assert.ok(existsSync(kubeconfig));

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    assert.deepEqual(nodes.items.map((n) => [n.metadata!.name, n.status!.capacity!.cpu, n.status!.capacity!.memory]), [
      ['floe-dev-node-1', '2', '1Gi'],
      ['floe-dev-node-2', '2', '1Gi'],
    ]);
    await core.createNamespacedPod({ namespace: 'default', body: podSpec('env', ['sh', '-c', 'echo "$GREETING $FLOE_TEST_MARK $(command -v floe)"']) });
    await waitPhase(core, 'env', ['Succeeded']);
    const log = await (await fetch(`${kc.getCurrentCluster()!.server}/api/v1/namespaces/default/pods/env/log`)).text();
    assert.equal(log, `hi marked ${path.join(ROOT, 'bin', 'floe')}\n`);

    await core.createNamespacedPod({ namespace: 'default', body: podSpec('long', ['sh', '-c', `echo $$$$ > ${pidFile}; exec sleep 300`]) });
    await waitPhase(core, 'long', ['Running']);
    const pid = await waitFor('pid', () => (existsSync(pidFile) && /^\d+\n$/.test(readFileSync(pidFile, 'utf8')) ? Number(readFileSync(pidFile, 'utf8')) : undefined));
    process.kill(pid, 0);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the pod process is gone');
  });
});

describe('floe dev kubelet', () => {
  let child: ChildProcess | undefined;
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('attaches to an API server (here the dev cluster, paused), runs pods bound to its node, and stops on SIGTERM', async () => {
    const { startHarness } = await import('./helpers.ts');
    const h = await startHarness({ faults: { kubeletPaused: true } });
    try {
      child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', MAIN, 'floe', 'dev', 'kubelet', '--kubeconfig', h.cluster.kubeconfigPath, '--node', 'cli-node', '--cpu', '2', '--startup-delay', '0', '--env', 'GREETING=hi'],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
      await waitFor('the ready banner', () => stdout.includes('Stop with Ctrl-C') || (child!.exitCode !== null && Promise.reject(new Error(stderr))), 60_000);
      assert.match(stdout, /node cli-node registered, kubelet endpoint https:\/\/127\.0\.0\.1:\d+/);
      assert.equal((await h.core.readNode({ name: 'cli-node' })).status!.capacity!.cpu, '2');
      await h.core.createNamespacedPod({ namespace: 'default', body: podSpec('via-cli', ['sh', '-c', 'test "$GREETING" = hi']) });
      const pod = await waitPhase(h.core, 'via-cli', ['Succeeded', 'Failed']);
      assert.equal(pod.status!.phase, 'Succeeded');
      assert.equal(pod.spec!.nodeName, 'cli-node');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    } finally {
      await h.cluster.stop();
    }
  });
});
