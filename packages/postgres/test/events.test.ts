import { randomBytes } from 'node:crypto';
import { openStore } from '../../runtime/src/store/driver.ts';
import { Cluster } from '../../runtime/test/events/cluster.ts';
import { eventsApp } from '../../runtime/test/events/fixture.ts';
import { eventsSuite } from '../../runtime/test/events/events-suite.ts';
import { natsUrl, natsReachable } from '../../jetstream/test/nats.ts';
import { connectAdmin, missingServer, scratchDatabases } from '../../runtime/test/support/postgres.ts';

const connected = await connectAdmin();

if ('unreachable' in connected) {
  missingServer('events on postgres', `PostgreSQL not reachable: ${connected.unreachable}`);
} else {
  const database = scratchDatabases(connected.admin);
  // each service of each test gets a fresh database, as each service has its own in production
  // (a restarted service opens the same database again)
  const opener = () => {
    const run = randomBytes(5).toString('hex');
    return (service: string) => open(`carotene_ev_${run}_${service.replace(/-/g, '_')}`);
  };
  const open = async (name: string) => {
    const url = await database(name);
    return { store: await openStore({ url }), url };
  };
  eventsSuite('direct delivery, PostgreSQL', async () => new Cluster(eventsApp('events-test'), { transport: 'direct' }, opener()));

  const nats = await natsReachable();
  if (nats === true) {
    eventsSuite(
      'NATS JetStream, PostgreSQL',
      async () => new Cluster(eventsApp(`events-${randomBytes(4).toString('hex')}`), { transport: 'nats', url: natsUrl }, opener()),
    );
  } else {
    missingServer('events through JetStream on postgres', nats);
  }
}
