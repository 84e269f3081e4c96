// `floe kubernetes cleanup-pods [--namespace NS]... [--older-than 1h] [--dry-run]`: deletes finished Floe
// worker pods (see src/kubernetes/cleanup.ts for why it is safe to run at any time).
import type { Command } from '@commander-js/extra-typings';
import type { KubeApi } from '../../kubernetes/client.ts';

export interface CleanupDeps {
  api(): KubeApi | Promise<KubeApi>;
  /** Namespaces cleaned when no --namespace is given (the executor's: kubernetes.namespace + multiNamespaces). */
  namespaces(): string[] | Promise<string[]>;
  /**
   * The task logs folder (logging.logsFolder). When given, a pod's log is copied to its task log file before the
   * pod is deleted, unless the file exists (the runner wrote it on shared storage), as the executor does.
   */
  logsFolder?(): string | null | Promise<string | null>;
  /** Retires warm pods idle for at least `olderThanSeconds` (see retireIdleSince); `ns/name` of each. */
  retireIdleWarmPods?(namespaces: string[], olderThanSeconds: number, dryRun: boolean): Promise<string[]>;
}

export const DEFAULT_OLDER_THAN = '1h';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `3600` (seconds), `90s`, `30m`, `1h`, `2d`, or a sum such as `1h30m`; throws naming the flag. */
export function parseDuration(v: string, what = '--older-than'): number {
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s && /^(\d+(\.\d+)?[smhd])+$/.test(s)) {
    let total = 0;
    for (const m of s.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]];
    return total;
  }
  throw new Error(`${what}: expected a duration such as 3600 (seconds), 90s, 30m, 1h, 2d or 1h30m, got "${v}"`);
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerCleanup(kubernetes: Command, deps: CleanupDeps): void {
  const cmd = kubernetes
    .command('cleanup-pods')
    .description(
      'delete finished (Succeeded/Failed) Floe worker pods that finished longer ago than --older-than, and retire ' +
        'warm pods idle that long; never touches pending or running pods otherwise, so it is safe to run at any time',
    )
    .option('--namespace <ns>', 'namespace to clean (repeatable; default: kubernetes.namespace and, in multi-namespace mode, kubernetes.multiNamespaces)', collect, [] as string[])
    .option('--older-than <duration>', 'only pods finished at least this long ago: seconds, or 30m, 1h, 2d, 1h30m', DEFAULT_OLDER_THAN)
    .option('--dry-run', 'print what would be deleted, delete nothing')
    .action(async (opts) => {
      const writeOut = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      const olderThanSeconds = parseDuration(opts.olderThan);
      const namespaces = opts.namespace.length ? opts.namespace : await deps.namespaces();
      for (const ns of opts.namespace)
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63) throw new Error(`--namespace: "${ns}" is not a valid namespace name (lowercase letters, digits and "-", at most 63 characters)`);
      // The per-pod log lines go to stderr only when something goes wrong; stdout gets the plain list.
      const { cleanup } = await import('./kubernetes-cleanup-action.ts');
      const r = await cleanup(await deps.api(), { namespaces, olderThanSeconds, dryRun: opts.dryRun ?? false, logsFolder: (await deps.logsFolder?.()) ?? null });
      // Idle warm pods are Running, so never deleted here: retired, they exit, and go as finished pods.
      const retired = (await deps.retireIdleWarmPods?.(namespaces, olderThanSeconds, opts.dryRun ?? false)) ?? [];
      for (const pod of retired) writeOut(`${opts.dryRun ? 'would retire' : 'retired'} idle warm pod ${pod} (it exits on its own)\n`);
      const verb = opts.dryRun ? 'would delete' : 'deleted';
      for (const pod of r.deleted) writeOut(`${verb} pod ${pod}\n`);
      for (const f of r.failed) writeOut(`could not delete pod ${f.pod}: ${f.error}\n`);
      writeOut(
        `${opts.dryRun ? 'dry run: would delete' : 'deleted'} ${r.deleted.length} finished Floe worker pod(s) older than ${opts.olderThan} in ${namespaces.join(', ')}; ` +
          `kept ${r.kept}${r.failed.length ? `; ${r.failed.length} could not be deleted` : ''}\n`,
      );
      if (r.failed.length) process.exitCode = 1;
    });
}
