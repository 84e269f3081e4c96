import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.ts';
import type { Db } from '../db/connect.ts';
import type { KubeApi } from '../kubernetes/client.ts';

/** What the routes use: the metadata DB, the configuration, and the Kubernetes API (made on first use). */
export interface ApiContext {
  db: Db;
  cfg: LoadedConfig;
  log: Logger;
  kube: () => KubeApi;
  now: () => Date;
}
