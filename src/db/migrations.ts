// Schema migrations, one list for both dialects. Append new migrations; never edit a released one.
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- migrations predate the schema types

function idColumn(db: AnyDb, dialect: Dialect) {
  return (t: ReturnType<AnyDb['schema']['createTable']>) =>
    dialect === 'postgres'
      ? t.addColumn('id', 'serial', (c) => c.primaryKey())
      : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

export type Dialect = 'sqlite' | 'postgres';

function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: AnyDb) {
        const withId = idColumn(db, dialect);
        await db.schema
          .createTable('dag')
          .addColumn('dag_id', 'text', (c) => c.primaryKey())
          .addColumn('fileloc', 'text', (c) => c.notNull())
          .addColumn('serialized', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('is_paused', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('last_parsed', 'text', (c) => c.notNull())
          .execute();
        await withId(db.schema.createTable('import_error'))
          .addColumn('fileloc', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('dag_id', 'text')
          .addColumn('task_id', 'text')
          .addColumn('line', 'integer')
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('timestamp', 'text', (c) => c.notNull())
          .execute();
        await withId(db.schema.createTable('dag_run'))
          .addColumn('dag_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('run_type', 'text', (c) => c.notNull())
          .addColumn('logical_date', 'text', (c) => c.notNull())
          .addColumn('data_interval_start', 'text', (c) => c.notNull())
          .addColumn('data_interval_end', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('conf', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('queued_at', 'text', (c) => c.notNull())
          .addColumn('start_date', 'text')
          .addColumn('end_date', 'text')
          .addColumn('last_scheduling_decision', 'text')
          .addUniqueConstraint('dag_run_dag_id_run_id', ['dag_id', 'run_id'])
          .addUniqueConstraint('dag_run_dag_id_logical_date', ['dag_id', 'logical_date'])
          .execute();
        await db.schema.createIndex('dag_run_state').on('dag_run').columns(['state', 'dag_id']).execute();
        await db.schema
          .createTable('task_instance')
          .addColumn('dag_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('task_id', 'text', (c) => c.notNull())
          .addColumn('map_index', 'integer', (c) => c.notNull().defaultTo(-1))
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('try_number', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_tries', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('pool', 'text', (c) => c.notNull())
          .addColumn('pool_slots', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('queue', 'text', (c) => c.notNull())
          .addColumn('priority_weight', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('queued_at', 'text')
          .addColumn('start_date', 'text')
          .addColumn('end_date', 'text')
          .addColumn('next_retry_at', 'text')
          .addColumn('hostname', 'text')
          .addColumn('pid', 'integer')
          .addColumn('queued_by_job_id', 'integer')
          .addColumn('external_executor_id', 'text')
          .addColumn('last_heartbeat', 'text')
          .addColumn('reason', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('task_instance_pk', ['dag_id', 'run_id', 'task_id', 'map_index'])
          .execute();
        await db.schema.createIndex('task_instance_state').on('task_instance').columns(['state', 'pool']).execute();
        await withId(db.schema.createTable('task_instance_history'))
          .addColumn('dag_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('task_id', 'text', (c) => c.notNull())
          .addColumn('map_index', 'integer', (c) => c.notNull())
          .addColumn('try_number', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('start_date', 'text')
          .addColumn('end_date', 'text')
          .addColumn('hostname', 'text')
          .addColumn('external_executor_id', 'text')
          .addColumn('reason', 'text')
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('tih_try', ['dag_id', 'run_id', 'task_id', 'map_index', 'try_number'])
          .execute();
        await db.schema
          .createTable('xcom')
          .addColumn('dag_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('task_id', 'text', (c) => c.notNull())
          .addColumn('map_index', 'integer', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('timestamp', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('xcom_pk', ['dag_id', 'run_id', 'task_id', 'map_index', 'key'])
          .execute();
        await db.schema
          .createTable('pool')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('slots', 'integer', (c) => c.notNull())
          .addColumn('description', 'text')
          .execute();
        await withId(db.schema.createTable('job'))
          .addColumn('job_type', 'text', (c) => c.notNull())
          .addColumn('hostname', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('start_date', 'text', (c) => c.notNull())
          .addColumn('latest_heartbeat', 'text', (c) => c.notNull())
          .execute();
        await sql`insert into pool (name, slots, description) values ('default_pool', 128, 'Default pool')`.execute(db);
      },
    },
    '0002_launch_failures': {
      async up(db: AnyDb) {
        // Infrastructure failures of a try (its runner never started) are kept beside the try history.
        await idColumn(db, dialect)(db.schema.createTable('task_launch_failure'))
          .addColumn('dag_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('task_id', 'text', (c) => c.notNull())
          .addColumn('map_index', 'integer', (c) => c.notNull())
          .addColumn('try_number', 'integer', (c) => c.notNull())
          .addColumn('external_executor_id', 'text')
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('task_launch_failure_ti').on('task_launch_failure').columns(['dag_id', 'run_id', 'task_id']).execute();
      },
    },
    '0003_task_instance_run_state': {
      async up(db: AnyDb) {
        // The scheduler reads a run's unfinished task instances every pass (run-task-instances.ts).
        await db.schema.createIndex('task_instance_run_state').on('task_instance').columns(['dag_id', 'run_id', 'state']).execute();
      },
    },
    '0004_task_pod': {
      async up(db: AnyDb) {
        // The pods of Kubernetes tries as created, with their events: what the web UI shows of a try's pod.
        await db.schema
          .createTable('task_pod')
          .addColumn('dag_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('task_id', 'text', (c) => c.notNull())
          .addColumn('map_index', 'integer', (c) => c.notNull())
          .addColumn('try_number', 'integer', (c) => c.notNull())
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('pod_name', 'text', (c) => c.notNull())
          .addColumn('pod_uid', 'text')
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('events', 'text')
          .addColumn('reason', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('task_pod_pk', ['dag_id', 'run_id', 'task_id', 'map_index', 'try_number', 'pod_name'])
          .execute();
        // Clear and mark (API, CLI) change task instances behind the scheduler's back: they stamp the run.
        await db.schema.alterTable('dag_run').addColumn('tis_edited_at', 'text').execute();
      },
    },
    '0005_launch_id': {
      async up(db: AnyDb) {
        // Which launch of a try the row is about: set when the try is queued, required by the runner's claim and
        // by every decision taken from an executor's report (docs/multiple-schedulers.md, fencing).
        await db.schema.alterTable('task_instance').addColumn('launch_id', 'text').execute();
      },
    },
    '0006_task_reschedule': {
      async up(db: AnyDb) {
        // Each poke of a reschedule-mode sensor that found its condition unmet (Airflow's task_reschedule): the
        // try's first poke starts its timeout, their number sets the exponential backoff.
        await idColumn(db, dialect)(db.schema.createTable('task_reschedule'))
          .addColumn('dag_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('task_id', 'text', (c) => c.notNull())
          .addColumn('map_index', 'integer', (c) => c.notNull())
          .addColumn('try_number', 'integer', (c) => c.notNull())
          .addColumn('start_date', 'text', (c) => c.notNull())
          .addColumn('end_date', 'text', (c) => c.notNull())
          .addColumn('reschedule_date', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('task_reschedule_ti').on('task_reschedule').columns(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number']).execute();
      },
    },
    '0007_variables_connections': {
      async up(db: AnyDb) {
        // Variables and connections (docs/concepts.md): secret values are encrypted by Floe before they get here.
        await db.schema
          .createTable('variable')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('val', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('is_encrypted', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('connection')
          .addColumn('conn_id', 'text', (c) => c.primaryKey())
          .addColumn('conn_type', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('host', 'text')
          .addColumn('port', 'integer')
          .addColumn('login', 'text')
          .addColumn('password', 'text')
          .addColumn('schema', 'text')
          .addColumn('extra', 'text')
          .addColumn('is_encrypted', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('is_extra_encrypted', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0008_warm_pods': {
      async up(db: AnyDb) {
        // Warm worker pods (kubernetes.warmPods): one row per pod once its first try ended (src/db/warm-pods.ts).
        await db.schema
          .createTable('warm_pod')
          .addColumn('pod_name', 'text', (c) => c.primaryKey())
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('scheduler_id', 'text', (c) => c.notNull())
          .addColumn('spec_key', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('tries_run', 'integer', (c) => c.notNull())
          .addColumn('idle_since', 'text')
          .addColumn('assigned_dag_id', 'text')
          .addColumn('assigned_run_id', 'text')
          .addColumn('assigned_task_id', 'text')
          .addColumn('assigned_map_index', 'integer')
          .addColumn('assigned_try_number', 'integer')
          .addColumn('assigned_launch_id', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('warm_pod_idle').on('warm_pod').columns(['scheduler_id', 'spec_key', 'state']).execute();
      },
    },
  };
}

class InCodeProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

export function migrator(db: AnyDb, dialect: Dialect): Migrator {
  // Unknown (newer) migrations in the DB make Kysely refuse to run: an old Floe never touches a newer schema.
  return new Migrator({ db, provider: new InCodeProvider(dialect), migrationTableName: 'floe_migration', migrationLockTableName: 'floe_migration_lock' });
}

export async function migrateToLatest(db: AnyDb, dialect: Dialect): Promise<string[]> {
  const { error, results } = await migrator(db, dialect).migrateToLatest();
  if (error) throw new Error(`database migration failed: ${(error as Error).message ?? String(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export function latestMigrationName(): string {
  return Object.keys(migrations('sqlite')).sort().at(-1)!;
}
