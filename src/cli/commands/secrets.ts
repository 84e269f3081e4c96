// floe variables …, floe connections …, floe secrets …, floe config …: variables and connections in the metadata
// database (encrypted with secrets.key), the encryption keys, and the effective configuration.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { type Command, Option } from '@commander-js/extra-typings';
import { parseFormat, printRows } from '../output.ts';
import type { Runtime } from '../runtime.ts';
import { withRuntime } from './common.ts';
import { readStdin } from './confirm.ts';

const outputOption = () => new Option('-o, --output <format>', 'table or json').default('table').argParser(parseFormat);
const onExistingOption = (dflt: string) =>
  new Option('--on-existing <action>', 'what to do with ids that exist already: overwrite, skip or fail').choices(['overwrite', 'skip', 'fail'] as const).default(dflt);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What these commands use, loaded when one runs. */
async function load(rt: Runtime) {
  const [variables, connections, conn, settings, lookup] = await Promise.all([
    import('../../core-queries/variables.ts'),
    import('../../core-queries/connections.ts'),
    import('../../secrets/connection.ts'),
    import('../../secrets/settings.ts'),
    import('../../secrets/lookup.ts'),
  ]);
  settings.configureMasker(rt.cfg);
  return { ...variables, ...connections, ...conn, ...lookup, o: settings.storeOptions(rt.cfg) };
}

function readInput(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
}

