// The REST API as the UI uses it: fetch with the session's bearer token, problem details turned into errors.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'floe.token';
export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t: string | null): void => (t ? sessionStorage.setItem(TOKEN_KEY, t) : sessionStorage.removeItem(TOKEN_KEY));

/** Called when the API says the token is no longer valid (rotated, removed): back to the login form. */
let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (f: () => void): void => {
  onUnauthorized = f;
};

async function request(method: string, path: string, body?: unknown, token = getToken()): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) {
    let detail = `${r.status} ${r.statusText}`;
    try {
      const p = (await r.json()) as { detail?: string };
      if (p.detail) detail = p.detail;
    } catch {
      // not a problem body
    }
    // Only a token this tab was using (not one being tried at the login form, not none at all).
    if (r.status === 401 && token !== null && token === getToken()) onUnauthorized();
    throw new ApiError(r.status, detail);
  }
  return r;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await request(method, path, body);
  return (r.status === 204 ? null : await r.json()) as T;
}
export const get = <T,>(path: string): Promise<T> => api<T>('GET', path);

/** Bytes of a try's log from `offset`, and where the next read starts. */
export async function getLog(path: string, offset: number): Promise<{ bytes: Uint8Array; next: number; source: string | null }> {
  const r = await request('GET', `${path}${path.includes('?') ? '&' : '?'}offset=${offset}`);
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { bytes, next: Number(r.headers.get('x-floe-log-next-offset') ?? offset + bytes.length), source: r.headers.get('x-floe-log-source') };
}

/** Checks a token before keeping it: its role, or an ApiError (401 for a wrong token). */
export async function whoAmI(token: string | null): Promise<Me> {
  const r = await request('GET', '/auth/me', undefined, token);
  return (await r.json()) as Me;
}

export const enc = encodeURIComponent;

// Shapes of the API's answers (docs/api.md).
export interface Me {
  auth: 'token' | 'none';
  role: 'read' | 'admin';
}
export interface Dag {
  dagId: string;
  description: string | null;
  fileloc: string;
  isPaused: boolean;
  isActive: boolean;
  hasImportErrors: boolean;
  lastParsed: string;
  schedule: string | { every: number } | null;
  timezone: string;
  tags: string[];
  taskCount: number;
}
export interface DagTask {
  taskId: string;
  kind: string;
  upstream: string[];
  downstream: string[];
  retries: number;
  triggerRule: string;
  pool: string;
  doc?: string | null;
}
export interface DagDetail extends Dag {
  params: Record<string, unknown>;
  tasks: DagTask[];
}
export interface DagRun {
  dagId: string;
  runId: string;
  runType: string;
  state: string;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  queuedAt: string | null;
  startDate: string | null;
  endDate: string | null;
  conf: unknown;
}
export interface PodRef {
  namespace: string;
  name: string;
  uid: string | null;
}
export interface TaskInstance {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  state: string;
  tryNumber: number;
  maxTries: number;
  pool: string;
  queue: string;
  queuedAt: string | null;
  startDate: string | null;
  endDate: string | null;
  nextRetryAt: string | null;
  hostname: string | null;
  pid: number | null;
  externalExecutorId: string | null;
  pod: PodRef | null;
  reason: string | null;
}
export interface Try {
  tryNumber: number;
  state: string;
  startDate: string | null;
  endDate: string | null;
  hostname: string | null;
  externalExecutorId: string | null;
  pod: PodRef | null;
  reason: string | null;
}
export interface TaskInstanceDetail extends TaskInstance {
  tries: Try[];
}
export interface DagStats {
  dagId: string;
  recentRuns: Record<string, number>;
  lastRun: { runId: string; state: string; logicalDate: string } | null;
  nextRun: { logicalDate: string; dataIntervalEnd: string } | null;
}
export interface ImportError {
  id: number;
  kind: string;
  fileloc: string;
  line: number | null;
  dagId: string | null;
  taskId: string | null;
  message: string;
  timestamp: string;
}
export interface Pool {
  name: string;
  slots: number;
  description: string | null;
  occupiedSlots: number;
  queuedSlots: number;
  runningSlots: number;
  openSlots: number;
}
/** A variable; `value` is null for a sensitive one (never returned) or one the server cannot decrypt (`error`). */
export interface Variable {
  key: string;
  value: unknown;
  description: string | null;
  sensitive: boolean;
  encrypted: boolean;
  error?: string;
  createdAt: string;
  updatedAt: string;
}
/** A connection: its password is never returned (only `hasPassword`); sensitive extra fields come back as `***`. */
export interface Connection {
  connectionId: string;
  connType: string;
  description: string | null;
  host: string | null;
  port: number | null;
  login: string | null;
  schema: string | null;
  extra: Record<string, unknown> | null;
  hasPassword: boolean;
  encrypted: boolean;
  error?: string;
}
export interface PodEvent {
  type: string | null;
  reason: string | null;
  message: string | null;
  count?: number | null;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
}
export interface TaskPod {
  tryNumber: number;
  namespace: string;
  podName: string;
  podUid: string | null;
  spec: unknown;
  events: PodEvent[] | null;
  reason: string | null;
  createdAt: string;
}
export interface XCom {
  key: string;
  timestamp: string;
  value: unknown;
}
