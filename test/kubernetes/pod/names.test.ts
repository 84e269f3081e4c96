// Pod names and label values: DNS-1123, ≤ 63 characters, no collisions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelValue, podName } from '../../../src/kubernetes/pod/index.ts';
import { checkDns1123Label, checkLabelValue } from '../../../src/kubernetes/pod/names.ts';
import { fixedRandom } from './helpers.ts';

const IDS = [
  'etl',
  'my_dag.v2',
  'a'.repeat(63),
  'a'.repeat(64),
  'x'.repeat(250),
  '_leading_underscore',
  'trailing.dot.',
  '---',
  'Ünïcödé_täsk',
  '日本語のタスク',
  'manual__2024-01-01T00:00:00.000Z',
  'scheduled__2024-01-01T00:00:00+00:00',
  'a:b',
  'a_b',
  '-1',
  '',
];

describe('labelValue', () => {
  it('keeps valid values exactly (up to the 63-character boundary)', () => {
    for (const v of ['etl', 'my_dag.v2', 'A-b_c.D', 'a'.repeat(63), '0']) assert.equal(labelValue(v), v);
  });

  it('always gives a valid label value', () => {
    for (const id of IDS) assert.equal(checkLabelValue(labelValue(id)), null, `${JSON.stringify(id)} → ${labelValue(id)}`);
  });

  it('cuts at 63 characters with a hash: 64 characters no longer fit', () => {
    const v = labelValue('a'.repeat(64));
    assert.equal(v.length, 63);
    assert.match(v, /^a{52}-[0-9a-f]{10}$/);
  });

  it('never gives two different ids the same value', () => {
    const ids = [...IDS, 'a'.repeat(64) + 'x', 'a'.repeat(64) + 'y', 'a.b', 'a-b', 'run 1', 'run_1', 'run:1', 'Café', 'Cafe'];
    const values = ids.map(labelValue);
    assert.equal(new Set(values).size, new Set(ids).size);
  });

  it('ids that differ only after the cut get different values', () => {
    const long = 'scheduled__2024-01-01T00:00:00.000Z_with_a_long_suffix_that_goes_on_';
    assert.notEqual(labelValue(`${long}1`), labelValue(`${long}2`));
  });

  it('folds accents and replaces other characters with "_", then adds a hash', () => {
    assert.match(labelValue('Café Reports'), /^Cafe_Reports-[0-9a-f]{10}$/);
    assert.match(labelValue('日本語'), /^[0-9a-f]{10}$/);
  });
});

describe('podName', () => {
  it('is a DNS-1123 label of at most 63 characters for any ids', () => {
    const r = fixedRandom(3);
    for (const d of IDS) for (const t of IDS) {
      const n = podName(d, t, r);
      assert.equal(checkDns1123Label(n), null, `${JSON.stringify([d, t])} → ${n}`);
      assert.ok(n.length <= 63);
    }
  });

  it('is <dag>-<task>-<8 random characters> when the ids fit', () => {
    assert.match(podName('My_Dag.v2', 'load.tiles', fixedRandom()), /^my-dag-v2-load-tiles-[a-z0-9]{8}$/);
  });

  it('keeps a share of both ids when they are long', () => {
    const n = podName('d'.repeat(100), 't'.repeat(100), fixedRandom());
    assert.equal(n.length, 63);
    assert.match(n, /^d{26}-t{27}-[a-z0-9]{8}$/);
  });

  it('gives the whole room to the task id when the dag id is short', () => {
    const n = podName('etl', 't'.repeat(100), fixedRandom());
    assert.match(n, /^etl-t{50}-[a-z0-9]{8}$/);
  });

  it('falls back to "floe-task" when nothing of the ids is usable', () => {
    assert.match(podName('日本', '---', fixedRandom()), /^floe-task-[a-z0-9]{8}$/);
  });

  it('differs between calls with the real random source', () => {
    const names = new Set(Array.from({ length: 50 }, () => podName('d', 't', Math.random)));
    assert.equal(names.size, 50);
  });
});
