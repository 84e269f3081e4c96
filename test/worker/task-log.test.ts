// A try's log lines are in the file as soon as they are written: before the runner records the outcome, and
// even when the task ends its own process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { TaskLog } from '../../src/worker/task-log.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'floe-tasklog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('lines are in the file once written, before close()', async () => {
  const file = path.join(dir, 'dag_id=d', 'attempt=1.log');
  const log = new TaskLog(file);
  for (let i = 0; i < 200; i++) log.line('INFO', `line ${i}`, 'x'.repeat(200));
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines.length, 200);
  assert.match(lines[199], /INFO line 199 x+$/);
  log.line('INFO', 'after');
  await log.close();
  assert.match(readFileSync(file, 'utf8'), /INFO after\n$/);
});

test('a line written just before the process exits is in the file', () => {
  const file = path.join(dir, 'exit', 'attempt=1.log');
  const src = `import { TaskLog } from ${JSON.stringify(new URL('../../src/worker/task-log.ts', import.meta.url).href)};
const log = new TaskLog(${JSON.stringify(file)});
log.line('INFO', 'last words');
process.exit(7);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { encoding: 'utf8' });
  assert.equal(r.status, 7, r.stderr);
  assert.match(readFileSync(file, 'utf8'), /INFO last words\n$/);
});

test('missing folders are made; a later attempt in the same folder gets its own file', async () => {
  const first = path.join(dir, 'dag_id=x', 'run_id=r', 'task_id=t', 'attempt=1.log');
  const log1 = new TaskLog(first);
  log1.line('INFO', 'one');
  await log1.close();
  const second = path.join(path.dirname(first), 'attempt=2.log');
  const log2 = new TaskLog(second);
  log2.line('INFO', 'two');
  await log2.close();
  assert.match(readFileSync(first, 'utf8'), /INFO one\n$/);
  assert.match(readFileSync(second, 'utf8'), /INFO two\n$/);
});
