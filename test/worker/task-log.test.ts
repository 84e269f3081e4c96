// A try's log reaches the file at flush(), before the runner records the outcome (and before close()).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { TaskLog } from '../../src/worker/task-log.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'floe-tasklog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('flush() resolves once the lines written so far are in the file', async () => {
  const file = path.join(dir, 'dag_id=d', 'attempt=1.log');
  const log = new TaskLog(file);
  for (let i = 0; i < 200; i++) log.line('INFO', `line ${i}`, 'x'.repeat(200));
  await log.flush();
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines.length, 200);
  assert.match(lines[199], /INFO line 199 x+$/);
  log.line('INFO', 'after');
  await log.close();
  assert.match(readFileSync(file, 'utf8'), /INFO after\n$/);
});
