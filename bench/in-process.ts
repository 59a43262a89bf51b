// What co-locating services buys: one internal call in process against the same call over
// mutual TLS to another process, and the memory of the shop as a monolith against the sum of
// its separate processes. Loopback only, bounded in calls and time.
//
//   node --import tsx bench/in-process.ts            # about a minute
//
// The callee is the same in both calls: a service whose function returns its input, run by
// its ServiceRuntime (input validated against the contract, the caller checked against the
// declared graph, one JSON log line, output validated).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { app, contract, handler, implement, rpc } from '../packages/carotene/src/index.ts';
import { createLogger } from '../packages/runtime/src/service/logger.ts';
import { startServiceHost } from '../packages/runtime/src/service/service-host.ts';
import { tlsFiles } from '../packages/runtime/src/security/cert-paths.ts';
import { ensureCertificates } from '../packages/runtime/src/security/cert-store.ts';
import { fixedCredentials, readCredentials } from '../packages/runtime/src/security/credentials.ts';
import { HttpTransport } from '../packages/runtime/src/transport/http-transport.ts';
import { InProcessTransport, LocalServices } from '../packages/runtime/src/transport/in-process-transport.ts';
import type { CallMeta, Transport } from '../packages/runtime/src/transport/transport.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CALLS = 5_000;
const ROUNDS = 3;
const WARMUP = 2_000;

// ---- the two services: echo, and a client that declares it --------------------------------

const Line = z.object({ sku: z.string(), qty: z.number().int().positive(), priceCents: z.number().int() });
const Order = z.object({ id: z.string(), customer: z.string(), items: z.array(Line), note: z.string() });
const Echo = contract('echo', { echo: rpc({ input: Order, output: Order }) });
const echo = implement(Echo, {}).handlers({ echo: handler({}, async (order) => order) });
const Client = contract('client', {});
const client = implement(Client, { integrations: [Echo] }).handlers({});
const benchApp = app({ name: 'inproc', services: [echo, client] });
const order = { id: 'order_1', customer: 'user_1', items: [{ sku: 'sku_1', qty: 2, priceCents: 1299 }], note: 'leave at the door' };

async function startEcho(dataDir: string, destination?: string) {
  const tls = fixedCredentials(readCredentials(tlsFiles(dataDir, 'echo')));
  return startServiceHost({
    app: benchApp,
    service: 'echo',
    host: '127.0.0.1',
    port: 0,
    database: { file: join(dataDir, `echo-${process.pid}.sqlite`) },
    transport: new HttpTransport({ caller: 'echo', registry: { app: 'inproc', gateway: { url: 'https://127.0.0.1:1' }, services: {} }, tls }),
    tls,
    // both callees write their call log to /dev/null: same work, no terminal in the figures
    log: createLogger('echo', 'info', destination ? createWriteStream(destination) : undefined),
  });
}

// `--serve <dataDir>`: the callee process of the network call
if (process.argv[2] === '--serve') {
  const host = await startEcho(process.argv[3]!);
  process.send?.({ url: host.url });
  process.on('SIGTERM', () => void host.close().finally(() => process.exit(0)));
} else {
  await main();
}

// ---- measuring --------------------------------------------------------------------------

interface Round {
  readonly perSecond: number;
  readonly latencies: Float64Array;
}

async function round(transport: Transport, calls: number): Promise<Round> {
  const latencies = new Float64Array(calls);
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await transport.call('echo', 'echo', order, meta());
    latencies[i] = performance.now() - t0;
  }
  return { perSecond: calls / ((performance.now() - started) / 1_000), latencies };
}

function meta(): CallMeta {
  return { caller: 'client', requestId: 'bench', deadline: Date.now() + 5_000 };
}

function percentile(samples: Float64Array, p: number): number {
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.max(Math.ceil((p / 100) * sorted.length) - 1, 0)]!;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/**
 * Nanoseconds per copy of the order: the median over 2,000 batches of 50 copies, so time the
 * scheduler gives to other processes (a busy machine) does not count, as in a call's p50.
 */
function copyCost(copy: (v: unknown) => unknown): number {
  for (let i = 0; i < 20_000; i++) copy(order);
  const batches = new Float64Array(2_000);
  for (let b = 0; b < batches.length; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) copy(order);
    batches[b] = ((performance.now() - t0) * 1e6) / 50;
  }
  return percentile(batches, 50);
}

// ---- memory of the shop in two shapes ---------------------------------------------------

interface ShapeMemory {
  readonly services: Array<{ name: string; rssBytes: number }>;
  readonly gatewayBytes: number;
}

