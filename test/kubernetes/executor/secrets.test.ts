// Variables and connections on the Kubernetes executor: a task in its pod reads them as on the local executor,
// the encryption key reaching the pod from a Kubernetes Secret through the pod template (as the starter YAMLs do),
// and its log — the file and the pod's own log — shows *** for the password. The Kubernetes-Secret backend: a pod
// without the key reads a connection and a variable from Secrets by name, and cannot read the database's.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addConnection } from '../../../src/core-queries/connections.ts';
import { setVariable } from '../../../src/core-queries/variables.ts';
import { parseConnectionUri } from '../../../src/secrets/connection.ts';
import { generateKey } from '../../../src/secrets/crypto.ts';
import { storeOptions } from '../../../src/secrets/settings.ts';
import { taskLogPath } from '../../../src/worker/task-log.ts';
import { SDK_IMPORT } from '../../helpers/floe.ts';
import { type K8sHarness, startK8sFloe } from './helpers.ts';

const KEY = generateKey();
const PW = 'k8s-Passw0rd-6021';
const SECRET_PW = 'from-secret-Passw0rd-77';

const TEMPLATE = `apiVersion: v1
kind: Pod
spec:
  containers:
    - name: base
      env:
        - name: FLOE__SECRETS__KEY
          valueFrom:
            secretKeyRef:
              name: floe-secrets
              key: key
              optional: true
`;

describe('kubernetes executor: variables, connections and masking in pods', () => {
  let k: K8sHarness;
  const dir = mkdtempSync(path.join(tmpdir(), 'floe-k8s-secrets-'));
  before(async () => {
    const template = path.join(dir, 'pod_template.yaml');
    writeFileSync(template, TEMPLATE);
    k = await startK8sFloe({ deleteWorkerPods: 'never', podTemplateFile: template }, { secrets: { key: KEY } });
    await k.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'floe-secrets' }, stringData: { key: KEY } } });
    // For the Secret backend: connection partner_api and variable partner_region, by name.
    await k.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'floe-conn-partner-api' }, stringData: { uri: `https://svc:${SECRET_PW}@api.partner.com:443` } } });
    await k.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'floe-var-partner-region' }, stringData: { value: 'eu-north-1' } } });
    const o = storeOptions(k.h.rt.cfg);
    await addConnection(k.h.rt.db.kysely, o, 'warehouse', parseConnectionUri(`postgres://etl:${PW}@wh.internal:5432/dw`));
    await setVariable(k.h.rt.db.kysely, o, 'region', 'eu-west-1');
    const backendEnv = [
      { name: 'FLOE__SECRETS__KEY', value: '' },
      { name: 'FLOE__SECRETS__KUBERNETES_BACKEND', value: 'true' },
      { name: 'FLOE__KUBERNETES__KUBECONFIG', value: k.cluster.kubeconfigPath },
    ];
    k.h.writeDag(
      'secrets.ts',
      `${SDK_IMPORT}
dag({ dagId: 'pod_secrets', schedule: null }, () => {
  task('read', async (ctx) => {
    const c = await ctx.connection('warehouse');
    console.log('connecting to ' + c.host + ' with ' + c.password);
    return { region: await ctx.variables.get('region'), host: c.host, login: c.login };
  })();
  shell({ taskId: 'sh', command: 'echo "uri={{ conn.warehouse.uri }}"' });
  task({ taskId: 'from_secrets', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', env: ${JSON.stringify(backendEnv)} }] } } } }, async (ctx) => {
    const c = await ctx.connection('partner_api');
    console.log('partner password ' + c.password);
    let db = 'readable';
    try { await ctx.connection('warehouse'); } catch (e) { db = (e as Error).message; }
    return { region: await ctx.variables.get('partner_region'), host: c.host, port: c.port, db };
  })();
});
`,
    );
    const parsed = await k.h.parse();
    assert.deepEqual(parsed.errors, []);
  });
  after(async () => {
    await k?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('tasks in pods read the database with the key from a Secret, the backend from Secrets; logs show ***', async () => {
    const runId = await k.h.trigger('pod_secrets');
    await k.h.runUntilRunDone('pod_secrets', runId, 120_000);
    const tis = await k.h.tis('pod_secrets', runId);
    for (const t of ['read', 'sh', 'from_secrets']) assert.equal(tis.get(t)?.state, 'success', `${t}: ${tis.get(t)?.reason}`);
    const xcom = async (taskId: string) =>
      JSON.parse((await k.h.rt.db.kysely.selectFrom('xcom').select('value').where('run_id', '=', runId).where('task_id', '=', taskId).executeTakeFirstOrThrow()).value);
    assert.deepEqual(await xcom('read'), { region: 'eu-west-1', host: 'wh.internal', login: 'etl' });
    const fromSecrets = await xcom('from_secrets');
    assert.deepEqual([fromSecrets.region, fromSecrets.host, fromSecrets.port], ['eu-north-1', 'api.partner.com', 443]);
    assert.match(fromSecrets.db, /connection warehouse: encrypted with key [0-9a-f]{8} and no key is configured/, 'without the key, the database connection stays closed');

    const pods = (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=pod_secrets' })).items;
    const podOf = (taskId: string) => pods.find((p) => p.metadata!.annotations!['floe.dev/task-id'] === taskId && p.metadata!.annotations!['floe.dev/run-id'] === runId);
    const expected: Record<string, RegExp> = { read: /connecting to wh\.internal with \*\*\*/, sh: /uri=postgres:\/\/etl:\*\*\*@wh\.internal:5432\/dw/, from_secrets: /partner password \*\*\*/ };
    for (const [taskId, line] of Object.entries(expected)) {
      const file = readFileSync(taskLogPath(k.h.rt.cfg.logging.logsFolder!, { dagId: 'pod_secrets', taskId, runId, mapIndex: -1 }, 1), 'utf8');
      const pod = podOf(taskId);
      assert.ok(pod, `a pod for ${taskId}`);
      const podLog = await k.core.readNamespacedPodLog({ namespace: 'default', name: pod!.metadata!.name!, container: 'base' });
      for (const [what, text] of [['log file', file], ['pod log', podLog]] as const) {
        assert.match(text, line, `${taskId} ${what}`);
        assert.ok(!text.includes(PW) && !text.includes(SECRET_PW) && !text.includes(KEY), `${taskId} ${what} holds a secret:\n${text}`);
      }
    }
    // The key came from the Secret, not from the pod spec.
    const base = podOf('read')!.spec!.containers.find((c) => c.name === 'base')!;
    assert.deepEqual({ ...base.env?.find((e) => e.name === 'FLOE__SECRETS__KEY')?.valueFrom?.secretKeyRef }, { name: 'floe-secrets', key: 'key', optional: true });
  });
});
