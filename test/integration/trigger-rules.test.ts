// Every trigger rule in one real DAG run: upstreams that succeed, fail and are skipped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

let h: FloeHarness;
before(async () => {
  h = await startFloe('sqlite');
  h.writeDag(
    'rules.ts',
    `${SDK_IMPORT}
dag({ dagId: 'rules', schedule: null }, () => {
  const ok1 = task('ok1', async () => 1)();
  const ok2 = task('ok2', async () => 2)();
  const bad = task('bad', async () => { throw new Error('bad'); })();
  // one_failed over successful upstreams is skipped: a real skipped upstream for the rules below.
  const skipper = task({ taskId: 'skipper', triggerRule: 'one_failed' }, async () => 'x')().after(ok1);
  const t = (id: string, triggerRule: string, ...ups: unknown[]) =>
    task({ taskId: id, triggerRule: triggerRule as never }, async () => id)().after(...(ups as never[]));
  t('all_success__ok', 'all_success', ok1, ok2);
  t('all_success__failed', 'all_success', ok1, bad);
  t('all_success__skipped', 'all_success', ok1, skipper);
  t('all_failed__failed', 'all_failed', bad);
  t('all_failed__mixed', 'all_failed', ok1, bad);
  t('all_done__mixed', 'all_done', ok1, bad, skipper);
  t('one_success__mixed', 'one_success', ok1, bad);
  t('one_success__none', 'one_success', bad);
  t('one_failed__mixed', 'one_failed', ok1, bad);
  t('one_failed__none', 'one_failed', ok1, ok2);
  t('none_failed__skipped', 'none_failed', ok1, skipper);
  t('none_failed__failed', 'none_failed', ok1, bad);
  t('none_skipped__failed', 'none_skipped', ok1, bad);
  t('none_skipped__skipped', 'none_skipped', ok1, skipper);
  t('always__failed', 'always', bad);
  // upstream_failed propagates through a chain; a skip propagates through all_success.
  t('chain_after_failed', 'all_success', t('chain_mid', 'all_success', bad));
});`,
  );
  const parsed = await h.parse();
  assert.deepEqual(parsed.errors, []);
});
after(() => h.close());

test('each trigger rule decides as Airflow does', async () => {
  const runId = await h.trigger('rules');
  await h.runUntilRunsFinish('rules');
  const tis = await h.tis('rules', runId);
  const expected: Record<string, string> = {
    ok1: 'success',
    ok2: 'success',
    bad: 'failed',
    skipper: 'skipped',
    all_success__ok: 'success',
    all_success__failed: 'upstream_failed',
    all_success__skipped: 'skipped',
    all_failed__failed: 'success',
    all_failed__mixed: 'skipped',
    all_done__mixed: 'success',
    one_success__mixed: 'success',
    one_success__none: 'upstream_failed',
    one_failed__mixed: 'success',
    one_failed__none: 'skipped',
    none_failed__skipped: 'success',
    none_failed__failed: 'upstream_failed',
    none_skipped__failed: 'success',
    none_skipped__skipped: 'skipped',
    always__failed: 'success',
    chain_mid: 'upstream_failed',
    chain_after_failed: 'upstream_failed',
  };
  const actual = Object.fromEntries([...tis].map(([id, ti]) => [id, ti.state]));
  assert.deepEqual(actual, expected);
  const [run] = await h.runs('rules');
  assert.equal(run.state, 'failed', 'leaves that are upstream_failed fail the run');
});
