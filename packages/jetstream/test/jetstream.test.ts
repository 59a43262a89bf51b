import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../runtime/src/store/driver.ts';
import { Cluster } from '../../runtime/test/events/cluster.ts';
import { eventsApp } from '../../runtime/test/events/fixture.ts';
import { eventsSuite } from '../../runtime/test/events/events-suite.ts';
import { natsReachable, natsUrl } from './nats.ts';

const nats = await natsReachable();
if (nats === true) {
  eventsSuite('NATS JetStream, SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carotene-events-js-'));
    // a fresh app name is a fresh stream and fresh durable consumers
    return new Cluster(eventsApp(`events-${randomBytes(4).toString('hex')}`), { transport: 'nats', url: natsUrl }, async (service) => ({
      store: await openStore({ file: join(dir, `${service}.sqlite`) }),
    }));
  });
} else {
  test('events through JetStream', (t) => {
    if (process.env.CI === 'true') assert.fail(`CI=true but ${nats}`);
    t.skip(nats);
  });
}
