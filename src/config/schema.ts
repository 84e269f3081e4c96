// Every configuration key, its default and meaning. docs/configuration.md mirrors this file.
import { z } from 'zod';
import { queueConfigFields } from '../executors/queue/settings.ts';
import { keyProblem } from '../secrets/crypto.ts';
import { DEFAULT_MIN_MASK_LENGTH, DEFAULT_SENSITIVE_NAMES } from '../secrets/masker.ts';

const seconds = z.number().nonnegative();

/** RFC 6750 token characters; at least 16 so a guessable word is refused. */
export const API_TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;
export const API_TOKEN_MIN_LENGTH = 16;
const apiToken = z
  .string()
  .min(API_TOKEN_MIN_LENGTH, `expected a token of at least ${API_TOKEN_MIN_LENGTH} characters (e.g. openssl rand -hex 32)`)
  .regex(API_TOKEN_PATTERN, 'expected a token of letters, digits and - . _ ~ + / (then = padding)');
/** A list of tokens, or (from an environment variable) one string of comma-separated tokens. */
const apiTokenList = z
  .preprocess((v) => (typeof v === 'string' ? v.split(',').map((t) => t.trim()).filter(Boolean) : v), z.array(apiToken))
  .default([]);

/**
 * Why `v` is not something ioredis connects to as meant, or null: a `redis://` / `rediss://` URL with a host
 * (ioredis would otherwise take any word for a host name and fail later, at the first connection, with
 * `getaddrinfo ENOTFOUND`), or an absolute Unix socket path.
 */
export function redisUrlProblem(v: string): string | null {
  const expected = 'expected a Redis URL such as redis://127.0.0.1:6379, redis://:password@host:6379/0 or rediss://host:6380 (TLS), or a Unix socket path such as /run/redis.sock';
  if (v.startsWith('/') && !v.startsWith('//')) return null;
  if (!/^rediss?:\/\//i.test(v)) return `${expected}; got ${JSON.stringify(v)}`;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return `${expected}; got ${JSON.stringify(v)} (not a valid URL)`;
  }
  if (!url.hostname) return `${expected}; got ${JSON.stringify(v)} (no host)`;
  if (!/^\/?(\d+)?$/.test(url.pathname)) return `${expected}; got ${JSON.stringify(v)} (the path must be a database number, like /0)`;
  return null;
}

/** Encryption keys: a list, or (from an environment variable) one string of comma-separated keys. */
const secretKeyList = z
  .preprocess(
    // An empty FLOE__SECRETS__KEY (YAML reads it as null) means no key, as an unset one does.
    (v) => (v === null ? [] : typeof v === 'string' ? v.split(',').map((t) => t.trim()).filter(Boolean) : v),
    z.array(z.string().superRefine((k, ctx) => {
      const problem = keyProblem(k);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })),
  )
  .default([]);

