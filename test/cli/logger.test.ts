// Floe's own log: short readable lines for a person at a terminal, JSON lines for machines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { prettyLogs } from '../../src/util/logger.ts';
import { tsxExecArgv } from '../helpers/tsx.ts';

const LOGGER = fileURLToPath(new URL('../../src/util/logger.ts', import.meta.url));
const logWith = (format: string) =>
  spawnSync(process.execPath, [...tsxExecArgv(), '--input-type=module', '-e', `const { stderrLogger } = await import(${JSON.stringify(LOGGER)}); stderrLogger('info', ${JSON.stringify(format)}).warn({ ti: 'etl.load' }, 'scheduler loop failed; continuing');`], { encoding: 'utf8', timeout: 60_000 });

test('auto: pretty at a terminal only; json and pretty force it', () => {
  assert.equal(prettyLogs('auto', true), true);
  assert.equal(prettyLogs('auto', false), false);
  assert.equal(prettyLogs('json', true), false);
  assert.equal(prettyLogs('pretty', false), true);
});

test('off a terminal (auto) the log is JSON lines; pretty gives a short line with time, level and message', () => {
  const json = logWith('auto');
  assert.equal(json.status, 0, json.stderr);
  const line = JSON.parse(json.stderr.trim()) as Record<string, unknown>;
  assert.equal(line.msg, 'scheduler loop failed; continuing');
  assert.equal(line.level, 40);
  const pretty = logWith('pretty');
  assert.equal(pretty.status, 0, pretty.stderr);
  // Not a terminal here, so no colours: `[12:00:00.000] WARN: scheduler loop failed; continuing` and the fields.
  assert.match(pretty.stderr, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: scheduler loop failed; continuing\n\s+ti: "etl\.load"\n$/);
});
