import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { openStore, type StoreDriver } from '../../src/store/driver.ts';
import { Cluster } from './cluster.ts';
import { eventsApp } from './fixture.ts';
import { eventsSuite } from './events-suite.ts';
import { natsUrl, natsReachable } from './nats.ts';

const adminUrl = process.env.CAROTENE_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';

let admin: StoreDriver | undefined;
let unreachable: string | undefined;
try {
  admin = await openStore({ url: adminUrl });
} catch (err) {
  unreachable = (err as Error).message;
}

if (admin === undefined) {
  test('events on postgres', (t) => {
    if (process.env.CI === 'true') assert.fail(`CI=true but PostgreSQL is not reachable: ${unreachable}`);
    t.skip(`PostgreSQL not reachable: ${unreachable}`);
  });
} else {
  const server = admin;
  const created: string[] = [];
  after(async () => {
    for (const db of created) await sql`drop database if exists ${sql.id(db)} with (force)`.execute(server.db);
    await server.close();
  });
  // each service of each test gets a fresh database, as each service has its own in production
  // (a restarted service opens the same database again)
  const opener = () => {
    const run = randomBytes(5).toString('hex');
    return (service: string) => open(`carotene_ev_${run}_${service.replace(/-/g, '_')}`);
  };
  const open = async (database: string) => {
    if (!created.includes(database)) {
      await sql`create database ${sql.id(database)}`.execute(server.db);
      created.push(database);
    }
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    return { store: await openStore({ url: url.href }), url: url.href };
  };
  eventsSuite('direct delivery, PostgreSQL', async () => new Cluster(eventsApp('events-test'), { transport: 'direct' }, opener()));

  const nats = await natsReachable();
  if (nats === true) {
    eventsSuite('NATS JetStream, PostgreSQL', async () =>
      new Cluster(eventsApp(`events-${randomBytes(4).toString('hex')}`), { transport: 'nats', url: natsUrl }, opener()),
    );
  } else {
    test('events through JetStream on postgres', (t) => {
      if (process.env.CI === 'true') assert.fail(`CI=true but ${nats}`);
      t.skip(nats);
    });
  }
}
