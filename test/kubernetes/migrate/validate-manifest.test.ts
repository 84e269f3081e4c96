// validateManifest: the kubernetes-models class is picked from apiVersion + kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPointerToPath, validateManifest } from '../../../src/kubernetes/migrate/validate-manifest.ts';
import { suggest } from '../../../src/kubernetes/migrate/known-options.ts';

test('valid objects of several groups pass', async () => {
  assert.deepEqual(await validateManifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } }), []);
  assert.deepEqual(
    await validateManifest({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }),
    [],
  );
  assert.deepEqual(
    await validateManifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } }),
    [],
  );
});

test('schema violations name the field', async () => {
  assert.deepEqual(await validateManifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 'two', selector: {}, template: {} } }), [
    { path: 'spec.replicas', message: 'must be integer' },
  ]);
  const issues = await validateManifest({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'b' } });
  assert.deepEqual(issues, [{ path: 'roleRef', message: 'is required' }]);
  const pod = await validateManifest({ apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 'base', resources: { limits: { cpu: 'lots' } } }] } });
  assert.equal(pod[0].path, 'spec.containers[0].resources.limits.cpu');
});

test('unknown kinds, missing type fields and non-objects are issues, not crashes', async () => {
  assert.match((await validateManifest({ apiVersion: 'example.com/v1', kind: 'Widget' }))[0].message, /no Kubernetes schema for apiVersion example\.com\/v1, kind Widget/);
  assert.match((await validateManifest({ apiVersion: '../../etc', kind: 'Pod' }))[0].message, /no Kubernetes schema/);
  assert.deepEqual(await validateManifest({ kind: 'Pod' }), [{ path: 'apiVersion', message: 'is required (a string)' }]);
  assert.match((await validateManifest([1]))[0].message, /expected a Kubernetes object/);
});

test('JSON pointers become dotted paths; typo suggestions', () => {
  assert.equal(jsonPointerToPath('/spec/containers/0/env/1/name'), 'spec.containers[0].env[1].name');
  assert.equal(jsonPointerToPath('/metadata/annotations/a~1b'), 'metadata.annotations.a/b');
  assert.equal(suggest('worker_container_tagg', ['worker_container_tag', 'namespace']), 'worker_container_tag');
  assert.equal(suggest('pending_timeout', ['worker_pods_pending_timeout', 'namespace']), 'worker_pods_pending_timeout');
  assert.equal(suggest('zzz', ['worker_container_tag', 'namespace']), null);
});
