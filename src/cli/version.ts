// Floe's version, from its package.json (two folders up from src/cli/ and from the built dist/cli/ alike).
import { readFileSync } from 'node:fs';

export function floeVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
