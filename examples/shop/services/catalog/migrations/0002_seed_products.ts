// Hand-written: a data migration, so every fresh database of the shop starts with the same range.
import type { Migration } from 'carotene';
import { SEED_PRODUCTS } from '../seed.ts';

export const migration: Migration = {
  async up(db) {
    const createdAt = '2026-01-01T00:00:00.000Z';
    await db
      .insertInto('products')
      .values(SEED_PRODUCTS.map((p) => ({ ...p, createdAt })))
      .execute();
  },
};
