// Events end to end (commit → subscriber done) through the outbox, relay and inbox, beside a
// raw JetStream publish → consume loop measured in the same run.
// Usage: node --import tsx bench/events.ts [--events 4000] [--rate 500] [--seconds 5]
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { EventSettings } from '../packages/runtime/src/service/event-host.ts';
import { openStore } from '../packages/runtime/src/store/driver.ts';
import { Cluster, type Opened } from '../packages/runtime/test/events/cluster.ts';
import { eventsApp } from '../packages/runtime/test/events/fixture.ts';
import { loadLine, machineLine } from './lib/machine.ts';
import { percentile } from './lib/stats.ts';

const { values } = parseArgs({ options: { events: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' } } });
const TOTAL = Number(values.events ?? 4000);
const RATE = Number(values.rate ?? 500);
const SECONDS = Number(values.seconds ?? 5);
const CONCURRENCY = 32;
const PG = process.env.CAROTENE_TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const NATS = process.env.CAROTENE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

interface Result {
  readonly name: string;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

const created: string[] = [];
async function pgOpener(): Promise<(service: string) => Promise<Opened>> {
  const admin = await openStore({ url: PG });
  const run = randomBytes(4).toString('hex');
  return async (service) => {
    const database = `carotene_bench_${run}_${service.replace(/-/g, '_')}`;
    if (!created.includes(database)) {
      await sql`create database ${sql.id(database)}`.execute(admin.db);
      created.push(database);
    }
    const url = new URL(PG);
    url.pathname = `/${database}`;
    return { store: await openStore({ url: url.href }), url: url.href };
  };
}

function sqliteOpener(): (service: string) => Promise<Opened> {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-bench-events-'));
  return async (service) => ({ store: await openStore({ file: join(dir, `${service}.sqlite`) }) });
}

/** How many events sub-a has handled, and when each was done (ms since epoch). */
async function handled(c: Cluster): Promise<Map<number, number>> {
  const rows = await c.rows('sub-a', 'seen');
  return new Map(rows.map((r) => [Number(r.seq), Number(r.at)]));
}

async function waitFor(c: Cluster, count: number, timeoutMs = 120_000): Promise<Map<number, number>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const seen = await handled(c);
    if (seen.size >= count) return seen;
    if (Date.now() > until) throw new Error(`only ${seen.size} of ${count} events arrived`);
    await sleep(20);
  }
}

/** Throughput (as fast as it goes) and latency at a fixed rate, through Carotene's events. */
async function carotene(name: string, settings: EventSettings, open: (service: string) => Promise<Opened>): Promise<Result> {
  const app = eventsApp(`bench-${randomBytes(3).toString('hex')}`);
  // the subscriber in the fixture stamps `at` in ms; one subscriber more (sub-b) makes it a fan-out
  const c = new Cluster(app, settings, open);
  await c.startAll();
  try {
    // throughput: commits from 32 concurrent callers, until the subscriber has them all
    let next = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let n = next++; n < TOTAL; n = next++) await c.call('shopfront', 'place', { orderId: `k${n % 64}`, seq: n, qty: 1 });
      }),
    );
    await waitFor(c, TOTAL);
    const perSecond = TOTAL / ((now() - t0) / 1000);

    // latency: a fixed rate, each event's commit time against its handled time
    const committed = new Map<number, number>();
    const count = RATE * SECONDS;
    const interval = 1000 / RATE;
    const start = now();
    const calls: Promise<void>[] = [];
    let failed = 0;
    for (let i = 0; i < count; i++) {
      const at = start + i * interval;
      const wait = at - now();
      if (wait > 1) await sleep(wait);
      const n = TOTAL + i;
      calls.push(
        c.call('shopfront', 'place', { orderId: `k${n % 64}`, seq: n, qty: 1 }).then(
          () => void committed.set(n, now()),
          () => void failed++,
        ),
      );
    }
    await Promise.all(calls);
    if (failed > 0) console.error(`${name}: ${failed} of ${count} publishes failed (the rate is over what this machine sustains)`);
    const seen = await waitFor(c, TOTAL + count - failed);
    const latencies = [...committed].map(([n, t]) => Math.max(0, seen.get(n)! - t));
    const result = { name, perSecond, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await c.close();
  }
}

/** The broker alone: publish with ack, consume with ack, on one connection each. */
async function rawJetStream(): Promise<Result> {
  const pub = await connect({ servers: NATS });
  const sub = await connect({ servers: NATS });
  const jsm = await jetstreamManager(pub);
  const stream = `BENCH_RAW_${randomBytes(3).toString('hex').toUpperCase()}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit });
  const js = jetstream(pub);
  const received = new Map<number, number>();
  const messages = await jetstream(sub)
    .consumers.get(stream, 'raw')
    .then((c) => c.consume({ max_messages: 512 }));
  const done = (async () => {
    for await (const m of messages) {
      received.set(Number((JSON.parse(m.string()) as { n: number }).n), now());
      m.ack();
    }
  })();
  const waitCount = async (count: number) => {
    const until = Date.now() + 60_000;
    while (received.size < count && Date.now() < until) await sleep(5);
  };
  try {
    let next = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let n = next++; n < TOTAL; n = next++) await js.publish(`${stream}.k${n % 64}`, JSON.stringify({ n }), { msgID: `m${n}` });
      }),
    );
    await waitCount(TOTAL);
    const perSecond = TOTAL / ((now() - t0) / 1000);
    const sent = new Map<number, number>();
    const count = RATE * SECONDS;
    const start = now();
    const pubs: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const wait = start + (i * 1000) / RATE - now();
      if (wait > 1) await sleep(wait);
      const n = TOTAL + i;
      sent.set(n, now());
      pubs.push(js.publish(`${stream}.k${n % 64}`, JSON.stringify({ n }), { msgID: `m${n}` }));
    }
    await Promise.all(pubs);
    await waitCount(TOTAL + count);
    const latencies = [...sent].map(([n, t]) => received.get(n)! - t);
    const result = { name: 'raw JetStream publish → consume (no database)', perSecond, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    messages.stop();
    await done.catch(() => undefined);
    await jsm.streams.delete(stream);
    await pub.close();
    await sub.close();
  }
}

const results: Result[] = [];
results.push(await carotene('direct + SQLite', { transport: 'direct' }, sqliteOpener()));
results.push(await carotene('direct + PostgreSQL', { transport: 'direct' }, await pgOpener()));
results.push(await carotene('JetStream + PostgreSQL', { transport: 'nats', url: NATS }, await pgOpener()));
results.push(await rawJetStream());

const admin = await openStore({ url: PG });
for (const db of created) await sql`drop database if exists ${sql.id(db)} with (force)`.execute(admin.db);
await admin.close();

const f = (n: number) => n.toFixed(1);
console.log(`\nMachine: ${machineLine()}; ${loadLine()}`);
console.log(`Throughput: ${TOTAL} events from ${CONCURRENCY} concurrent publishers; latency: ${RATE}/s for ${SECONDS} s\n`);
console.log('| path | events/s end to end | p50 at ' + RATE + '/s | p99 at ' + RATE + '/s |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of results) console.log(`| ${r.name} | ${Math.round(r.perSecond).toLocaleString('en')} | ${f(r.p50)} ms | ${f(r.p99)} ms |`);
process.exit(0);
