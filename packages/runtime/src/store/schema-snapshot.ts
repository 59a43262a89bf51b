import { z } from 'zod';
import { platformError } from 'carotene/model';

/** How a column is stored: the four kinds the table handles read and write on both engines. */
export type ColumnType = 'text' | 'integer' | 'real' | 'boolean';

/** A column's default, as SQL can spell it on both engines. */
export type ColumnDefault = string | number | boolean;

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  /** NULL allowed: the schema makes it optional or nullable. */
  readonly nullable: boolean;
  /** The schema's constant default; it fills the rows that exist when the column is added. */
  readonly default?: ColumnDefault;
}

export interface IndexSchema {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

export interface TableSchema {
  readonly name: string;
  readonly key: string;
  /** In the order the schema lists them. */
  readonly columns: readonly ColumnSchema[];
  /** By name. */
  readonly indexes: readonly IndexSchema[];
}

export const SNAPSHOT_FORMAT = 'carotene-schema/1';

/**
 * The tables of one service as a generated migration leaves them: written beside it as
 * `<migration>.schema.json`, and the starting point of the next `carrot migrations make`.
 * Tables are sorted by name so the same declarations always give the same file.
 */
export interface SchemaSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly service: string;
  readonly tables: readonly TableSchema[];
}

/** No tables: where a service without generated migrations starts. */
export function emptySnapshot(service: string): SchemaSnapshot {
  return { format: SNAPSHOT_FORMAT, service, tables: [] };
}

const Name = z.string().min(1);
const SnapshotFile = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  service: Name,
  tables: z.array(
    z.object({
      name: Name,
      key: Name,
      columns: z.array(
        z.object({
          name: Name,
          type: z.enum(['text', 'integer', 'real', 'boolean']),
          nullable: z.boolean(),
          default: z.union([z.string(), z.number(), z.boolean()]).optional(),
        }),
      ),
      indexes: z.array(z.object({ name: Name, columns: z.array(Name).min(1), unique: z.boolean() })),
    }),
  ),
});

/** Reads a snapshot file's text; `file` names it in the error when it is not one. */
export function parseSnapshot(text: string, file: string): SchemaSnapshot {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw platformError('INVALID_CONFIG', `${file} is not JSON (${(err as Error).message}); restore it from version control`);
  }
  const parsed = SnapshotFile.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw platformError('INVALID_CONFIG', `${file} is not a ${SNAPSHOT_FORMAT} snapshot${at}: ${issue?.message ?? 'invalid'}; restore it from version control`);
  }
  return parsed.data as SchemaSnapshot;
}

/**
 * The snapshot as written to disk: stable key order, one line per column and per index, so
 * a change to a table reads as a change to its lines in review.
 */
export function renderSnapshot(snapshot: SchemaSnapshot): string {
  const line = (value: object) =>
    `{ ${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
      .join(', ')} }`;
  const list = (items: readonly object[]) => (items.length === 0 ? '[]' : `[\n${items.map((i) => `        ${line(i)}`).join(',\n')}\n      ]`);
  const tables = snapshot.tables.map(
    (t) =>
      `    {\n      "name": ${JSON.stringify(t.name)},\n      "key": ${JSON.stringify(t.key)},\n      "columns": ${list(t.columns)},\n      "indexes": ${list(t.indexes)}\n    }`,
  );
  const body = tables.length === 0 ? '[]' : `[\n${tables.join(',\n')}\n  ]`;
  return `{\n  "format": ${JSON.stringify(snapshot.format)},\n  "service": ${JSON.stringify(snapshot.service)},\n  "tables": ${body}\n}\n`;
}
