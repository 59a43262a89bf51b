import { test } from 'node:test';
import { eventsChaos } from './events-chaos.ts';

test('events survive SIGKILL of publisher and consumers: direct delivery', { timeout: 240_000 }, async (t) => {
  await eventsChaos({ orders: 60, log: (line) => t.diagnostic(line) });
});
