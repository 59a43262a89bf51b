import { implementedServices } from 'carotene/model';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppDef } from 'carotene/model';
import type { ServiceDef, SqlMigration } from 'carotene/model';
import { parseSnapshot, renderSnapshot, type SchemaSnapshot } from '@carotene/runtime/store';
import { CliError } from './command.ts';
import { MIGRATION_FILE, renderIndexModule, renderMigrationModule, snapshotFile } from './migration-module.ts';

/** One service's migrations folder, as read from disk. */
export interface MigrationFolder {
  readonly dir: string;
  /** Every migration module's name (`0001_init`), in the order they run. */
  readonly names: readonly string[];
  /** The last generated migration's name and the snapshot beside it, if there is one. */
  readonly latest: { readonly name: string; readonly snapshot: SchemaSnapshot } | undefined;
}

/**
 * Where a service's migrations live: `migrations/` beside the file that calls `implement`.
 * Two services declared in one folder would share it, so then `--dir` is needed.
 */
export function migrationsDir(app: AppDef, def: ServiceDef): string {
  const folder = (s: ServiceDef) => (s.source ? dirname(s.source.replace(/:\d+$/, '')) : undefined);
  const own = folder(def);
  if (!own) throw new CliError(`cannot tell where service '${def.name}' is declared; pass --dir <folder> for its migrations`);
  const sharing = implementedServices(app)
    .filter((s) => s !== def && folder(s) === own)
    .map((s) => s.name);
  if (sharing.length > 0) {
    throw new CliError(
      `services '${def.name}' and '${sharing.join("', '")}' are declared in one folder (${own}); pass --dir <folder> so their migrations stay apart`,
    );
  }
  return join(own, 'migrations');
}

/** Reads a migrations folder; one that does not exist yet is empty. */
export function readMigrationFolder(dir: string): MigrationFolder {
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  const names = files.flatMap((f) => (MIGRATION_FILE.test(f) ? [f.slice(0, -'.ts'.length)] : []));
  const generated = names.filter((n) => files.includes(snapshotFile(n)));
  const last = generated.at(-1);
  if (last === undefined) return { dir, names, latest: undefined };
  const file = join(dir, snapshotFile(last));
  return { dir, names, latest: { name: last, snapshot: parseSnapshot(readFileSync(file, 'utf8'), file) } };
}

/** The next name: one more than the highest number in the folder, then `slug`. */
export function nextMigrationName(folder: MigrationFolder, slug: string): string {
  const highest = Math.max(0, ...folder.names.map((n) => Number(n.slice(0, 4))));
  if (highest >= 9999) throw new CliError(`${folder.dir} has migration 9999 already; there is no number after it`);
  return `${String(highest + 1).padStart(4, '0')}_${slug}`;
}

/** Writes the migration module, its snapshot and the folder's index; resolves with the files written. */
export async function writeMigration(folder: MigrationFolder, name: string, snapshot: SchemaSnapshot, migration: SqlMigration): Promise<string[]> {
  await mkdir(folder.dir, { recursive: true });
  const written = [join(folder.dir, `${name}.ts`), join(folder.dir, snapshotFile(name)), join(folder.dir, 'index.ts')];
  await writeFile(written[0]!, renderMigrationModule(name, snapshot.service, migration));
  await writeFile(written[1]!, renderSnapshot(snapshot));
  await writeFile(written[2]!, renderIndexModule([...folder.names, name]));
  return written;
}
