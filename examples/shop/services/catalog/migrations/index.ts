// Rewritten by `carrot migrations make`: every migration module of this folder, in the order they run.
// A hand-written one (export const migration: Migration = { async up(db) { ... } }) is listed too.
import type { Migration } from 'carotene';
import { migration as m0001_init } from './0001_init.ts';
import { migration as m0002_seed_products } from './0002_seed_products.ts';
import { migration as m0003_sold } from './0003_sold.ts';

export const migrations: Record<string, Migration> = {
  '0001_init': m0001_init,
  '0002_seed_products': m0002_seed_products,
  '0003_sold': m0003_sold,
};
