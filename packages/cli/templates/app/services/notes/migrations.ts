import type { Migration } from 'carotene';

/** Versioned schema changes, applied in name order at start (SQLite here, PostgreSQL in production). */
export const migrations: Record<string, Migration> = {
  '0001_notes': {
    async up(db) {
      await db.schema
        .createTable('notes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('createdAt', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
