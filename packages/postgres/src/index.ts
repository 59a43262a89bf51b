// @carotene/postgres: PostgreSQL behind the runtime's store seam (one database per service)
// and the LISTEN/NOTIFY wake-ups of its outbox relay. Loaded by the runtime when a service's
// database URL is postgres://; an app on SQLite does not install it.
export { describeUrl, openPostgres } from './postgres-driver.ts';
export { listen } from './pg-listener.ts';
