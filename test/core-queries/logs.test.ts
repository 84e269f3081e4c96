// Which log a try shows: its file, or its pod's log while the file is missing or holds only the executor's
// lines about an earlier, failed launch of the same try (relaunch on a cluster without shared log storage).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { locateTaskLog } from '../../src/core-queries/logs.ts';
import { appendExecutorLines, externalIdOf } from '../../src/kubernetes/pod-logs.ts';
import { taskLogPath } from '../../src/worker/task-log.ts';
import { type FloeHarness, startFloe } from '../helpers/floe.ts';

let h: FloeHarness;
before(async () => {
  h = await startFloe('sqlite');
});
after(async () => h.close());

test('a running try whose file holds only executor lines shows its pod; once the runner wrote, the file', async () => {
  const key = { dagId: 'd', runId: 'r', taskId: 't', mapIndex: -1 };
  const t = new Date().toISOString();
  await h.rt.db.kysely
    .insertInto('task_instance')
    .values({ dag_id: 'd', run_id: 'r', task_id: 't', map_index: -1, state: 'running', try_number: 1, max_tries: 0, pool: 'default_pool', pool_slots: 1, queue: 'default', priority_weight: 1, updated_at: t, external_executor_id: externalIdOf('default', 'floe-d-t-2', 'uid-2') })
    .execute();
  const logs = path.join(h.home, 'logs');
  const file = taskLogPath(logs, key, 1);
  mkdirSync(path.dirname(file), { recursive: true });
  await appendExecutorLines(file, ['launch failed: ErrImagePull', 'Warning Failed: Failed to pull image "x"']);
  const during = await locateTaskLog(h.rt.db.kysely, logs, key, null);
  assert.equal(during.kind, 'pod');
  assert.deepEqual(during.kind === 'pod' && during.pod, { namespace: 'default', name: 'floe-d-t-2', uid: 'uid-2' });
  writeFileSync(file, `[${t}] INFO starting try 1 of d.t run r\n`, { flag: 'a' });
  assert.equal((await locateTaskLog(h.rt.db.kysely, logs, key, null)).kind, 'file');
});
