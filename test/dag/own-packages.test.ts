// DAG files outside Floe's folder (the usual case) may import Floe's own packages — the docs' V1Pod example —
// without installing them; a package nobody has gives a plain error naming the file, not a require stack.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

let h: FloeHarness;
before(async () => {
  h = await startFloe('sqlite');
});
after(() => h.close());

const v1PodDag = (dagId: string) => `${SDK_IMPORT}
import { V1Container, V1Pod } from '@kubernetes/client-node';
const base = new V1Container();
base.name = 'base';
base.env = [{ name: 'STATE', value: 'wa' }];
const podOverride = new V1Pod();
podOverride.metadata = { labels: { state: 'wa' } };
podOverride.spec = { containers: [base] };
dag({ dagId: '${dagId}', schedule: null }, () => { task({ taskId: 't', executorConfig: { podOverride } }, async () => 1)(); });
`;

test('the V1Pod example parses from a DAG folder that has no node_modules, as CommonJS and as an ES module', async () => {
  h.writeDag('v1pod_cjs.ts', v1PodDag('v1pod_cjs'));
  h.writeDag('v1pod_esm.mts', v1PodDag('v1pod_esm'));
  h.writeDag('missing.ts', `${SDK_IMPORT}\nimport 'no-such-package-anywhere';\ndag({ dagId: 'missing', schedule: null }, () => { task('t', async () => 1)(); });\n`);
  const parsed = await h.parse();
  assert.deepEqual(parsed.dags.map((d) => d.dagId).filter((id) => id.startsWith('v1pod')).sort(), ['v1pod_cjs', 'v1pod_esm']);
  const cjs = parsed.dags.find((d) => d.dagId === 'v1pod_cjs')!;
  assert.deepEqual(cjs.tasks[0].executorConfig?.podOverride, { metadata: { labels: { state: 'wa' } }, spec: { containers: [{ name: 'base', env: [{ name: 'STATE', value: 'wa' }] }] } });
  assert.equal(parsed.errors.length, 1, JSON.stringify(parsed.errors));
  const err = parsed.errors[0];
  assert.match(err.fileloc, /missing\.ts$/);
  assert.match(err.message, /Cannot find package 'no-such-package-anywhere' imported from \S*missing\.ts: neither the DAG folder nor Floe has it \(install it where the DAG files are, e.g\. npm install no-such-package-anywhere\)/);
  assert.doesNotMatch(err.message, /Require stack/);
});
