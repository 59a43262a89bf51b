import { parseArgs } from 'node:util';
import { isCaroteneError } from 'carotene/model';
import { schemaChanges, changesSlug, type SchemaChange } from '@carotene/runtime/store';
import { declaredSchema } from '@carotene/runtime/store';
import { emptySnapshot, renderSnapshot, type SchemaSnapshot } from '@carotene/runtime/store';
import { schemaSql } from '@carotene/runtime/store';
import { findAppFile, loadApp } from '../app-module.ts';
import { CliError, parseOrUsage, UsageError, type CliIo, type Command } from '../command.ts';
import { migrationsDir, nextMigrationName, readMigrationFolder, writeMigration } from '../migration-folder.ts';
import { shownPath } from '../shown-path.ts';

const USAGE = `Usage: carrot migrations make <service> [appDir] [options]

Compares the tables the service declares (their columns, keys and indexes) with the
snapshot the previous generated migration recorded, and writes the next migration: SQL for
SQLite and for PostgreSQL in <NNNN>_<name>.ts, the tables it leaves in
<NNNN>_<name>.schema.json beside it, and index.ts listing every migration of the folder.
It creates and drops tables, adds and drops columns and indexes. A change it cannot make
safely (a column's type, nullability or the key; a required column without a default) fails
and names it: write that migration by hand. When nothing changed it writes nothing.

Arguments:
  service        The service whose tables changed
  appDir         Folder with app.ts or carotene.app.ts, or the app module (default .)

Options:
  --name <slug>  Name after the number (default from the change, e.g. add_orders_status)
  --dir <dir>    The service's migrations folder (default migrations/ beside its service module)
  --baseline     Record the declared tables without SQL, for tables that hand-written
                 migrations made already (the service checks that at start)
  -h, --help     Show this help`;

export const migrations: Command = {
  name: 'migrations',
  summary: 'Write the next migration of a service from its declared tables: make',
  usage: USAGE,
  run: runMigrations,
};

async function runMigrations(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOrUsage(() =>
    parseArgs({ args: [...argv], allowPositionals: true, options: { name: { type: 'string' }, dir: { type: 'string' }, baseline: { type: 'boolean' } } }),
  );
  const [action, service, target, ...rest] = positionals;
  if (action !== 'make') throw new UsageError(action === undefined ? 'expected a sub-command: make' : `unknown sub-command '${action}'; expected make`);
  if (service === undefined) throw new UsageError('make needs the name of a service');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (values.name !== undefined && !/^[A-Za-z0-9_]{1,48}$/.test(values.name)) throw new UsageError('--name must be 1-48 letters, digits or _');
  const baseline = values.baseline === true;

  const app = await loadApp(findAppFile(target ?? '.'));
  const def = app.services.find((s) => s.name === service);
  if (!def) throw new CliError(`app '${app.name}' has no service '${service}' (it has: ${app.services.map((s) => s.name).join(', ')})`);
  if (def.kind === 'external') throw new CliError(`'${service}' is an external service: Carotene does not own its tables or write its migrations`);
  const folder = readMigrationFolder(values.dir ?? migrationsDir(app, def));
  const from = folder.latest ? `${folder.latest.name}.schema.json` : 'no generated migration';
  const { after, changes } = caroteneErrorsAsCli(() => {
    if (folder.latest && folder.latest.snapshot.service !== service) {
      throw new CliError(`${shownPath(folder.dir)} holds the migrations of service '${folder.latest.snapshot.service}', not '${service}'`);
    }
    const after = declaredSchema(service, def.stores);
    const before = folder.latest?.snapshot ?? emptySnapshot(service);
    // a baseline runs nothing, so a change only a hand-written migration could make is fine there
    if (baseline) return { after, changes: renderSnapshot(before) === renderSnapshot(after) ? [] : baselineOf(after) };
    return { after, changes: schemaChanges(before, after) };
  });
  if (changes.length === 0) {
    io.out(`carrot migrations: the tables of '${service}' are as ${from} left them; nothing to write`);
    return 0;
  }

  const slug = values.name ?? (baseline ? 'baseline' : folder.latest || folder.names.length > 0 ? changesSlug(changes) : 'init');
  const name = nextMigrationName(folder, slug);
  // a baseline's statements ran already, in the hand-written migrations before it
  const sqlOf = (engine: 'sqlite' | 'postgres') => (baseline ? [] : schemaSql(changes, engine));
  const written = await writeMigration(folder, name, after, { sqlite: sqlOf('sqlite'), postgres: sqlOf('postgres') });
  io.out(`carrot migrations: ${name} for '${service}' (from ${from})${baseline ? ', a baseline without SQL, of:' : ':'}`);
  for (const c of changes) io.out(`  ${describe(c)}`);
  for (const file of written) io.out(`  wrote ${shownPath(file)}`);
  const declared = Object.keys(def.migrations);
  if (declared.join(',') !== folder.names.join(',')) {
    io.out(
      `note: service '${service}' does not take its migrations from ${shownPath(written[2]!)} yet; pass them to implement(): import { migrations } from './migrations/index.ts'`,
    );
  }
  return 0;
}

function describe(c: SchemaChange): string {
  switch (c.kind) {
    case 'createTable':
      return `create table ${c.table.name} (${count(c.table.columns.length, 'column')}, ${count(c.table.indexes.length, 'index', 'indexes')})`;
    case 'dropTable':
      return `drop table ${c.table} (its rows are lost)`;
    case 'addColumn':
      return `add column ${c.table}.${c.column.name}`;
    case 'dropColumn':
      return `drop column ${c.table}.${c.column} (its values are lost)`;
    case 'createIndex':
      return `create ${c.index.unique ? 'unique ' : ''}index ${c.index.name} on ${c.table} (${c.index.columns.join(', ')})`;
    case 'dropIndex':
      return `drop index ${c.index}`;
  }
}

/** What a baseline records, shown as the tables it describes. */
const baselineOf = (snapshot: SchemaSnapshot): SchemaChange[] => snapshot.tables.map((table) => ({ kind: 'createTable', table }));

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A declaration or diff error is the user's to fix: shown with its code, without a stack. */
function caroteneErrorsAsCli<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (isCaroteneError(err)) throw new CliError(`${err.code}: ${err.message}`);
    throw err;
  }
}
