import type { Migration } from 'carotene';

export const migrations: Record<string, Migration> = {
  '0001_init': {
    async up(db) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('passwordHash', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('createdAt', 'text', (c) => c.notNull())
        .execute();
      // Registration races are settled here, not by the read-before-insert in `register`.
      await db.schema.createIndex('users_email_unique').unique().on('users').column('email').execute();
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('privateJwk', 'text', (c) => c.notNull())
        .addColumn('publicJwk', 'text', (c) => c.notNull())
        .addColumn('createdAt', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
