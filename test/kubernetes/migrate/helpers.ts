// Shared by the migration tests: temp folders holding an airflow.cfg (and friends), cleaned up after.
import { mkdtempSync, rmSync, writeFileSync, cpSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/airflow-cfg');

/** A fresh temp folder with `files` written into it. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'floe-migrate-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A temp copy of a fixture folder, without its expected/ outputs. */
export function fixtureCopy(name: string): string {
  const dir = tempDir();
  for (const entry of readdirSync(path.join(FIXTURES, name))) {
    if (entry === 'expected') continue;
    cpSync(path.join(FIXTURES, name, entry), path.join(dir, entry), { recursive: true });
  }
  return dir;
}

/** A minimal airflow.cfg around a [kubernetes] body. */
export function cfg(kubernetes: string, extra = ''): string {
  return `[core]\nexecutor = KubernetesExecutor\ndags_folder = /opt/airflow/dags\n\n[kubernetes]\n${kubernetes}\n${extra}`;
}