async function shopMemory(args: readonly string[]): Promise<ShapeMemory> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carotene-bench-shop-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const carrot = spawn(
    process.execPath,
    [join(root, 'packages/cli/bin/carrot.js'), 'dev', join(root, 'examples/shop'), '--port', String(port), '--data-dir', dataDir, '--no-typecheck', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  carrot.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  carrot.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`${url}/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (carrot.exitCode !== null || Date.now() > deadline) throw new Error(`the shop did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // a little traffic through every service, then let the heap settle
    for (let i = 0; i < 200; i++) await (await fetch(`${url}/api/products?limit=20`)).text();
    const reg = await fetch(`${url}/api/users/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `m${port}@x.test`, password: 'long password', name: 'M' }),
    });
    await reg.text();
    await new Promise((r) => setTimeout(r, 1_000));
    const children = readFileSync(`/proc/${carrot.pid}/task/${carrot.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const memory: ShapeMemory = { services: [], gatewayBytes: 0 };
    for (const pid of children) {
      const name = /(?:^|\0)CAROTENE_SERVICE=([^\0]*)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))?.[1] ?? String(pid);
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      if (name === 'gateway') (memory as { gatewayBytes: number }).gatewayBytes = rss;
      else memory.services.push({ name, rssBytes: rss });
    }
    return memory;
  } finally {
    await stop(carrot);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

// ---- the run ----------------------------------------------------------------------------

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carotene-bench-inproc-'));
  await ensureCertificates(dataDir, 'inproc', ['echo', 'client']);
  const clientTls = fixedCredentials(readCredentials(tlsFiles(dataDir, 'client')));

  // in process: the echo runtime lives here
  const localHost = await startEcho(dataDir, '/dev/null');
  const local = new LocalServices();
  local.register('echo', localHost.runtime);
  const inProcess = new InProcessTransport('client', local);

  // over the network: the echo runtime in a child process, called over mutual TLS
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', dataDir], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the callee process exited with ${code}`)));
  });
  const network = new HttpTransport({
    caller: 'client',
    registry: { app: 'inproc', gateway: { url: 'https://127.0.0.1:1' }, services: { echo: { url } } },
    tls: clientTls,
  });

  const results = { inProcess: [] as Round[], network: [] as Round[] };
  try {
    await round(inProcess, WARMUP);
    await round(network, WARMUP);
    for (let r = 0; r < ROUNDS; r++) {
      results.inProcess.push(await round(inProcess, CALLS));
      results.network.push(await round(network, CALLS));
    }
  } finally {
    await network.close();
    await stop(child);
    await localHost.close();
  }
  const summary = (rounds: Round[]) => ({
    perSecond: median(rounds.map((r) => r.perSecond)),
    p50: median(rounds.map((r) => percentile(r.latencies, 50))),
    p99: median(rounds.map((r) => percentile(r.latencies, 99))),
  });
  const ip = summary(results.inProcess);
  const net = summary(results.network);
  const json = copyCost((v) => JSON.parse(JSON.stringify(v)));
  const clone = copyCost((v) => structuredClone(v));

  const separate = await shopMemory(['--separate']);
  const monolith = await shopMemory(['--monolith']);
  rmSync(dataDir, { recursive: true, force: true });

  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  const sumSeparate = separate.services.reduce((s, x) => s + x.rssBytes, 0);
  const sumMonolith = monolith.services.reduce((s, x) => s + x.rssBytes, 0);
  const lines = [
    `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 1024 ** 3).toFixed(1)} GB RAM, Node ${process.version}, ${process.platform}/${process.arch}`,
    `calls: ${ROUNDS} rounds of ${CALLS.toLocaleString('en-US')} sequential calls each (after ${WARMUP.toLocaleString('en-US')} warm-up), medians of the rounds; payload ${JSON.stringify(order).length} B of JSON`,
    '',
    '| call                                  | calls/s | p50 | p99 |',
    '| ------------------------------------- | ------- | --- | --- |',
    `| in process (same runtime, JSON copy)  | ${Math.round(ip.perSecond).toLocaleString('en-US')}/s | ${(ip.p50 * 1_000).toFixed(1)} µs | ${(ip.p99 * 1_000).toFixed(1)} µs |`,
    `| network (mutual TLS, second process)  | ${Math.round(net.perSecond).toLocaleString('en-US')}/s | ${(net.p50 * 1_000).toFixed(1)} µs | ${(net.p99 * 1_000).toFixed(1)} µs |`,
    `| in process vs network                 | ${(ip.perSecond / net.perSecond).toFixed(1)}× | ${(net.p50 / ip.p50).toFixed(1)}× faster | ${(net.p99 / ip.p99).toFixed(1)}× faster |`,
    '',
    `copy across the boundary, per call (${JSON.stringify(order).length} B order): JSON round trip ${json.toFixed(0)} ns, structuredClone ${clone.toFixed(0)} ns`,
    '',
    '| shop services (resident memory)       | processes | RSS |',
    '| ------------------------------------- | --------- | --- |',
    `| one process per service (sum)         | ${separate.services.length} | ${mb(sumSeparate)} (${separate.services.map((s) => `${s.name} ${mb(s.rssBytes)}`).join(', ')}) |`,
    `| monolith                              | ${monolith.services.length} | ${mb(sumMonolith)} |`,
    `| monolith vs separate                  |  | ${(sumMonolith / sumSeparate).toFixed(2)}× (${mb(sumSeparate - sumMonolith)} less) |`,
    `| gateway (its own process in both)     | 1 | ${mb(separate.gatewayBytes)} / ${mb(monolith.gatewayBytes)} |`,
  ];
  for (const line of lines) console.log(line);
}
