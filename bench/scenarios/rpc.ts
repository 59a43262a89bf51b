// RPC: one Carotene internal call against bare node:http + undici, grpc-js and Moleculer's
// TCP transporter, each server in its own process and the client here; and the in-process
// Carotene call against a Moleculer local call.
import * as grpc from '@grpc/grpc-js';
import { ServiceBroker } from 'moleculer';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Pool } from 'undici';
import { setupResilience } from '../../packages/runtime/src/resilience/setup-resilience.ts';
import { createLogger } from '../../packages/runtime/src/service/logger.ts';
import { callIntegration } from '../../packages/runtime/src/service/call-clients.ts';
import { startServiceHost } from '../../packages/runtime/src/service/service-host.ts';
import { tlsFiles } from '../../packages/runtime/src/security/cert-paths.ts';
import { ensureCertificates } from '../../packages/runtime/src/security/cert-store.ts';
import { fixedCredentials, readCredentials } from '../../packages/runtime/src/security/credentials.ts';
import { startTracing } from '../../packages/runtime/src/telemetry/tracing.ts';
import { contractProto } from '../../packages/runtime/src/grpc/index.ts';
import { HttpTransport } from '../../packages/runtime/src/transport/http-transport.ts';
import { InProcessTransport, LocalServices } from '../../packages/runtime/src/transport/in-process-transport.ts';
import type { CallMeta } from '../../packages/runtime/src/transport/transport.ts';
import { freePort } from '../../examples/shop/test/shop-process.ts';
import { startChild, type ChildServer } from '../lib/child-server.ts';
import { concurrent, joinSamples, sequential, throughput, type LoadResult } from '../lib/load.ts';
import { metMark, type Scenario, type SummaryRow } from '../lib/scenario.ts';
import { median, ms, percentile, perSecond, ratio } from '../lib/stats.ts';
import { markdownTable } from '../lib/table.ts';
import benchApp, { Echo } from './echo-app.ts';
import { loadEchoService } from './grpc-proto.ts';
import { localBrokerOptions, moleculerEchoSchema, tcpBrokerOptions } from './moleculer-setup.ts';
import { PAYLOADS, type Order } from './payloads.ts';

const here = new URL('.', import.meta.url).pathname;
const server = (name: string) => join(here, '..', 'servers', `${name}.ts`);

/** Bounds of every loop: calls and seconds. */
const LIMITS = {
  warmup: { count: 2_000, maxMs: 4_000 },
  /** One-at-a-time calls per contender and payload, split into interleaved rounds. */
  latency: { rounds: 4, count: 5_000, maxMs: 15_000 },
  throughput: { rounds: 3, inFlight: 100, count: 200_000, maxMs: 2_000 },
  inProcess: { rounds: 3, count: 200_000, maxMs: 2_000 },
};

type Call = (payload: Order) => Promise<unknown>;

interface Contender {
  readonly name: string;
  readonly call: Call;
  readonly close: () => Promise<void>;
}

let counter = 0;
const meta = (): CallMeta => ({ caller: 'client', requestId: `bench-${++counter}`, deadline: Date.now() + 10_000 });

async function carotene(dataDir: string, connections?: number): Promise<Contender> {
  // tracing as a service without a collector runs it: ids in logs and on the wire, nothing recorded
  const child = await startChild(server('carotene'), { BENCH_DATA_DIR: dataDir, BENCH_TRACING: 'off' });
  const tls = fixedCredentials(readCredentials(tlsFiles(dataDir, 'client')));
  const transport = new HttpTransport({
    caller: 'client',
    registry: { app: 'bench', gateway: { url: 'https://127.0.0.1:1' }, services: { echo: { url: String(child.info.url) } } },
    tls,
    connections,
  });
  return {
    name: connections === undefined ? NAMES[0]! : `candidate: Carotene with ${connections} connections`,
    // what ctx.call.echo.echo(order) runs in a handler
    call: (payload) => callIntegration(transport, Echo, 'echo', payload, undefined, meta(), 'client'),
    close: async () => {
      await transport.close();
      await child.stop();
    },
  };
}

