// The web UI end to end: a real API server (the same buildApi `floe api` uses) serving the built UI, a real
// scheduler with the local executor on SQLite, and Debian's Chromium driven by playwright-core. Log in, trigger
// a DAG and watch its grid turn green, read a failed try's log and reason, clear it and see it run again; a
// read-only token sees no write buttons; a wrong token cannot log in; variables and connections are managed
// without a password or sensitive value ever reaching the page.
// FLOE_UI_SCREENSHOTS=1 also writes the screenshots of docs/ui.md into docs/ui/.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { getConnection } from '../../src/core-queries/connections.ts';
import { getVariable } from '../../src/core-queries/variables.ts';
import { recordTaskPod } from '../../src/db/task-pods.ts';
import { generateKey } from '../../src/secrets/crypto.ts';
import { storeOptions } from '../../src/secrets/settings.ts';
import { ADMIN, READ, startApi, type TestApi } from '../api/helpers.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { ensureUiBuilt, forbidOutsideRequests, launchChromium, ROOT, waitUntil } from './helpers.ts';

const SHOTS = process.env.FLOE_UI_SCREENSHOTS ? path.join(ROOT, 'docs', 'ui') : null;

const dags = (home: string) => `${SDK_IMPORT}
import { existsSync } from 'node:fs';
dag({ dagId: 'etl_demo', schedule: '@daily', startDate: '2024-01-01', catchup: false, description: 'extract, transform, load', tags: ['demo'], params: { region: 'eu' } }, () => {
  const extract = task('extract', async (ctx) => { ctx.log('extracting for region', ctx.params.region); return [3, 1, 4]; });
  const transform = task('transform', async (_ctx, xs: number[]) => xs.map((x) => x * 2));
  const load = task('load', async (ctx, xs: number[]) => { ctx.log('loaded', xs.length, 'rows'); return xs.length; });
  load(transform(extract()));
});
dag({ dagId: 'flaky_report', schedule: null }, () => {
  const fetch = task('fetch', async () => 1);
  // report fails until the test creates its "fixed" file.
  const report = task('report', async (ctx) => {
    ctx.log('building the report');
    if (!existsSync(${JSON.stringify(path.join(home, 'fixed'))})) throw new Error('report source is missing');
    ctx.log('report built');
    return 'ok';
  });
  const publish = task('publish', async () => 'published');
  chain(fetch(), report(), publish());
});
dag({ dagId: 'doomed', schedule: null }, () => { task('t', async () => 1)(); });
dag({ dagId: 'slow_log', schedule: null }, () => {
  task('wait', async (ctx) => {
    ctx.log('waiting for the go file');
    while (!existsSync(${JSON.stringify(path.join(home, 'go'))})) await new Promise((r) => setTimeout(r, 100));
    ctx.log('go file found, finishing');
  })();
});
`;

