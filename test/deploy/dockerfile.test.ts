// deploy/Dockerfile and .dockerignore, checked statically (no Docker daemon or registry here):
// node:20-slim, production dependencies only, a numeric non-root user, the documented paths, and every
// COPY source present in the build context and not excluded by .dockerignore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** Dockerfile instructions with `\` continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let cur = lines[i];
    if (/^\s*(#|$)/.test(cur)) continue;
    while (cur.endsWith('\\') && i + 1 < lines.length) cur = cur.slice(0, -1) + ' ' + lines[++i].trim();
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(cur);
    assert.ok(m, `Dockerfile line ${start}: not an instruction: ${cur}`);
    out.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start });
  }
  return out;
}

/** .dockerignore patterns: plain paths and globs; a `!pattern` re-includes; the last matching line decides, as in Docker. */
function ignored(file: string, patterns: string[]): boolean {
  let out = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    const pat = (negated ? p.slice(1) : p).replace(/^\//, '');
    const re = new RegExp(`^${pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '.*').replace(/(?<!\.)\*/g, '[^/]*')}(/.*)?$`);
    if (re.test(file)) out = !negated;
  }
  return out;
}

const dockerfile = instructions(readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8'));
const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

test('every stage is node:20-slim; the build stage compiles with npm ci and keeps production dependencies only', () => {
  const froms = dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]);
  assert.ok(froms.length >= 1);
  for (const f of froms) assert.equal(f, 'node:20-slim');
  const runs = dockerfile.filter((i) => i.op === 'RUN').map((i) => i.args);
  assert.ok(runs.some((r) => /\bnpm ci\b.*\bnpm prune --omit=dev\b/.test(r)), 'npm ci (prepare builds dist/), then npm prune --omit=dev');
  assert.ok(!runs.some((r) => /\bnpm (install|i)\b/.test(r)), 'no npm install: the lock file decides');
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.ok(pkg.dependencies.tsx, 'tsx must be a runtime dependency: it loads TypeScript DAG files in the image');
  const lastFrom = dockerfile.map((i) => i.op).lastIndexOf('FROM');
  const runtimeCopies = dockerfile.slice(lastFrom).filter((i) => i.op === 'COPY').map((i) => i.args);
  assert.ok(runtimeCopies.some((c) => /--from=build\b.*\/dist\b/.test(c)), 'the runtime stage gets the compiled build (dist/)');
  assert.ok(!runtimeCopies.some((c) => /^src\b/.test(c)), 'the runtime stage runs the build, not the sources');
});

test('the image runs as a numeric non-root user and documents its paths', () => {
  const users = dockerfile.filter((i) => i.op === 'USER');
  const last = users[users.length - 1];
  assert.ok(last, 'a USER instruction');
  assert.match(last.args, /^[1-9]\d*(:[1-9]\d*)?$/, 'numeric uid (so Kubernetes can check runAsNonRoot)');
  const stages = dockerfile.map((i, n) => ({ ...i, n })).filter((i) => i.op === 'FROM');
  assert.ok(last.line > stages[stages.length - 1].line, 'USER is set in the final stage');
  const text = dockerfile.map((i) => `${i.op} ${i.args}`).join('\n');
  assert.match(text, /mkdir -p [^\n]*\/opt\/floe\/dags/);
  assert.match(text, /chown [^\n]*\/opt\/floe\/dags/);
  assert.match(text, /FLOE_CONFIG=\/etc\/floe\/floe\.yaml/);
  assert.match(text, /ln -s \/opt\/floe\/app\/bin\/floe\.js \/usr\/local\/bin\/floe/);
  // The uid of the image is the one the Kubernetes manifests run as.
  const uid = last.args.split(':')[0];
  for (const f of ['deploy/kubernetes/base/scheduler.yaml', 'deploy/kubernetes/base/api.yaml', 'deploy/kubernetes/overlays/dags-in-image/pod_template.yaml']) {
    assert.match(readFileSync(path.join(ROOT, f), 'utf8'), new RegExp(`runAsUser: ${uid}\\b`), f);
  }
});

test('every COPY source exists and is not excluded by .dockerignore; the CLI entry is in the image', () => {
  const sources: string[] = [];
  for (const i of dockerfile.filter((x) => x.op === 'COPY' && !/--from=/.test(x.args))) {
    const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    sources.push(...parts.slice(0, -1));
  }
  assert.ok(sources.length > 0);
  for (const s of sources) {
    assert.ok(existsSync(path.join(ROOT, s)), `COPY ${s}: not in the repository`);
    assert.ok(!ignored(s, ignore), `COPY ${s}: excluded by .dockerignore`);
  }
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  for (const entry of Object.values(pkg.bin)) {
    assert.ok(sources.some((s) => entry === s || entry.startsWith(`${s.replace(/\/$/, '')}/`)), `bin ${entry} is copied`);
  }
  for (const must of ['src/cli/main.ts', 'package-lock.json', 'scripts/build.mjs', 'tsconfig.build.json']) {
    assert.ok(sources.some((s) => must === s || must.startsWith(`${s}/`)), `${must} is copied`);
  }
});

test('.dockerignore keeps node_modules, .git and local state out of the build context', () => {
  for (const f of ['node_modules', '.git', '.floe', 'node_modules/tsx/package.json']) assert.ok(ignored(f, ignore), `${f} ignored`);
  for (const f of ['src/cli/main.ts', 'bin/floe.js', 'package.json', 'package-lock.json', 'deploy/Dockerfile']) {
    assert.ok(!ignored(f, ignore), `${f} kept`);
  }
});
