// floe db …, floe pools …
import { type Command, Option } from '@commander-js/extra-typings';
import { parseFormat, printRows } from '../output.ts';
import { parseIntArg, withRuntime } from './common.ts';

/** The configured database, opened, with what the db commands use (loaded when one runs). */
async function openConfiguredDb() {
  const [{ databaseUrl, loadConfig }, { openDb }, { sql }, migrations, { FLOE_TABLES }] = await Promise.all([
    import('../../config/load.ts'),
    import('../../db/connect.ts'),
    import('kysely'),
    import('../../db/migrations.ts'),
    import('../../db/schema.ts'),
  ]);
  const url = databaseUrl(loadConfig());
  return { url, conn: await openDb(url), sql, FLOE_TABLES, ...migrations };
}
const pools = () => import('../../core-queries/pools.ts');

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the metadata database');
  db.command('migrate')
    .description('create or upgrade the schema')
    .action(async () => {
      const { conn, migrateToLatest } = await openConfiguredDb();
      try {
        const applied = await migrateToLatest(conn.kysely, conn.dialect);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
      } finally {
        await conn.close();
      }
    });
  db.command('reset')
    .description('drop every Floe table and recreate the schema (all history is lost)')
    .option('-y, --yes', 'do not ask')
    .action(async (o) => {
      if (!o.yes) throw new Error('db reset deletes all DAG runs and history: run it with --yes');
      const { conn, sql, FLOE_TABLES, migrateToLatest } = await openConfiguredDb();
      try {
        for (const t of FLOE_TABLES)
          await sql`drop table if exists ${sql.table(t)}`.execute(conn.kysely);
        await migrateToLatest(conn.kysely, conn.dialect);
        console.log('database reset');
      } finally {
        await conn.close();
      }
    });
  db.command('check')
    .description('connectivity and migration state')
    .action(async () => {
      const { url, conn, sql, latestMigrationName } = await openConfiguredDb();
      try {
        await sql`select 1`.execute(conn.kysely);
        const applied = await sql<{ name: string }>`select name from floe_migration order by name`.execute(conn.kysely).then((r) => r.rows.map((x) => x.name)).catch(() => [] as string[]);
        const latest = latestMigrationName();
        const state = applied.at(-1) === latest ? 'up to date' : applied.length ? `behind (at ${applied.at(-1)}, latest ${latest})` : 'not created (run floe db migrate)';
        console.log(`database: ${conn.dialect} ${url.replace(/:[^:@/]*@/, ':***@')}\nconnection: ok\nschema: ${state}`);
        if (state !== 'up to date') process.exitCode = 1;
      } finally {
        await conn.close();
      }
    });

  const poolsCmd = program.command('pools').description('pools limit how many tries of their tasks run at once');
  poolsCmd
    .command('list')
    .addOption(new Option('-o, --output <format>', 'table or json').default('table').argParser(parseFormat))
    .action((o) => withRuntime(async (rt) => printRows((await (await pools()).listPools(rt.db.kysely)).rows.map((p) => ({ name: p.name, slots: p.slots, description: p.description })), o.output)));
  poolsCmd
    .command('set <name> <slots> [description]')
    .action((name, slots, description) =>
      withRuntime(async (rt) => {
        const n = parseIntArg(slots, 'slots');
        // An empty description keeps the current one, as an omitted one does.
        await (await pools()).setPool(rt.db.kysely, name, n, description || undefined);
        console.log(`pool ${name}: ${n} slots`);
      }),
    );
  poolsCmd
    .command('delete <name>')
    .description('tasks naming a deleted pool wait (the scheduler warns) until it exists again; default_pool stays')
    .action((name) =>
      withRuntime(async (rt) => {
        await (await pools()).deletePool(rt.db.kysely, name);
        console.log(`pool ${name} deleted`);
      }),
    );
}
