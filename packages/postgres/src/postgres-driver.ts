import type { AnyTables } from 'carotene/model';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { platformError } from 'carotene/model';
import type { StoreDriver } from '@carotene/runtime/store';

const INT8 = 20;
const INT8_ARRAY = 1016;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * int8 (`bigint`, `count(*)`) as JS numbers, as the row schemas expect. Set on this pool
 * only: pg's global parsers belong to whoever else shares the process. Values past 2^53
 * lose precision, so keys that large belong in text columns.
 */
const builtin = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => (value: string) => unknown;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === undefined || format === 'text') {
      if (oid === INT8) return (value: string) => Number(value);
      if (oid === INT8_ARRAY) {
        const parseArray = builtin(INT8_ARRAY);
        return (value: string) => toNumbers(parseArray(value));
      }
    }
    return builtin(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function toNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toNumbers);
  return typeof value === 'string' ? Number(value) : value;
}

/** `host:port/database` of a URL, for messages; never the user's password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return '(an unparsable url)';
  }
}

/** Opens a pool on one service's PostgreSQL database and checks that it answers. */
export async function openPostgres(url: string): Promise<StoreDriver> {
  const where = describeUrl(url);
  if (where.startsWith('(')) throw platformError('INVALID_CONFIG', 'the PostgreSQL store url is not a valid URL');
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, types });
  // an idle connection that dies (server restart) must not crash the process; the next query reports it
  pool.on('error', () => {});
  const unavailable = (cause: unknown) =>
    platformError('UNAVAILABLE', `PostgreSQL not reachable at ${where}: ${(cause as Error).message || String(cause)}`, { cause });

  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end().catch(() => {});
    throw unavailable(cause);
  }

  const db = new Kysely<AnyTables>({ dialect: new PostgresDialect({ pool }) });
  let closed: Promise<void> | undefined;
  return {
    kind: 'postgres',
    db,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (cause) {
        throw unavailable(cause);
      }
    },
    close() {
      closed ??= db.destroy();
      return closed;
    },
  };
}
