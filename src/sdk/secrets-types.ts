// What a task gets of variables, connections and masking (part of TaskContext). Types only.

/** A connection as ctx.connection() returns it. */
export interface Connection {
  connId: string;
  /** postgres, http, aws, … */
  connType: string;
  description: string | null;
  host: string | null;
  port: number | null;
  login: string | null;
  /** Masked as `***` wherever Floe writes it (task logs, failure reasons). */
  password: string | null;
  schema: string | null;
  /** The extra JSON object (`{}` when none); fields with sensitive names are masked too. */
  extra: Record<string, unknown>;
  /** The connection as a URI, `type://login:password@host:port/schema?extra…` (percent-encoded). */
  uri: string;
}

export interface TaskSecrets {
  variables: {
    /**
     * A variable's JSON value: from FLOE_VAR_<KEY> (or AIRFLOW_VAR_<KEY>), a Kubernetes Secret when that backend
     * is on, or the metadata database. Without a default, a variable that is not set fails the task, naming it.
     */
    get<T = unknown>(key: string): Promise<T>;
    get<T>(key: string, defaultValue: T): Promise<T>;
  };
  /** A connection, from FLOE_CONN_<ID> (or AIRFLOW_CONN_<ID>), a Kubernetes Secret, or the metadata database. */
  connection(connId: string): Promise<Connection>;
  /** Registers a value to be masked (`***`) in this try's log and failure reason from now on. */
  mask(value: unknown): void;
}
