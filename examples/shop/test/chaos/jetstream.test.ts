import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventsChaos } from './events-chaos.ts';

const url = process.env.CAROTENE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

async function reachable(): Promise<true | string> {
  try {
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: url, timeout: 2000, reconnect: false });
    await nc.close();
    return true;
  } catch (err) {
    return `NATS not reachable at ${url}: ${(err as Error).message}`;
  }
}

test('events survive SIGKILL of publisher and consumers and cut broker connections: JetStream', { timeout: 240_000 }, async (t) => {
  const ok = await reachable();
  if (ok !== true) {
    if (process.env.CI === 'true') assert.fail(`CI=true but ${ok}`);
    t.skip(ok);
    return;
  }
  await eventsChaos({ orders: 60, nats: url, log: (line) => t.diagnostic(line) });
});
