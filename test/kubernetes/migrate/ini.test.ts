// The configparser-compatible INI reader behind migrate-airflow-cfg.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IniError, findOption, interpolatedValue, parseIni } from '../../../src/kubernetes/migrate/ini.ts';

const get = (text: string, section: string, key: string) => interpolatedValue(parseIni(text, 'a.cfg'), section, key);

test('both separators, surrounding spaces stripped, empty values kept as empty', () => {
  const doc = parseIni('[s]\na = 1\nb: two words \nc =\nd:', 'a.cfg');
  assert.deepEqual(
    [...doc.sections.get('s')!.options.values()].map((o) => [o.name, o.raw, o.line]),
    [['a', '1', 2], ['b', 'two words', 3], ['c', '', 4], ['d', '', 5]],
  );
});

test('the first = or : separates key and value, so values may contain either', () => {
  assert.equal(get('[s]\nurl = http://host:8080/a=b', 's', 'url'), 'http://host:8080/a=b');
  assert.equal(get('[s]\nsecret : name=key', 's', 'secret'), 'name=key');
});

test('indented lines continue the value; blank lines inside are kept, trailing ones dropped; comments are skipped', () => {
  const text = '[s]\njson = {"a":\n    # a comment inside\n    1,\n\n    "b": 2}\n\nnext = x\n';
  assert.equal(get(text, 's', 'json'), '{"a":\n1,\n\n"b": 2}');
  assert.equal(get(text, 's', 'next'), 'x');
  assert.equal(findOption(parseIni(text, 'a.cfg'), 's', 'next')!.line, 8);
});

test('full-line # and ; comments are ignored; an inline # stays in the value (configparser default)', () => {
  const text = '# top\n; also\n[s]\n  # indented comment\nk = v # not a comment\n';
  assert.equal(get(text, 's', 'k'), 'v # not a comment');
});

test('keys and section names are case-sensitive, as Airflow\'s configparser (optionxform keeps the case)', () => {
  const doc = parseIni('[Kube]\nWorker_Tag = 1\nworker_tag = 2\n[kube]\nx = 2\n[DEFAULT]\nHome = /h\nref = %(home)s', 'a.cfg');
  assert.equal(findOption(doc, 'Kube', 'Worker_Tag')!.raw, '1');
  assert.equal(findOption(doc, 'Kube', 'worker_tag')!.raw, '2', 'two options, not a duplicate');
  assert.equal(findOption(doc, 'kube', 'worker_tag'), undefined);
  assert.equal(findOption(doc, 'Kube', 'home'), undefined);
  assert.throws(() => interpolatedValue(doc, 'kube', 'ref'), /%\(home\)s refers to an option that is neither in \[kube\] nor in \[DEFAULT\]/);
});

test('[DEFAULT] values are a fallback for every section', () => {
  const text = '[DEFAULT]\nhome = /srv\n[core]\ndags = %(home)s/dags\n[other]\nx = 1';
  assert.equal(get(text, 'core', 'dags'), '/srv/dags');
  assert.equal(get(text, 'other', 'home'), '/srv');
  assert.equal(get(text, 'missing', 'home'), undefined);
});

test('%(name)s interpolation: same section first, then DEFAULT, recursively; %% is a literal %', () => {
  const text = '[DEFAULT]\nroot = /d\nname = default\n[s]\nname = own\nbase = %(root)s/%(name)s\npath = %(base)s/x\npct = 100%%\nfmt = %%(asctime)s';
  assert.equal(get(text, 's', 'path'), '/d/own/x');
  assert.equal(get(text, 's', 'pct'), '100%');
  assert.equal(get(text, 's', 'fmt'), '%(asctime)s');
  // Interpolation happens in the section the value is read through, as in configparser.
  assert.equal(get(text, 'DEFAULT', 'name'), 'default');
});

test('interpolation errors name file, line, section and key', () => {
  assert.throws(() => get('[s]\n\nk = %(nope)s', 's', 'k'), (e: unknown) => {
    assert.ok(e instanceof IniError);
    assert.equal(e.line, 3);
    assert.match(e.message, /^a\.cfg:3 \[s\] k: %\(nope\)s refers to an option that is neither in \[s\] nor in \[DEFAULT\]/);
    return true;
  });
  assert.throws(() => get('[s]\nk = 50%', 's', 'k'), /a\.cfg:2 \[s\] k: '%' must be followed by '%' or '\('/);
  assert.throws(() => get('[s]\nk = %(x', 's', 'k'), /bad interpolation reference "%\(x": expected %\(name\)s/);
  assert.throws(() => get('[s]\na = %(b)s\nb = %(a)s', 's', 'a'), /a\.cfg:2 \[s\] a: %\(…\)s references nest deeper than 10 levels/);
});

test('structural errors: duplicate section, duplicate key, no section header, no separator', () => {
  assert.throws(() => parseIni('[s]\na=1\n[s]\nb=2', 'a.cfg'), /a\.cfg:3 \[s\]: section \[s\] already appeared on line 1/);
  assert.throws(() => parseIni('[s]\na=1\na=2', 'a.cfg'), /a\.cfg:3 \[s\] a: option is set twice \(first on line 2\)/);
  assert.throws(() => parseIni('a = 1\n[s]', 'a.cfg'), /a\.cfg:1: expected a section header like \[core\] before "a = 1"/);
  assert.throws(() => parseIni('[s]\njust words', 'a.cfg'), /a\.cfg:2 \[s\]: expected "key = value" or "key: value", found "just words"/);
  assert.throws(() => parseIni('[s]\n= value', 'a.cfg'), /a\.cfg:2 \[s\]: expected "key = value"/);
});

test('a BOM and CRLF line ends are read like plain text', () => {
  assert.equal(get('\uFEFF[s]\r\nk = v\r\n  more\r\n', 's', 'k'), 'v\nmore');
});