/** The same Carotene service called over standard gRPC: Carotene's gRPC client (Connect, HTTP/2, mutual TLS) and its gRPC server. */
async function caroteneGrpc(dataDir: string): Promise<Contender> {
  const child = await startChild(server('carotene'), { BENCH_DATA_DIR: dataDir, BENCH_TRACING: 'off' });
  const tls = fixedCredentials(readCredentials(tlsFiles(dataDir, 'client')));
  const echo = contractProto(Echo);
  const transport = new HttpTransport({
    caller: 'client',
    registry: { app: 'bench', gateway: { url: 'https://127.0.0.1:1' }, services: { echo: { url: String(child.info.url), protocol: 'grpc' } } },
    tls,
    grpcContract: () => echo,
  });
  return {
    name: NAMES[5]!,
    call: (payload) => callIntegration(transport, Echo, 'echo', payload, undefined, meta(), 'client'),
    close: async () => {
      await transport.close();
      await child.stop();
    },
  };
}

async function bareHttp(): Promise<Contender> {
  const child = await startChild(server('bare-http'));
  const pool = new Pool(String(child.info.url), { connections: 32, keepAliveTimeout: 30_000 });
  return {
    name: 'bare node:http + undici keep-alive',
    call: async (payload) => {
      const res = await pool.request({ method: 'POST', path: '/echo', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
      const out: unknown = await res.body.json();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      return out;
    },
    close: async () => {
      await pool.close();
      await child.stop();
    },
  };
}

async function bareHttps(dataDir: string): Promise<Contender> {
  const child = await startChild(server('bare-https'), { BENCH_DATA_DIR: dataDir });
  const { ca, cert, key } = readCredentials(tlsFiles(dataDir, 'client'));
  const pool = new Pool(String(child.info.url), {
    connections: 32,
    keepAliveTimeout: 30_000,
    connect: { ca, cert, key, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined },
  });
  return {
    name: NAMES[1]!,
    call: async (payload) => {
      const res = await pool.request({ method: 'POST', path: '/echo', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
      const out: unknown = await res.body.json();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      return out;
    },
    close: async () => {
      await pool.close();
      await child.stop();
    },
  };
}

/** Candidate only (BENCH_RPC_CANDIDATES=1): bare HTTP/2 with mutual TLS, `sessions` sessions, logged but not in the tables. */
async function bareH2(dataDir: string, sessions: number): Promise<Contender> {
  const child = await startChild(server('bare-h2'), { BENCH_DATA_DIR: dataDir });
  const { ca, cert, key } = readCredentials(tlsFiles(dataDir, 'client'));
  const clients = Array.from({ length: sessions }, () =>
    http2.connect(String(child.info.url), { ca, cert, key, minVersion: 'TLSv1.3', checkServerIdentity: () => undefined }),
  );
  let next = 0;
  return {
    name: `candidate: bare node:http2 with mutual TLS, ${sessions} session${sessions > 1 ? 's' : ''}`,
    call: (payload) =>
      new Promise((resolve, reject) => {
        const stream = clients[next++ % sessions]!.request({ ':method': 'POST', ':path': '/echo', 'content-type': 'application/json' });
        const chunks: Buffer[] = [];
        let status = 0;
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => (status === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : reject(new Error(`status ${status}`))));
        stream.on('error', reject);
        stream.end(JSON.stringify(payload));
      }),
    close: async () => {
      for (const c of clients) c.close();
      await child.stop();
    },
  };
}

async function grpcJs(): Promise<Contender> {
  const child = await startChild(server('grpc'));
  const { Client } = loadEchoService();
  const client = new Client(String(child.info.address), grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    echo(input: Order, callback: (err: grpc.ServiceError | null, out?: Order) => void): void;
  };
  return {
    name: '@grpc/grpc-js unary (protobuf)',
    call: (payload) => new Promise((resolve, reject) => client.echo(payload, (err, out) => (err ? reject(err) : resolve(out)))),
    close: async () => {
      client.close();
      await child.stop();
    },
  };
}

async function moleculerTcp(): Promise<Contender> {
  const [serverPort, clientPort] = [await freePort(), await freePort()];
  const child: ChildServer = await startChild(server('moleculer'), { BENCH_SERVER_PORT: String(serverPort), BENCH_CLIENT_PORT: String(clientPort) });
  const broker = new ServiceBroker(tcpBrokerOptions('bench-client', serverPort, clientPort));
  await broker.start();
  await broker.waitForServices(['echo'], 30_000);
  return {
    name: 'Moleculer, TCP transporter',
    call: (payload) => broker.call('echo.echo', payload),
    close: async () => {
      await broker.stop();
      await child.stop();
    },
  };
}

interface Figures {
  p50: number;
  p99: number;
  rate: number;
  errors: number;
}

/** Rounds interleave the contenders so that drift of the machine hits them all alike. */
async function measure(contenders: readonly Contender[], payload: Order, log: (l: string) => void): Promise<Figures[]> {
  for (const c of contenders) await sequential(() => c.call(payload), LIMITS.warmup);
  const latency: LoadResult[][] = contenders.map(() => []);
  const rates: number[][] = contenders.map(() => []);
  for (let round = 0; round < LIMITS.latency.rounds; round++) {
    for (const [i, c] of contenders.entries()) latency[i]!.push(await sequential(() => c.call(payload), LIMITS.latency));
  }
  for (let round = 0; round < LIMITS.throughput.rounds; round++) {
    for (const [i, c] of contenders.entries()) {
      const r = await concurrent(() => c.call(payload), LIMITS.throughput);
      if (r.errors > 0) log(`  ${c.name}: ${r.errors} errors, first: ${String(r.firstError)}`);
      rates[i]!.push(r.errors > 0 ? Number.NaN : throughput(r));
    }
  }
  return contenders.map((c, i) => {
    const samples = joinSamples(latency[i]!);
    const errors = latency[i]!.reduce((n, r) => n + r.errors, 0);
    if (errors > 0) log(`  ${c.name}: ${errors} errors one at a time, first: ${String(latency[i]!.find((r) => r.errors)?.firstError)}`);
    const f = { p50: percentile(samples, 50), p99: percentile(samples, 99), rate: median(rates[i]!), errors };
    log(`  ${c.name}: p50 ${ms(f.p50)}, p99 ${ms(f.p99)} over ${samples.length} calls; ${perSecond(f.rate)} with ${LIMITS.throughput.inFlight} in flight`);
    return f;
  });
}

async function inProcess(payload: Order): Promise<{ carotene: number; moleculer: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'carotene-bench-local-'));
  const local = new LocalServices();
  const host = await startServiceHost({
    app: benchApp,
    service: 'echo',
    host: '127.0.0.1',
    port: 0,
    database: { file: join(dir, 'echo.sqlite') },
    transport: new InProcessTransport('echo', local),
    tls: await benchCredentials(dir, 'echo'),
    log: createLogger('echo', 'info', pino.destination({ dest: '/dev/null', sync: true })),
  });
  local.register('echo', host.runtime);
  const transport = new InProcessTransport('client', local);
  const broker = new ServiceBroker(localBrokerOptions);
  broker.createService(moleculerEchoSchema);
  await broker.start();
  const caroteneCall = () => callIntegration(transport, Echo, 'echo', payload, undefined, meta(), 'client');
  const moleculerCall = () => broker.call('echo.echo', payload);
  await sequential(caroteneCall, LIMITS.warmup);
  await sequential(moleculerCall, LIMITS.warmup);
  const rates = { carotene: [] as number[], moleculer: [] as number[] };
  for (let round = 0; round < LIMITS.inProcess.rounds; round++) {
    rates.carotene.push(throughput(await sequential(caroteneCall, LIMITS.inProcess)));
    rates.moleculer.push(throughput(await sequential(moleculerCall, LIMITS.inProcess)));
  }
  await broker.stop();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
  return { carotene: median(rates.carotene), moleculer: median(rates.moleculer) };
}

async function benchCredentials(dir: string, identity: string) {
  await ensureCertificates(dir, 'bench', ['echo', 'client']);
  return fixedCredentials(readCredentials(tlsFiles(dir, identity)));
}

export const rpc: Scenario = {
  name: 'rpc',
  describe: 'one internal call against bare HTTP, grpc-js and Moleculer TCP; in-process against Moleculer local',
  async run(log) {
    const dataDir = mkdtempSync(join(tmpdir(), 'carotene-bench-rpc-'));
    await ensureCertificates(dataDir, 'bench', ['echo', 'client']);
    // the bench process calls as a Carotene service does: tracing set up (no collector: ids
    // only) and the call policies (timeout, breaker, bulkhead; echo is not idempotent, so no retry)
    const tracing = startTracing({ service: 'client' });
    const stopPolicies = setupResilience({ app: benchApp, environment: 'development', dataDir, log: createLogger('client', 'warn') });
    const contenders: Contender[] = [];
    try {
      for (const start of [() => carotene(dataDir), () => bareHttps(dataDir), bareHttp, grpcJs, moleculerTcp, () => caroteneGrpc(dataDir)])
        contenders.push(await start());
      if (process.env.BENCH_RPC_CANDIDATES) {
        for (const n of [2, 4]) contenders.push(await carotene(dataDir, n));
        for (const n of [1, 4]) contenders.push(await bareH2(dataDir, n));
      }
      const figures: Record<string, Figures[]> = {};
      for (const [size, payload] of Object.entries(PAYLOADS)) {
        log(`rpc: payload ${size} (${JSON.stringify(payload).length} bytes of JSON)`);
        figures[size] = await measure(contenders, payload, log);
      }
      for (const c of contenders.splice(0)) await c.close();
      log('rpc: in-process');
      const local = await inProcess(PAYLOADS['100B']);
      log(`  Carotene in-process ${perSecond(local.carotene)}, Moleculer local ${perSecond(local.moleculer)}`);
      return report(figures, local);
    } finally {
      for (const c of contenders) await c.close().catch(() => undefined);
      stopPolicies();
      await tracing.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

const NAMES = [
  'Carotene (mTLS, validation both ends, call policy, trace ids, deadline, call log)',
  'bare node:https with mutual TLS + undici',
  'bare node:http + undici keep-alive',
  '@grpc/grpc-js unary (protobuf)',
  'Moleculer, TCP transporter',
  'Carotene over gRPC (the same work, as a standard gRPC call: HTTP/2, protobuf)',
];

function report(figures: Record<string, Figures[]>, local: { carotene: number; moleculer: number }) {
  const rows: string[][] = [];
  for (const [size, list] of Object.entries(figures)) {
    const bare = list[2]!;
    // candidates measured beside the contenders (BENCH_RPC_CANDIDATES) are logged, not tabled
    list.slice(0, NAMES.length).forEach((f, i) => {
      rows.push([size, NAMES[i]!, ms(f.p50), ms(f.p99), ratio(f.p50, bare.p50), perSecond(f.rate), ratio(f.rate, bare.rate)]);
    });
  }
  const summary: SummaryRow[] = [];
  for (const [size, list] of Object.entries(figures)) {
    const [c, bareTls, bare, g, m, cg] = list as [Figures, Figures, Figures, Figures, Figures, Figures];
    summary.push(
      {
        measure: `internal call p50, ${size}`,
        carotene: ms(c.p50),
        reference: `${ms(bare.p50)} bare undici`,
        ratio: ratio(c.p50, bare.p50),
        target: '≤ 1.2× bare',
        met: c.p50 <= 1.2 * bare.p50,
      },
      {
        measure: `internal call p50, ${size}`,
        carotene: ms(c.p50),
        reference: `${ms(bareTls.p50)} bare mutual TLS`,
        ratio: ratio(c.p50, bareTls.p50),
        target: "(Carotene's own share)",
        met: undefined,
      },
      {
        measure: `100 in flight, ${size}`,
        carotene: perSecond(c.rate),
        reference: `${perSecond(m.rate)} Moleculer TCP`,
        ratio: ratio(c.rate, m.rate),
        target: '≥ 1× Moleculer TCP',
        met: c.rate >= m.rate,
      },
      {
        measure: `100 in flight, ${size}`,
        carotene: perSecond(c.rate),
        reference: `${perSecond(g.rate)} grpc-js`,
        ratio: ratio(c.rate, g.rate),
        target: '≥ 5× grpc-js',
        met: c.rate >= 5 * g.rate,
      },
    );
    summary.push(
      {
        measure: `gRPC call p50, ${size}`,
        carotene: ms(cg.p50),
        reference: `${ms(bare.p50)} bare undici`,
        ratio: ratio(cg.p50, bare.p50),
        target: '≤ 1.3× bare',
        met: cg.p50 <= 1.3 * bare.p50,
      },
      {
        measure: `gRPC, 100 in flight, ${size}`,
        carotene: perSecond(cg.rate),
        reference: `${perSecond(g.rate)} grpc-js`,
        ratio: ratio(cg.rate, g.rate),
        target: '≥ 3× grpc-js',
        met: cg.rate >= 3 * g.rate,
      },
    );
  }
  summary.push({
    measure: 'in-process call rate, 100B',
    carotene: perSecond(local.carotene),
    reference: `${perSecond(local.moleculer)} Moleculer local`,
    ratio: ratio(local.carotene, local.moleculer),
    target: '≥ 0.5× Moleculer local',
    met: local.carotene >= 0.5 * local.moleculer,
  });
  const body = [
    `Every server runs in its own process; the client is the bench process. One at a time: ${LIMITS.latency.rounds} × ${LIMITS.latency.count.toLocaleString('en-US')} calls per contender and payload, the rounds interleaved, after ${LIMITS.warmup.count.toLocaleString('en-US')} warm-up calls. In flight: ${LIMITS.throughput.inFlight} calls kept outstanding for ${LIMITS.throughput.maxMs / 1000} s, median of ${LIMITS.throughput.rounds} rounds. The payload is an order (id, customer, items, note): 115 bytes of JSON with one item, 956 with eighteen; grpc-js carries the same fields as a protobuf message, Moleculer validates them with its own validator.`,
    '',
    "The Carotene call is what `ctx.call.echo.echo(order)` runs, set up as in a service process: the input checked against the contract, the call policy (a timeout per attempt, the circuit breaker and the bulkhead of the callee; the function is not idempotent, so no retry), a client and a server span with their ids in the log line and on the wire (tracing as without a collector: nothing recorded or exported; the tracing section measures exporting), the deadline carried, `carotene-rpc/1` frames over mutual TLS 1.3 (each side presents its certificate, the callee checks the caller is allowed by the declared graph; calls multiplexed on one connection), the input checked again and the handler run by the callee, one JSON log line written, and the output checked at both ends. The bare mutual-TLS contender uses the same certificates and TLS 1.3, so the gap between it and Carotene is Carotene's own work, and the gap between it and bare HTTP is the cost of mutual TLS. Carotene uses one connection per callee instance; the undici pools 32 connections; grpc-js one HTTP/2 channel; Moleculer one TCP connection. Carotene over gRPC is the same service and the same runtime work on both sides, called as any gRPC client would: the input and output as protobuf on HTTP/2 (one session), `grpc-timeout`, trace context and request id as metadata, the server reading and answering it on the HTTP/2 streams directly, on the same mutual-TLS port.",
    '',
    markdownTable(['payload', 'contender', 'p50', 'p99', 'p50 vs bare', `${LIMITS.throughput.inFlight} in flight`, 'vs bare'], rows),
    '',
    `In-process (caller and callee in one process), one call at a time, median of ${LIMITS.inProcess.rounds} rounds of ${LIMITS.inProcess.maxMs / 1000} s:`,
    '',
    markdownTable(
      ['contender', 'calls/s', 'vs Moleculer local'],
      [
        ['Carotene in-process (validation both ends, JSON copy, deadline, call log)', perSecond(local.carotene), ratio(local.carotene, local.moleculer)],
        ['Moleculer local call (params validation)', perSecond(local.moleculer), '1.00×'],
      ],
    ),
    '',
    markdownTable(
      ['measure', 'target', 'result'],
      summary.map((s) => [s.measure, s.target, s.met === undefined ? s.ratio : `${s.ratio} (${metMark(s.met)})`]),
    ),
  ].join('\n');
  return { heading: 'RPC', body, summary };
}
