import type { Migration } from 'carotene';

export const migrations: Record<string, Migration> = {
  '0001_init': {
    async up(db) {
      await db.schema
        .createTable('payments')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('orderId', 'text', (c) => c.notNull())
        .addColumn('amount', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('createdAt', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('payments_order').on('payments').column('orderId').execute();
    },
  },
};
