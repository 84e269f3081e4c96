// Airflow's expand_env_var: Python's os.path.expandvars then expanduser, repeated until nothing changes.
import os from 'node:os';

export type Env = Record<string, string | undefined>;

/** `$NAME` / `${NAME}` from env (unknown names stay as written), then a leading `~` / `~/…` to $HOME. */
export function expandEnvVar(value: string, env: Env): string {
  let cur = value;
  // Python loops until a fixed point; a bound stops reference cycles (A=$B, B=$A) that would spin forever there.
  for (let i = 0; i < 32; i++) {
    const next = expandUser(expandVars(cur, env), env);
    if (next === cur) return next;
    cur = next;
  }
  return cur;
}

function expandVars(s: string, env: Env): string {
  if (!s.includes('$')) return s;
  return s.replace(/\$([A-Za-z0-9_]+|\{[^}]*\})/g, (whole, ref: string) => {
    const name = ref.startsWith('{') ? ref.slice(1, -1) : ref;
    const v = env[name];
    return v === undefined ? whole : v;
  });
}

function expandUser(s: string, env: Env): string {
  if (!s.startsWith('~')) return s;
  const slash = s.indexOf('/', 1);
  const end = slash < 0 ? s.length : slash;
  // `~user` needs the password database; Airflow configs use plain `~`, so `~user` is left alone.
  if (end !== 1) return s;
  const home = (env.HOME ?? os.homedir()).replace(/\/+$/, '');
  return home + s.slice(end) || '/';
}
