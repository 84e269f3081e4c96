// The "container runtime" of the process kubelet: each container is a local process started in its own
// process group (so signals reach its children), whose stdout/stderr feed the container log; and a /proc
// scan that sums the resident memory (VmRSS) of each process group for memory-limit (OOM) enforcement.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { LogStream } from './logs.ts';

export interface SpawnSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  onOutput(chunk: string, stream: LogStream): void;
}

export interface ProcessExit {
  exitCode: number;
  /** Signal number when the process was killed by a signal. */
  signal?: number;
}

export interface ContainerProcess {
  pid: number;
  /** Resolves once the group leader exited and its output is drained. */
  exited: Promise<ProcessExit>;
  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void;
}

export type SpawnResult = { ok: true; proc: ContainerProcess } | { ok: false; message: string };

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export function signalNumber(sig: NodeJS.Signals | null): number {
  return sig ? SIGNALS[sig] ?? 1 : 0;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** How the runtime reports a container that could not start (containerd/runc's wording, shortened). */
function startError(detail: string): string {
  return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${detail}: unknown`;
}

/** Starts a container process; resolves once it is running or has failed to start. */
export function spawnContainer(spec: SpawnSpec): Promise<SpawnResult> {
  if (spec.argv.length === 0) return Promise.resolve({ ok: false, message: startError('exec: no command specified') });
  if (!existsSync(spec.cwd) || !statSync(spec.cwd).isDirectory()) {
    return Promise.resolve({ ok: false, message: startError(`chdir to cwd ("${spec.cwd}") set in config.json failed: no such file or directory`) });
  }
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(spec.argv[0], spec.argv.slice(1), {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      resolve({ ok: false, message: startError(`exec: "${spec.argv[0]}": ${(e as Error).message}`) });
      return;
    }
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => spec.onOutput(c, 'stdout'));
    child.stderr!.on('data', (c: string) => spec.onOutput(c, 'stderr'));
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      const why = err.code === 'ENOENT'
        ? `exec: "${spec.argv[0]}": executable file not found in $PATH`
        : err.code === 'EACCES'
          ? `exec: "${spec.argv[0]}": permission denied`
          : `exec: "${spec.argv[0]}": ${err.message}`;
      resolve({ ok: false, message: startError(why) });
    });
    child.once('spawn', () => {
      const pid = child.pid!;
      const exited = new Promise<ProcessExit>((done) => {
        let result: ProcessExit | undefined;
        let finished = false;
        const finish = () => {
          if (finished || !result) return;
          finished = true;
          done(result);
        };
        child.once('exit', (code, sig) => {
          result = sig ? { exitCode: 128 + signalNumber(sig), signal: signalNumber(sig) } : { exitCode: code ?? 0 };
          // The container ends with its main process: whatever it left behind in its group goes too.
          signalGroup(pid, 'SIGKILL');
          // A descendant that escaped the group could hold the pipes open; do not wait for it forever.
          setTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
            finish();
          }, 2000).unref();
        });
        child.once('close', finish);
      });
      resolve({ ok: true, proc: { pid, exited, signal: (sig) => signalGroup(pid, sig) } });
    });
  });
}

/**
 * A container whose process never starts: the runtime reports it running, nothing runs, and it ends only
 * when signalled (SIGTERM as a process that exits on it, 143; SIGKILL 137). It has no process group (pid -1).
 */
export function idleProcess(): ContainerProcess {
  let end!: (e: ProcessExit) => void;
  const exited = new Promise<ProcessExit>((r) => (end = r));
  return {
    pid: -1,
    exited,
    signal(sig) {
      const n = signalNumber(sig);
      end({ exitCode: 128 + n, signal: n });
    },
  };
}

/** Sum of VmRSS (bytes) per process group, for the given group ids, from one pass over /proc. */
export function groupRss(pgids: ReadonlySet<number>): Map<number, number> {
  const out = new Map<number, number>();
  if (pgids.size === 0) return out;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^[0-9]+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pgrp = Number(rest[2]);
      if (!pgids.has(pgrp)) continue;
      const status = readFileSync(`/proc/${e}/status`, 'utf8');
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (m) out.set(pgrp, (out.get(pgrp) ?? 0) + Number(m[1]) * 1024);
    } catch {
      // The process exited while we looked.
    }
  }
  return out;
}
