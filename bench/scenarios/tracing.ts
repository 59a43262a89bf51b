// Tracing: what spans cost on one internal call (mTLS, validation, deadline, call log, metrics),
// in one run: no tracer at all, tracing off (the default: trace ids only, nothing recorded),
// and tracing on, exporting every span over OTLP/HTTP JSON to a local collector. Each mode
// is one server process and the matching tracer in this (client) process.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callIntegration } from '../../packages/runtime/src/service/call-clients.ts';
import { tlsFiles } from '../../packages/runtime/src/security/cert-paths.ts';
import { ensureCertificates } from '../../packages/runtime/src/security/cert-store.ts';
import { fixedCredentials, readCredentials } from '../../packages/runtime/src/security/credentials.ts';
import { startTracing, type Tracing } from '../../packages/runtime/src/telemetry/tracing.ts';
import { HttpTransport } from '../../packages/runtime/src/transport/http-transport.ts';
import type { CallMeta } from '../../packages/runtime/src/transport/transport.ts';
import { startChild, type ChildServer } from '../lib/child-server.ts';
import { concurrent, joinSamples, sequential, throughput, type LoadResult } from '../lib/load.ts';
import type { Scenario } from '../lib/scenario.ts';
import { median, ms, perSecond, percentile, ratio } from '../lib/stats.ts';
import { markdownTable } from '../lib/table.ts';
import { Echo } from './echo-app.ts';
import { PAYLOADS } from './payloads.ts';

const server = new URL('../servers/carotene.ts', import.meta.url).pathname;

/** Bounds of every loop: calls and seconds. */
const LIMITS = {
  warmup: { count: 2_000, maxMs: 4_000 },
  latency: { rounds: 4, count: 4_000, maxMs: 10_000 },
  throughput: { rounds: 5, inFlight: 100, count: 100_000, maxMs: 2_000 },
};

type Mode = 'none' | 'off' | 'on';
const MODES: ReadonlyArray<{ mode: Mode; name: string }> = [
  { mode: 'none', name: 'no tracer set up (OpenTelemetry API no-op)' },
  { mode: 'off', name: 'tracing off: the default without a collector (ids in logs and headers, nothing recorded)' },
  { mode: 'on', name: 'tracing on: every span recorded and exported (OTLP/HTTP JSON, batched)' },
];