describe('web UI in Chromium', () => {
  let h: FloeHarness;
  let api: TestApi;
  let browser: Browser | null = null;
  let stopScheduler = false;
  let scheduler: Promise<void> | null = null;
  const outside: string[] = [];

  before(async () => {
    ensureUiBuilt();
    browser = await launchChromium();
    if (!browser) return;
    // A secrets key: passwords and sensitive variables are refused without one.
    h = await startFloe('sqlite', { config: { secrets: { key: generateKey() } } });
    h.writeDag('demo.ts', dags(h.home));
    h.writeDag('broken.ts', `${SDK_IMPORT}\nthrow new Error('the warehouse client is not installed');\n`);
    await h.parse();
    api = await startApi(h.rt.db, h.rt.cfg);
    // The scheduler runs for the whole suite (it creates etl_demo's latest daily run at once).
    scheduler = h.runUntil(async () => stopScheduler, { timeoutMs: 600_000 });
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    stopScheduler = true;
    await scheduler?.catch(() => {});
    await browser?.close();
    await api?.close();
    await h?.close();
  });

  async function newPage(): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
    forbidOutsideRequests(page, api.url, outside);
    return page;
  }
  async function logIn(page: Page, token: string, at = '/', o: { expectRefusal?: boolean } = {}): Promise<void> {
    await page.goto(api.url + at);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    if (!o.expectRefusal) await page.getByRole('button', { name: 'Log out' }).waitFor();
  }
  const shot = async (page: Page, name: string) => {
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  };

  test('a wrong token cannot log in', async (t) => {
    if (!browser) return t.skip('no Chromium');
    const page = await newPage();
    await logIn(page, 'not-a-valid-token-0123456789', '/', { expectRefusal: true });
    await page.getByRole('alert').filter({ hasText: 'That token was not accepted' }).waitFor();
    assert.equal(await page.getByText('no longer accepts your token').count(), 0, 'a first login is not told its token expired');
    assert.equal(await page.getByRole('link', { name: 'DAGs' }).count(), 0, 'no navigation behind the login form');
    await shot(page, 'login');
    await page.close();
  });

  test('admin: trigger a DAG with conf and watch the grid turn green; the graph shows the run', async (t) => {
    if (!browser) return t.skip('no Chromium');
    const page = await newPage();
    await logIn(page, ADMIN);
    await page.getByRole('link', { name: 'etl_demo', exact: true }).click();
    await page.getByRole('heading', { name: 'etl_demo' }).waitFor();
    await page.getByRole('button', { name: /Trigger/ }).click();
    const conf = page.getByLabel('Run configuration (conf)');
    assert.match(await conf.inputValue(), /"region": "eu"/, 'conf starts from the DAG params');
    await conf.fill('{"region": ');
    await page.getByRole('alert').filter({ hasText: /Invalid JSON/ }).waitFor();
    assert.equal(await page.getByRole('dialog').getByRole('button', { name: 'Trigger' }).isDisabled(), true, 'invalid JSON cannot be sent');
    await conf.fill('{"region": "us"}');
    await page.getByRole('dialog').getByRole('button', { name: 'Trigger' }).click();
    // The run page (its own URL) shows the new run; its three cells go green without a reload.
    await page.waitForURL(/\/dags\/etl_demo\/runs\/manual__/);
    const runId = decodeURIComponent(page.url().split('/runs/')[1]);
    const cells = page.locator(`a.cell[href*="${encodeURIComponent(runId)}"]`);
    await waitUntil('the three task cells of the run to be success', async () => (await cells.count()) === 3 && (await page.locator(`a.cell[data-state="success"][href*="${encodeURIComponent(runId)}"]`).count()) === 3);
    await page.locator('.panel').getByText('success').first().waitFor();
    assert.match(await page.locator('.panel').innerText(), /"region":"us"/);
    await shot(page, 'dag-grid');
    await page.getByRole('tab', { name: 'Graph' }).click();
    await page.locator('.react-flow__node').first().waitFor();
    assert.equal(await page.locator('.react-flow__node').count(), 3);
    assert.match((await page.locator('.react-flow__node[data-id="load"]').innerText()).trim(), /✓ load/);
    await shot(page, 'dag-graph');
    // A cell leads to the task instance: its XCom holds the return value.
    await page.goto(`${api.url}/dags/etl_demo/runs/${encodeURIComponent(runId)}/tasks/transform`);
    await page.getByRole('heading', { name: 'XCom' }).waitFor();
    await page.locator('pre.xcom').filter({ hasText: '8' }).waitFor();
    await page.close();
  });

  test('admin: a failed try shows its reason and log; clearing it runs it again and the run succeeds', async (t) => {
    if (!browser) return t.skip('no Chromium');
    const page = await newPage();
    await logIn(page, ADMIN, '/dags');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'flaky_report', exact: true }) });
    const paused = async () => (await h.rt.db.kysely.selectFrom('dag').select('is_paused').where('dag_id', '=', 'flaky_report').executeTakeFirstOrThrow()).is_paused === 1;
    await row.getByRole('switch').uncheck();
    await waitUntil('flaky_report to be paused', paused);
    await row.getByText('paused').waitFor();
    await row.getByRole('switch').check();
    await waitUntil('flaky_report to be unpaused', async () => !(await paused()));
    await page.getByRole('link', { name: 'flaky_report', exact: true }).click();
    await page.getByRole('button', { name: /Trigger/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Trigger' }).click();
    await page.waitForURL(/\/runs\/manual__/);
    const failed = page.locator('a.cell[data-state="failed"]');
    await waitUntil('report to fail in the grid', async () => (await failed.count()) === 1);
    assert.equal(await page.locator('a.cell[data-state="upstream_failed"]').count(), 1, 'publish is upstream failed');
    await shot(page, 'dag-failed-run');
    await failed.click();
    await page.getByRole('heading', { name: 'report', exact: true }).waitFor();
    await page.getByRole('note').filter({ hasText: 'Error: report source is missing' }).waitFor();
    await page.getByTestId('log').filter({ hasText: 'report source is missing' }).waitFor();
    assert.match(await page.getByTestId('log').innerText(), /building the report/);
    assert.match(await page.getByRole('row').filter({ hasText: '#1' }).innerText(), /failed[\s\S]*local[\s\S]*pid:\d+/);
    await shot(page, 'task-instance-failed');

    writeFileSync(path.join(h.home, 'fixed'), 'yes');
    await page.getByRole('button', { name: /Clear/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/Will clear: publish \(upstream failed\), report \(failed\)/).waitFor();
    await dialog.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('link', { name: 'try 2' }).waitFor({ timeout: 90_000 });
    await waitUntil('report to succeed on try 2', async () => (await page.locator('.title-row [data-state="success"]').count()) === 1);
    await page.getByTestId('log').filter({ hasText: 'report built' }).waitFor();
    // The run went back to the scheduler and finished: publish ran too.
    await page.getByRole('link', { name: /^manual__/ }).first().click();
    await waitUntil('all three cells of the run green', async () => (await page.locator('.panel [data-state="success"]').count()) === 1);
    assert.equal(await page.locator('a.cell[data-state="failed"]').count(), 0);
    await page.close();
  });

  test("a Kubernetes try's pod: the reason in plain words, its events and its spec as YAML", async (t) => {
    if (!browser) return t.skip('no Chromium');
    const run = (await h.runs('flaky_report'))[0];
    const key = { dagId: 'flaky_report', runId: run.run_id, taskId: 'report', mapIndex: -1 };
    const spec = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'flaky-report-report-a1b2', namespace: 'floe' }, spec: { containers: [{ name: 'base', image: 'registry.example/report:1.2' }] } };
    await recordTaskPod(h.rt.db.kysely, {
      key, tryNumber: 1, namespace: 'floe', podName: 'flaky-report-report-a1b2', podUid: 'c0ffee', spec, reason: 'ErrImagePull',
      events: [{ type: 'Warning', reason: 'Failed', message: 'Failed to pull image "registry.example/report:1.2": not found', count: 4, lastTimestamp: new Date().toISOString() }],
    });
    const page = await newPage();
    await logIn(page, READ, `/dags/flaky_report/runs/${encodeURIComponent(run.run_id)}/tasks/report/tries/1`);
    await page.getByRole('heading', { name: 'Kubernetes pod' }).waitFor();
    await page.getByText('The image could not be pulled').waitFor();
    await page.getByRole('cell', { name: /Failed to pull image/ }).waitFor();
    await page.getByText('Pod spec as created (YAML)').click();
    assert.match(await page.locator('pre.yaml').innerText(), /image: registry\.example\/report:1\.2/);
    await shot(page, 'task-instance-pod');
    await page.close();
  });

  test('the log of a running try grows on the page while it runs (follow mode), and the page sees it end', async (t) => {
    if (!browser) return t.skip('no Chromium');
    const runId = await h.trigger('slow_log');
    const page = await newPage();
    await logIn(page, READ, `/dags/slow_log/runs/${encodeURIComponent(runId)}/tasks/wait`);
    await page.getByTestId('log').filter({ hasText: 'waiting for the go file' }).waitFor({ timeout: 90_000 });
    await page.getByText('● live').waitFor();
    assert.doesNotMatch(await page.getByTestId('log').innerText(), /go file found/);
    writeFileSync(path.join(h.home, 'go'), 'go');
    await page.getByTestId('log').filter({ hasText: 'go file found, finishing' }).waitFor({ timeout: 90_000 });
    await waitUntil('the try to show success without a reload', async () => (await page.locator('.title-row [data-state="success"]').count()) === 1);
    await page.close();
  });

  test('a read-only token sees no write buttons (and the API refuses its writes)', async (t) => {
    if (!browser) return t.skip('no Chromium');
    const page = await newPage();
    await logIn(page, READ, '/dags');
    await page.getByRole('link', { name: 'etl_demo', exact: true }).waitFor();
    assert.equal(await page.getByRole('switch').count(), 0, 'no pause toggles');
    await page.getByText('read-only').waitFor();
    await page.getByRole('link', { name: 'etl_demo', exact: true }).click();
    await page.getByRole('heading', { name: 'etl_demo' }).waitFor();
    await page.locator('a.cell').first().waitFor();
    assert.equal(await page.getByRole('button', { name: /Trigger|Mark run|Delete DAG/ }).count(), 0);
    await page.locator('a.cell').first().click();
    await page.getByRole('heading', { name: 'Tries' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Clear|Mark/ }).count(), 0);
    await page.getByRole('link', { name: 'Pools' }).click();
    await page.getByRole('row').filter({ hasText: 'default_pool' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /New pool|Edit|Delete/ }).count(), 0);
    const refused = await page.evaluate(async (token) => (await fetch('/api/v1/pools/x', { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"slots":1}' })).status, READ);
    assert.equal(refused, 403);
    await page.close();
  });

  test('admin: delete a DAG after confirming; its runs are gone and the list no longer shows it', async (t) => {
    if (!browser) return t.skip('no Chromium');
    const page = await newPage();
    await logIn(page, ADMIN, '/dags/doomed');
    await page.getByRole('heading', { name: 'doomed' }).waitFor();
    await page.getByRole('button', { name: 'Delete DAG' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Its file and task logs stay').waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('link', { name: 'etl_demo', exact: true }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/dags');
    await waitUntil('the DAG leaves the list', async () => (await page.getByRole('link', { name: 'doomed', exact: true }).count()) === 0);
    assert.equal((await h.rt.db.kysely.selectFrom('dag').select('dag_id').where('dag_id', '=', 'doomed').execute()).length, 0);
    await page.close();
  });

  test('pools: usage, create and resize as admin; deep links reload to the same page', async (t) => {
    if (!browser) return t.skip('no Chromium');
    const page = await newPage();
    await logIn(page, ADMIN, '/pools');
    await page.getByRole('button', { name: '+ New pool' }).click();
    await page.getByLabel('Name').fill('etl');
    await page.locator('#slots-new').fill('4');
    await page.getByRole('button', { name: 'Save' }).click();
    const etl = page.getByRole('row').filter({ hasText: 'etl' });
    await etl.getByText('0/4').waitFor();
    await etl.getByRole('button', { name: 'Edit pool etl' }).click();
    await page.locator('#slots-etl').fill('6');
    await page.getByRole('button', { name: 'Save' }).click();
    await etl.getByText('0/6').waitFor();
    await shot(page, 'pools');
    // Every page has its URL: a reload lands on it again, logged in for this tab's session.
    await page.goto(`${api.url}/dags/etl_demo?view=graph`);
    await page.locator('.react-flow__node').first().waitFor();
    await page.goto(`${api.url}/dags`);
    await page.getByRole('link', { name: 'flaky_report', exact: true }).waitFor();
    // The import errors banner, with the file and the error behind its disclosure.
    await page.getByRole('heading', { name: '1 DAG file failed to import' }).waitFor();
    await page.getByText('Show the errors').click();
    await page.getByText(/the warehouse client is not installed/).first().waitFor();
    assert.match(await page.locator('.error-banner').innerText(), /broken\.ts/);
    await shot(page, 'dags');
    await page.close();
    assert.deepEqual(outside, [], 'the UI asked no other host');
  });

  test('variables and connections: admins create, edit and delete them; secrets never reach the page; read-only sees no write buttons', async (t) => {
    if (!browser) return t.skip('no Chromium');
    const store = storeOptions(h.rt.cfg);
    const secrets = ['hunter2-initial-9x', 'rotated-secret-42', 'pa55-word-xyz', 'tok-abc-123'];
    const noSecretOn = async (page: Page, where: string) => {
      const html = await page.content();
      for (const s of secrets) assert.ok(!html.includes(s), `${where}: the page holds the secret ${s}`);
    };
    const page = await newPage();
    await logIn(page, ADMIN, '/dags');

    // Variables: a plain one (invalid JSON is refused in plain words first) and a sensitive one.
    await page.getByRole('link', { name: 'Variables', exact: true }).click();
    await page.getByRole('heading', { name: 'Variables', exact: true }).waitFor();
    await page.getByRole('button', { name: '+ New variable' }).click();
    const form = page.getByRole('form', { name: 'New variable' });
    await form.getByLabel('Key', { exact: true }).fill('region');
    await form.getByLabel('Value (JSON)').fill('eu-west-1');
    await form.getByRole('alert').filter({ hasText: /Invalid JSON.*text needs double quotes: "eu-west-1"/ }).waitFor();
    assert.equal(await form.getByRole('button', { name: 'Save' }).isDisabled(), true, 'invalid JSON cannot be saved');
    await form.getByLabel('Value (JSON)').fill('"eu-west-1"');
    await form.getByLabel('Description', { exact: true }).fill('AWS region of the warehouse');
    await form.getByRole('button', { name: 'Save' }).click();
    const varRow = (key: string) => page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: key, exact: true }) });
    await varRow('region').getByText('"eu-west-1"').waitFor();
    await varRow('region').getByText('AWS region of the warehouse').waitFor();
    // The API's refusal is shown on the form: the key exists.
    await page.getByRole('button', { name: '+ New variable' }).click();
    await form.getByLabel('Key', { exact: true }).fill('region');
    await form.getByLabel('Value (JSON)').fill('1');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByRole('alert').filter({ hasText: 'Not saved: variable "region" already exists' }).waitFor();
    await form.getByLabel('Key', { exact: true }).fill('db_password');
    await form.getByLabel('Value (JSON)').fill(JSON.stringify(secrets[0]));
    await form.getByRole('button', { name: 'Save' }).click();
    await varRow('db_password').getByText('*** (sensitive)').waitFor();
    assert.equal(await form.count(), 0, 'the form closed after saving');
    await noSecretOn(page, 'variables list');
    // Editing a sensitive variable shows no value and needs a new one.
    await page.getByRole('button', { name: 'Edit variable db_password' }).click();
    const edit = page.getByRole('form', { name: 'Edit variable db_password' });
    assert.equal(await edit.getByLabel('Value (JSON)').inputValue(), '', 'the sensitive value is not put in the form');
    await edit.getByText('The current value is not shown (sensitive)').waitFor();
    assert.equal(await edit.getByRole('button', { name: 'Save' }).isDisabled(), true, 'saving needs a new value');
    await noSecretOn(page, 'sensitive variable form');
    await edit.getByLabel('Value (JSON)').fill(JSON.stringify(secrets[1]));
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    assert.equal((await getVariable(h.rt.db.kysely, store, 'db_password'))?.value, secrets[1]);
    await varRow('db_password').getByText('*** (sensitive)').waitFor();
    await shot(page, 'variables');

    // Connections: one with a password and a sensitive extra field.
    await page.getByRole('link', { name: 'Connections', exact: true }).click();
    await page.getByRole('heading', { name: 'Connections', exact: true }).waitFor();
    await page.getByRole('button', { name: '+ New connection' }).click();
    const cform = page.getByRole('form', { name: 'New connection' });
    const fill = async (f: typeof cform, fields: Record<string, string>) => {
      for (const [label, v] of Object.entries(fields)) await f.getByLabel(label, { exact: true }).fill(v);
    };
    await fill(cform, { 'Connection id': 'warehouse', Type: 'postgres', Host: 'wh.internal', Port: '5432', Login: 'etl', Password: secrets[2], Schema: 'dw' });
    assert.equal(await cform.getByLabel('Password', { exact: true }).getAttribute('type'), 'password');
    await cform.getByLabel('Extra (JSON object)').fill(JSON.stringify({ sslmode: 'require', api_token: secrets[3] }));
    await cform.getByRole('button', { name: 'Save' }).click();
    const connRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'warehouse' }) });
    await connRow.getByRole('cell', { name: 'wh.internal', exact: true }).waitFor();
    const cells = await connRow.getByRole('cell').allInnerTexts();
    assert.deepEqual(cells.slice(0, 6), ['postgres', 'wh.internal', '5432', 'etl', 'dw', 'yes'], 'type, host, port, login, schema, password set');
    assert.match(cells[6], /"sslmode":"require"/);
    assert.match(cells[6], /"api_token":"\*\*\*"/, 'a sensitive extra field is masked');
    await noSecretOn(page, 'connections list');
    // Editing: the password field starts empty and says leaving it empty keeps the password.
    await connRow.getByRole('button', { name: 'Edit connection warehouse' }).click();
    const cedit = page.getByRole('form', { name: 'Edit connection warehouse' });
    assert.equal(await cedit.getByLabel('Password', { exact: true }).inputValue(), '');
    await cedit.getByText('Leave this empty to keep it').waitFor();
    await noSecretOn(page, 'connection form');
    // Saving the masked extra field back is refused (it would replace the secret with ***).
    const extra = cedit.getByLabel('Extra (JSON object)');
    await extra.fill(JSON.stringify({ sslmode: 'disable', api_token: '***' }));
    await cedit.getByRole('alert').filter({ hasText: /api_token is hidden/ }).waitFor();
    assert.equal(await cedit.getByRole('button', { name: 'Save' }).isDisabled(), true);
    await extra.fill(JSON.stringify({ sslmode: 'require', api_token: '***' }, null, 2));
    await cedit.getByLabel('Host', { exact: true }).fill('wh2.internal');
    await cedit.getByRole('button', { name: 'Save' }).click();
    await connRow.getByRole('cell', { name: 'wh2.internal', exact: true }).waitFor();
    assert.equal((await connRow.getByRole('cell').allInnerTexts())[5], 'yes', 'still a password');
    const stored = await getConnection(h.rt.db.kysely, store, 'warehouse');
    assert.deepEqual([stored?.host, stored?.password, stored?.extra], ['wh2.internal', secrets[2], { sslmode: 'require', api_token: secrets[3] }], 'the password and the secret extra field were kept');
    assert.equal((await api.call('GET', '/api/v1/connections/warehouse', { token: READ })).json.hasPassword, true);
    await shot(page, 'connections');

    // A read-only token: the same lists, no write buttons (and the API refuses its writes).
    const ro = await newPage();
    await logIn(ro, READ, '/variables');
    await ro.getByRole('row').filter({ hasText: 'db_password' }).getByText('*** (sensitive)').waitFor();
    await ro.getByRole('row').filter({ hasText: 'region' }).getByText('"eu-west-1"').waitFor();
    assert.equal(await ro.getByRole('button', { name: /New variable|Edit|Delete/ }).count(), 0);
    await ro.getByRole('link', { name: 'Connections', exact: true }).click();
    await ro.getByRole('row').filter({ hasText: 'warehouse' }).getByText('wh2.internal').waitFor();
    assert.equal(await ro.getByRole('button', { name: /New connection|Edit|Delete/ }).count(), 0);
    await noSecretOn(ro, 'read-only connections');
    const refused = await ro.evaluate(async (token) => (await fetch('/api/v1/connections/warehouse', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status, READ);
    assert.equal(refused, 403);
    await ro.close();

    // Deleting, after a confirmation.
    await connRow.getByRole('button', { name: 'Delete connection warehouse' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Delete connection warehouse?' }).waitFor();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await connRow.waitFor({ state: 'detached' });
    assert.equal(await getConnection(h.rt.db.kysely, store, 'warehouse'), null);
    await page.getByRole('link', { name: 'Variables', exact: true }).click();
    for (const key of ['db_password', 'region']) {
      await varRow(key).getByRole('button', { name: `Delete variable ${key}` }).click();
      await dialog.getByRole('heading', { name: `Delete variable ${key}?` }).waitFor();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await varRow(key).waitFor({ state: 'detached' });
      assert.equal(await getVariable(h.rt.db.kysely, store, key), null);
    }
    await page.getByText('No variables yet.').waitFor();
    await page.close();
    assert.deepEqual(outside, [], 'the UI asked no other host');
  });
});