/** Writes an export: `-` is standard output; a file is made readable by its owner only (it holds secrets). */
function writeExport(file: string, text: string): void {
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

const showValue = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function registerSecretsCommands(program: Command): void {
  const variables = program.command('variables').description('variables: key → JSON value, read by tasks with ctx.variables.get');

  variables
    .command('set <key> <value>')
    .description('create or replace a variable; the value is read as JSON when it is valid JSON (42, true, {"a": 1}), else as text; "-" reads it from standard input')
    .option('--string', 'store the value as text even when it is valid JSON')
    .option('--description <text>', 'what the variable is for')
    .action((key, value, o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const text = value === '-' ? (await readStdin()).replace(/\r?\n$/, '') : value;
        const { created } = await q.setVariable(rt.db.kysely, q.o, key, o.string ? text : q.parseVariableText(text), o.description);
        console.log(`variable ${key} ${created ? 'created' : 'updated'}`);
      }),
    );

  variables
    .command('get <key>')
    .description('print a variable as a task reads it (FLOE_VAR_<KEY>, a Kubernetes Secret, then the database): text as it is, other values as JSON')
    .option('--default <value>', 'printed when the variable is not set (instead of failing)')
    .option('--json', 'print text values as JSON too')
    .action((key, o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const lookup = new q.SecretsLookup(rt.cfg, rt.db.kysely);
        const found = await lookup.variable(key);
        if (!found) {
          if (o.default !== undefined) return void console.log(o.default);
          throw new Error(`variable "${key}" is not set (looked in ${lookup.variablePlaces(key)})`);
        }
        console.log(o.json ? JSON.stringify(found.value) : showValue(found.value));
      }),
    );

  variables
    .command('list')
    .description('the variables of the metadata database (values of sensitive keys shown as ***)')
    .addOption(outputOption())
    .action((o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const { rows } = await q.listVariables(rt.db.kysely, q.o);
        printRows(
          rows.map((r) => ({ key: r.key, value: r.sensitive ? '***' : r.error ? `(${r.error})` : showValue(r.value), description: r.description, encrypted: r.encrypted })),
          o.output,
        );
      }),
    );

  variables
    .command('delete <key>')
    .action((key) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        if (!(await q.deleteVariable(rt.db.kysely, key))) throw new Error(`no variable "${key}"`);
        console.log(`variable ${key} deleted`);
      }),
    );

  variables
    .command('import <file>')
    .description('variables from a JSON object {"key": value, …} (Airflow\'s export format)')
    .addOption(onExistingOption('overwrite'))
    .action((file, o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        let data: unknown;
        try {
          data = JSON.parse(readInput(file));
        } catch (e) {
          throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
        }
        const r = await q.importVariables(rt.db.kysely, q.o, data, o.onExisting as 'overwrite' | 'skip' | 'fail');
        console.log(`imported ${plural(r.created.length + r.updated.length, 'variable')} (${r.created.length} created, ${r.updated.length} updated, ${r.skipped.length} skipped)`);
      }),
    );

  variables
    .command('export <file>')
    .description('every variable of the database as a JSON object, decrypted ("-": standard output; a file is made mode 0600)')
    .action((file) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const all = await q.exportVariables(rt.db.kysely, q.o);
        writeExport(file, `${JSON.stringify(all, null, 2)}\n`);
        if (file !== '-') console.log(`exported ${plural(Object.keys(all).length, 'variable')} to ${file}`);
      }),
    );

  const connections = program.command('connections').description('connections: credentials for external systems, read by tasks with ctx.connection');

  connections
    .command('add <connId>')
    .description('add a connection, from a URI (--conn-uri), Airflow JSON (--conn-json) or fields (--conn-type …)')
    .option('--conn-uri <uri>', 'type://login:password@host:port/schema?extra=… (percent-encode reserved characters)')
    .option('--conn-json <json>', 'Airflow\'s JSON form: {"conn_type": …, "host": …, "password": …, "extra": {…}}')
    .option('--conn-type <type>', 'postgres, http, aws, …')
    .option('--conn-host <host>')
    .option('--conn-port <port>')
    .option('--conn-login <login>')
    .option('--conn-password <password>', 'the password (visible in your shell history: prefer --conn-password-stdin)')
    .option('--conn-password-stdin', 'read the password from standard input')
    .option('--conn-schema <schema>')
    .option('--conn-extra <json>', 'a JSON object of extra fields')
    .option('--conn-description <text>')
    .option('--overwrite', 'replace a connection with that id')
    .action((connId, o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const forms = [o.connUri !== undefined && '--conn-uri', o.connJson !== undefined && '--conn-json', o.connType !== undefined && '--conn-type'].filter(Boolean);
        if (forms.length !== 1) throw new Error(`give exactly one of --conn-uri, --conn-json or --conn-type${forms.length ? ` (got ${forms.join(', ')})` : ''}`);
        const fieldOptions = { '--conn-host': o.connHost, '--conn-port': o.connPort, '--conn-login': o.connLogin, '--conn-password': o.connPassword, '--conn-schema': o.connSchema };
        let c;
        if (o.connType === undefined) {
          const clash = Object.entries({ ...fieldOptions, '--conn-password-stdin': o.connPasswordStdin }).filter(([, v]) => v !== undefined).map(([k]) => k);
          if (clash.length) throw new Error(`${clash.join(', ')} cannot be combined with ${forms[0]} (put them in it)`);
          c = o.connUri !== undefined ? q.parseConnectionUri(o.connUri, '--conn-uri') : q.parseConnectionValue(o.connJson!, '--conn-json');
          if (o.connExtra !== undefined) c.extra = { ...c.extra, ...q.checkExtra(o.connExtra, '--conn-extra') };
          if (o.connDescription !== undefined) c.description = o.connDescription;
        } else {
          if (o.connPassword !== undefined && o.connPasswordStdin) throw new Error('give --conn-password or --conn-password-stdin, not both');
          const password = o.connPasswordStdin ? (await readStdin()).replace(/\r?\n$/, '') : o.connPassword;
          c = q.connectionFromFields(
            { connType: o.connType, host: o.connHost, port: o.connPort, login: o.connLogin, password, schema: o.connSchema, extra: o.connExtra, description: o.connDescription },
            (f) => `--conn-${f === 'connType' ? 'type' : f}`,
          );
        }
        const { created } = await q.addConnection(rt.db.kysely, q.o, connId, c, { overwrite: !!o.overwrite });
        console.log(`connection ${connId} ${created ? 'added' : 'replaced'}${c.password !== null ? ` (password ${q.o.keyring.primaryId ? 'encrypted' : 'stored unencrypted: secrets.allowPlaintext'})` : ''}`);
      }),
    );

  connections
    .command('get <connId>')
    .description('a connection as a task gets it (FLOE_CONN_<ID>, a Kubernetes Secret, then the database); the password is shown as ***')
    .addOption(outputOption())
    .action((connId, o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const lookup = new q.SecretsLookup(rt.cfg, rt.db.kysely);
        const found = await lookup.connection(connId);
        if (!found) throw new Error(`connection "${connId}" is not defined (looked in ${lookup.connectionPlaces(connId)})`);
        const c = found.value;
        const m = (await import('../../secrets/masker.ts')).globalMasker();
        printRows(
          [
            {
              conn_id: connId,
              conn_type: c.connType,
              host: c.host,
              port: c.port,
              login: c.login,
              password: c.password === null ? null : '***',
              schema: c.schema,
              extra: m.redact(c.extra),
              description: c.description,
              uri: m.mask(c.uri),
              source: found.source,
            },
          ],
          o.output,
        );
      }),
    );

  connections
    .command('list')
    .description('the connections of the metadata database (never their passwords)')
    .addOption(outputOption())
    .action((o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const { rows } = await q.listConnections(rt.db.kysely, q.o);
        printRows(
          rows.map((r) => ({ conn_id: r.connId, conn_type: r.connType, host: r.host, port: r.port, login: r.login, schema: r.schema, has_password: r.hasPassword, description: r.description })),
          o.output,
        );
      }),
    );

  connections
    .command('delete <connId>')
    .action((connId) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        if (!(await q.deleteConnection(rt.db.kysely, connId))) throw new Error(`no connection "${connId}"`);
        console.log(`connection ${connId} deleted`);
      }),
    );

  connections
    .command('import <file>')
    .description('connections from a file: .json or .yaml ({"id": {"conn_type": …, …}}, Airflow\'s export) or .env (ID=URI lines)')
    .addOption(onExistingOption('skip'))
    .action((file, o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const { parseConnectionsFile } = await import('../../secrets/files.ts');
        const entries = parseConnectionsFile(file, readInput(file));
        const r = await q.importConnections(rt.db.kysely, q.o, entries, o.onExisting as 'overwrite' | 'skip' | 'fail');
        for (const id of r.skipped) process.stderr.write(`skipped ${id}: it exists (--on-existing overwrite replaces it)\n`);
        console.log(`imported ${plural(r.created.length + r.updated.length, 'connection')} (${r.created.length} added, ${r.updated.length} replaced, ${r.skipped.length} skipped)`);
      }),
    );

  connections
    .command('export <file>')
    .description('every connection of the database, decrypted, passwords included ("-": standard output; a file is made mode 0600)')
    .addOption(new Option('--format <format>', 'json, yaml or env (ID=URI lines); default: from the file name, else json').choices(['json', 'yaml', 'env'] as const))
    .action((file, o) =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const all = await q.allConnections(rt.db.kysely, q.o);
        const { formatConnections, formatOf } = await import('../../secrets/files.ts');
        const text = formatConnections(all, o.format ?? formatOf(file));
        writeExport(file, text);
        if (file !== '-') console.log(`exported ${plural(all.length, 'connection')} to ${file}`);
      }),
    );

  const secrets = program.command('secrets').description('the encryption keys of connection passwords and variables (secrets.key)');
  secrets
    .command('generate-key')
    .description('print a new random key for secrets.key (FLOE__SECRETS__KEY)')
    .action(async () => {
      const { generateKey } = await import('../../secrets/crypto.ts');
      console.log(generateKey());
    });
  secrets
    .command('rotate')
    .description('re-encrypt every variable and connection with the first key of secrets.key (and encrypt unencrypted ones)')
    .action(() =>
      withRuntime(async (rt) => {
        const q = await load(rt);
        const r = await q.rotateSecrets(rt.db.kysely, q.o);
        console.log(`re-encrypted with key ${q.o.keyring.primaryId}: ${plural(r.variables, 'variable')}, ${plural(r.connections, 'connection')} (${r.newlyEncrypted} were unencrypted)`);
        if (r.newlyEncrypted) {
          const problem = await q.scrubFreedPages(rt.db);
          if (problem) process.stderr.write(`warning: the database file may still hold the values that were unencrypted: rebuilding it failed: ${problem}\n`);
        }
        if (q.o.keyring.ids.length > 1) console.log(`nothing is encrypted with the other keys any more: remove ${q.o.keyring.ids.slice(1).join(', ')} from secrets.key when every process has the new one`);
      }),
    );

  const config = program.command('config').description('the effective configuration, with where each value comes from (secrets masked)');
  config
    .command('list')
    .description('every key: value and source (default, the config file, or the environment variable that set it)')
    .option('--section <name>', 'only this section')
    .addOption(outputOption())
    .action(async (o) => {
      const { effectiveConfig } = await import('./config-view.ts');
      const rows = effectiveConfig().filter((r) => !o.section || r.key.startsWith(`${o.section}.`));
      if (o.section && !rows.length) throw new Error(`no section "${o.section}"`);
      printRows(rows, o.output);
    });
  config
    .command('get <key>')
    .description('one key\'s effective value (section.key, e.g. core.parallelism); secrets are shown as ***')
    .option('--source', 'also print where it comes from')
    .action(async (key, o) => {
      const { effectiveConfig } = await import('./config-view.ts');
      const all = effectiveConfig();
      const row = all.find((r) => r.key === key);
      if (!row) {
        const section = key.split('.')[0];
        const keys = all.filter((r) => r.key.startsWith(`${section}.`)).map((r) => r.key);
        throw new Error(`no configuration key "${key}"${keys.length ? ` (${section} has: ${keys.join(', ')})` : ` (sections: ${[...new Set(all.map((r) => r.key.split('.')[0]))].join(', ')})`}`);
      }
      console.log(o.source ? `${row.value}\t(${row.source})` : row.value);
    });
}
