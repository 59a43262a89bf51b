// The machinery behind `ctx.store`: drivers, migrations and permission-checked handles.
export { openStore, type PostgresEngine, type StoreDriver, type StoreEngine, type StoreOptions } from './driver.ts';
export { migrate, pendingMigrations } from './migrations.ts';
export { createStoreAccess, fullAccess, type TableAccess } from './store-access.ts';
export { conflictError, isUniqueViolation } from './store-errors.ts';
export { TableHandle, type HandleMode } from './table-handle.ts';

export { changesSlug, schemaChanges, type SchemaChange } from './schema-changes.ts';
export { declaredSchema } from './schema-declared.ts';
export { emptySnapshot, parseSnapshot, renderSnapshot, type SchemaSnapshot } from './schema-snapshot.ts';
export { schemaSql } from './schema-sql.ts';
