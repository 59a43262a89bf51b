import { platformError, type CaroteneError } from 'carotene/model';

const SQLITE_UNIQUE = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);
const POSTGRES_UNIQUE = '23505';

/** True when a database error says a write broke a unique constraint (either engine). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === POSTGRES_UNIQUE || (typeof code === 'string' && SQLITE_UNIQUE.has(code));
}

/**
 * The CONFLICT a unique violation becomes, naming the table. The engine's own message names
 * the column (SQLite) or the constraint (PostgreSQL) but never the clashing values.
 */
export function conflictError(err: unknown, table: string, owner: string): CaroteneError {
  const why = (err as Error).message;
  return platformError('CONFLICT', `${owner}: a row in '${table}' already has this value (${why})`, {
    details: { table },
    cause: err,
  });
}
