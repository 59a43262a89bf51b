import type { Migration } from 'carotene';
import { SEED_PRODUCTS } from './seed.ts';

export const migrations: Record<string, Migration> = {
  '0001_init': {
    async up(db) {
      await db.schema
        .createTable('products')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('price', 'integer', (c) => c.notNull())
        .addColumn('stock', 'integer', (c) => c.notNull())
        .addColumn('createdAt', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('reservations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('orderId', 'text', (c) => c.notNull())
        .addColumn('productId', 'text', (c) => c.notNull())
        .addColumn('qty', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('reservations_order').on('reservations').column('orderId').execute();
    },
  },
  // A data migration, so every fresh database of the shop starts with the same range.
  '0002_seed_products': {
    async up(db) {
      const createdAt = '2026-01-01T00:00:00.000Z';
      await db
        .insertInto('products')
        .values(SEED_PRODUCTS.map((p) => ({ ...p, createdAt })))
        .execute();
    },
  },
  '0003_sold': {
    async up(db) {
      await db.schema.alterTable('products').addColumn('sold', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
};