const redisUrl = queueConfigFields.redisUrl.superRefine((v, ctx) => {
  const problem = redisUrlProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const configSchema = z
  .object({
    core: z
      .object({
        /** Folder scanned for DAG files (*.ts, *.js). */
        dagsFolder: z.string().default('./dags'),
        /** local | kubernetes | queue | hybrid */
        executor: z.enum(['local', 'kubernetes', 'queue', 'hybrid']).default('local'),
        /** Task tries running at once across this scheduler's executor. */
        parallelism: z.number().int().positive().default(16),
        /** Slots of `default_pool`. */
        defaultPoolSlots: z.number().int().positive().default(128),
        /** Seconds a DAG file may take to import before it is an import error. */
        dagFileProcessorTimeout: seconds.default(30),
        /** Run each try in a fresh process instead of a warm runner (local executor). */
        isolateTasks: z.boolean().default(false),
        /** Defaults for DAGs that do not set them. */
        maxActiveRunsPerDag: z.number().int().positive().default(16),
        maxActiveTasksPerDag: z.number().int().positive().default(16),
        /** Default retry delay in seconds when a task sets retries but no retryDelay. */
        defaultRetryDelay: seconds.default(300),
        /** Most task instances one mapped task may expand into (Airflow's max_map_length). */
        maxMapLength: z.number().int().positive().default(1024),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        /** `sqlite:///abs/path.db`, a file path, or `postgres://…`. Default: `$FLOE_HOME/floe.db`. */
        url: z.string().nullable().default(null),
      })
      .strict()
      .prefault({}),
    scheduler: z
      .object({
        /** Longest sleep between scheduler loops (it also wakes on executor events). */
        loopInterval: seconds.default(1),
        /** How often DAG files are checked for changes. */
        dagDirListInterval: seconds.default(30),
        /** Seconds between task-runner heartbeats. */
        taskHeartbeatInterval: seconds.default(5),
        /** A running try with no heartbeat for this long is a zombie. */
        zombieThreshold: seconds.default(60),
        /** A scheduler with no heartbeat for this long is dead; others adopt its work. */
        healthCheckThreshold: seconds.default(30),
        /** A try queued this long whose task runner never claimed it is taken back and launched again (Airflow's task_queued_timeout). */
        taskQueuedTimeout: seconds.default(600),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
        /** `auto`: short readable lines when stderr is a terminal, JSON lines otherwise. */
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
        /** Task logs: `<logsFolder>/dag_id=…/run_id=…/task_id=…/attempt=N.log`. Default `$FLOE_HOME/logs`. */
        logsFolder: z.string().nullable().default(null),
      })
      .strict()
      .prefault({}),
    kubernetes: z
      .object({
        namespace: z.string().default('default'),
        workerImage: z.string().default('floe:latest'),
        podTemplateFile: z.string().nullable().default(null),
        podTemplates: z.record(z.string(), z.string()).default({}),
        queueTemplates: z.record(z.string(), z.string()).default({}),
        podMutationHook: z.string().nullable().default(null),
        kubeconfig: z.string().nullable().default(null),
        context: z.string().nullable().default(null),
        inCluster: z.boolean().default(false),
        podCreationBatchSize: z.number().int().positive().default(16),
        podCreationConcurrency: z.number().int().positive().default(8),
        apiQps: z.number().positive().default(5),
        apiBurst: z.number().int().positive().default(10),
        taskPublishMaxRetries: z.number().int().nonnegative().default(3),
        deleteWorkerPods: z.enum(['always', 'onSuccess', 'never']).default('onSuccess'),
        multiNamespaceMode: z.boolean().default(false),
        multiNamespaces: z.array(z.string()).default([]),
        podPendingTimeout: seconds.default(300),
        podLaunchFailureRetries: z.number().int().nonnegative().default(3),
        /** Waiting reasons that fail a pod at once instead of waiting for podPendingTimeout. */
        fastFailReasons: z.array(z.string()).default(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']),
        /** Seconds between sweeps that delete pods of tries already over (orphans). */
        orphanSweepInterval: seconds.default(60),
        /** Worker pods that stay up after their try and run further tries whose pod would be the same (docs/kubernetes.md). */
        warmPods: z
          .object({
            enabled: z.boolean().default(false),
            /** Seconds an idle warm pod waits for another try before it leaves. */
            idleSeconds: seconds.default(60),
            /** Tries one pod runs at most (then it leaves, and a fresh pod takes its place). */
            maxTriesPerPod: z.number().int().positive().default(100),
            /** Idle warm pods a scheduler keeps at most; null: core.parallelism. */
            maxWarmPods: z.number().int().nonnegative().nullable().default(null),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    queue: z.object({ ...queueConfigFields, redisUrl }).strict().prefault({}),
    hybrid: z
      .object({
        kubernetesQueue: z.string().default('kubernetes'),
      })
      .strict()
      .prefault({}),
    api: z
      .object({
        /** Address `floe api` listens on (`--host` overrides). */
        host: z.string().min(1).default('0.0.0.0'),
        /** TCP port of `floe api` (`--port` overrides); 0 picks a free one. */
        port: z.number().int().min(0).max(65535).default(8080),
        /** `token`: every /api/v1 request needs a bearer token. `none` serves without authentication and must be set explicitly. */
        auth: z.enum(['token', 'none']).default('token'),
        /** Tokens allowed to read (GET). */
        readTokens: apiTokenList,
        /** Tokens allowed to read and write (POST, PATCH, PUT, DELETE). */
        adminTokens: apiTokenList,
        /** File of `<role> <token>` lines (role `read` or `admin`), e.g. a mounted Secret; re-read when it changes. */
        tokensFile: z.string().nullable().default(null),
      })
      .strict()
      .prefault({}),
    secrets: z
      .object({
        /** AES-256-GCM keys (base64, 32 bytes): the first encrypts, all decrypt (rotation). */
        key: secretKeyList,
        /** Store connection passwords and sensitive variables unencrypted when no key is configured. */
        allowPlaintext: z.boolean().default(false),
        /** Key names (substrings, any case) that make a variable or extra field sensitive: encrypted and masked. */
        sensitiveNames: z.array(z.string().min(1)).default([...DEFAULT_SENSITIVE_NAMES]),
        /** Secrets shorter than this are not masked in logs. */
        minMaskLength: z.number().int().min(1).default(DEFAULT_MIN_MASK_LENGTH),
        /** Mask the values of the task process's environment variables whose names look sensitive (DB_PASSWORD, API_TOKEN, …). */
        maskEnvironment: z.boolean().default(true),
        /** Read connections and variables from Kubernetes Secrets (by name) before the metadata database. */
        kubernetesBackend: z.boolean().default(false),
        /** Namespace of those Secrets; null: kubernetes.namespace. */
        kubernetesNamespace: z.string().nullable().default(null),
        /** Secret name of connection `my_db`: `<prefix>my-db`. */
        connectionsPrefix: z.string().default('floe-conn-'),
        /** Secret name of variable `region`: `<prefix>region`. */
        variablesPrefix: z.string().default('floe-var-'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type FloeConfig = z.infer<typeof configSchema>;