/** A collector that accepts OTLP/HTTP JSON and counts what it got, without parsing it. */
async function collector(): Promise<{ url: string; bytes: () => number; server: Server }> {
  let bytes = 0;
  const s = createServer((req, res) => {
    req.on('data', (d: Buffer) => (bytes += d.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, bytes: () => bytes, server: s };
}

interface Contender {
  readonly mode: Mode;
  readonly child: ChildServer;
  readonly transport: HttpTransport;
}

let counter = 0;
const meta = (): CallMeta => ({ caller: 'client', requestId: `bench-${++counter}`, deadline: Date.now() + 10_000 });

export const tracing: Scenario = {
  name: 'tracing',
  describe: 'one internal call with no tracer, tracing off (default) and tracing on exporting to a local collector',
  async run(log) {
    const dataDir = mkdtempSync(join(tmpdir(), 'carotene-bench-tracing-'));
    await ensureCertificates(dataDir, 'bench', ['echo', 'client']);
    const otlp = await collector();
    const tls = fixedCredentials(readCredentials(tlsFiles(dataDir, 'client')));
    const contenders: Contender[] = [];
    let clientTracing: Tracing | undefined;
    // the client's tracer matches the server's mode while that contender runs
    const use = async (mode: Mode) => {
      await clientTracing?.shutdown();
      clientTracing = mode === 'none' ? undefined : startTracing({ service: 'client', endpoint: mode === 'on' ? otlp.url : undefined });
    };
    try {
      for (const { mode } of MODES) {
        const child = await startChild(server, { BENCH_DATA_DIR: dataDir, BENCH_TRACING: mode === 'on' ? otlp.url : mode });
        const registry = { app: 'bench', gateway: { url: 'https://127.0.0.1:1' }, services: { echo: { url: String(child.info.url) } } };
        contenders.push({ mode, child, transport: new HttpTransport({ caller: 'client', registry, tls }) });
      }
      const payload = PAYLOADS['100B'];
      const callOf = (c: Contender) => () => callIntegration(c.transport, Echo, 'echo', payload, undefined, meta(), 'client');
      for (const c of contenders) {
        await use(c.mode);
        await sequential(callOf(c), LIMITS.warmup);
      }
      const latency: LoadResult[][] = contenders.map(() => []);
      const rates: number[][] = contenders.map(() => []);
      // rounds interleave the modes so that drift of the machine hits them all alike
      for (let round = 0; round < LIMITS.latency.rounds; round++) {
        for (const [i, c] of contenders.entries()) {
          await use(c.mode);
          latency[i]!.push(await sequential(callOf(c), LIMITS.latency));
        }
      }
      for (let round = 0; round < LIMITS.throughput.rounds; round++) {
        for (const [i, c] of contenders.entries()) {
          await use(c.mode);
          const r = await concurrent(callOf(c), LIMITS.throughput);
          if (r.errors > 0) log(`  ${c.mode}: ${r.errors} errors, first: ${String(r.firstError)}`);
          rates[i]!.push(r.errors > 0 ? Number.NaN : throughput(r));
        }
      }
      await use('none');
      const figures = contenders.map((c, i) => {
        const samples = joinSamples(latency[i]!);
        const f = { p50: percentile(samples, 50), p99: percentile(samples, 99), rate: median(rates[i]!) };
        log(`  ${c.mode}: p50 ${ms(f.p50)}, p99 ${ms(f.p99)} over ${samples.length} calls; ${perSecond(f.rate)} with ${LIMITS.throughput.inFlight} in flight`);
        return f;
      });
      for (const c of contenders.splice(0)) {
        await c.transport.close();
        await c.child.stop();
      }
      const exported = otlp.bytes();
      log(`  collector received ${(exported / 1e6).toFixed(1)} MB of OTLP JSON`);
      const base = figures[0]!;
      const off = figures[1]!;
      const rows = MODES.map((m, i) => {
        const f = figures[i]!;
        return [m.name, ms(f.p50), ms(f.p99), ratio(f.p50, base.p50), `+${ms(Math.max(0, f.p50 - base.p50))}`, perSecond(f.rate), ratio(f.rate, base.rate)];
      });
      const on = figures[2]!;
      const body = [
        `One internal call (100 B payload, mutual TLS, validation at both ends, deadline, call log and metrics), client here and`,
        `echo service in its own process, both with the same tracing mode; ${LIMITS.latency.rounds} interleaved rounds of up to`,
        `${LIMITS.latency.count} one-at-a-time calls per mode, then ${LIMITS.throughput.rounds} rounds of ${LIMITS.throughput.inFlight} in flight.`,
        `With tracing on, each call makes two spans (the client's and the server's), and the collector received`,
        `${(exported / 1e6).toFixed(1)} MB of OTLP JSON in the run.`,
        '',
        markdownTable(['tracing', 'p50', 'p99', 'p50 vs none', 'added p50', '100 in flight', 'rate vs none'], rows),
        '',
        `Tracing off costs ${ms(Math.max(0, off.p50 - base.p50))} at p50 over no tracer (${ratio(off.p50, base.p50)}); tracing on and exporting costs`,
        `${ms(Math.max(0, on.p50 - base.p50))} (${ratio(on.p50, base.p50)}) and keeps ${ratio(on.rate, base.rate)} of the throughput.`,
        '',
        'Where the cost of "off" went: a first version registered the AsyncLocalStorage context',
        'manager in every process, and tracing off then cost 1.19× at p50 and 0.76× of the',
        'throughput on this call (the manager adds a promise hook to every promise on Node 20). The',
        "context manager now runs only when spans are exported; without it, each span's context is",
        'handed on explicitly (call metadata, transactions, outbox envelopes). Compare the rows, which',
        'are interleaved, rather than absolute figures: they move with the load of the machine.',
        'With 100 calls in flight on two cores, recording every span, the context manager and the',
        "exporter's JSON take CPU the calls would otherwise use: in production, export a share of",
        'the traces (`OTEL_TRACES_SAMPLER=parentbased_traceidratio`, `OTEL_TRACES_SAMPLER_ARG=0.1`).',
      ].join('\n');
      return {
        heading: 'Tracing overhead on an internal call',
        body,
        summary: [
          {
            measure: 'internal call p50, tracing on (exporting)',
            carotene: ms(on.p50),
            reference: `${ms(base.p50)} no tracer`,
            ratio: ratio(on.p50, base.p50),
            target: '(cost of tracing)',
            met: undefined,
          },
        ],
      };
    } finally {
      await clientTracing?.shutdown();
      for (const c of contenders) {
        await c.transport.close().catch(() => undefined);
        await c.child.stop().catch(() => undefined);
      }
      await new Promise((resolve) => otlp.server.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
