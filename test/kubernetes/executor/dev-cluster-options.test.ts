// `floe dev cluster`: pod processes run in their own sandbox directories, so the Floe settings they inherit
// must not be relative to where `floe dev cluster` was started.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devClusterOptions } from '../../../src/cli/commands/dev.ts';

const FLAGS = { nodes: '1', cpu: '4', memory: '8Gi', env: [], pathPrepend: [], missingImagePrefix: [] };

test('pods get an absolute FLOE_HOME (also the default .floe) and FLOE_CONFIG', () => {
  const rel = devClusterOptions(FLAGS, { FLOE_HOME: 'home', FLOE_CONFIG: 'conf/floe.yaml', FLOE_DATABASE_URL: 'postgres://x' }, '/work/proj');
  assert.deepEqual(rel.env, { FLOE_HOME: '/work/proj/home', FLOE_CONFIG: '/work/proj/conf/floe.yaml', FLOE_DATABASE_URL: 'postgres://x' });
  assert.equal(rel.kubeconfigPath, '/work/proj/home/dev-cluster/kubeconfig');
  const unset = devClusterOptions(FLAGS, {}, '/work/proj');
  assert.deepEqual(unset.env, { FLOE_HOME: '/work/proj/.floe' });
  // --env still has the last word.
  const forced = devClusterOptions({ ...FLAGS, env: ['FLOE_HOME=/elsewhere'] }, { FLOE_HOME: 'home' }, '/work/proj');
  assert.equal(forced.env?.FLOE_HOME, '/elsewhere');
  assert.equal(forced.kubeconfigPath, '/work/proj/home/dev-cluster/kubeconfig');
});
