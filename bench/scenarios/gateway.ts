// Gateway: the catalog's product list through the Carotene gateway (as a public route, and
// behind a verified token and a rate limit), through nginx as a plain reverse proxy in front
// of the same catalog process, and straight to the catalog.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Pool, type Dispatcher } from 'undici';
import { tlsFiles } from '../../packages/runtime/src/security/cert-paths.ts';
import { concurrent, joinSamples, throughput, type LoadResult } from '../lib/load.ts';
import { ensureNginx, startNginx, type RunningNginx } from '../lib/nginx.ts';
import { metMark, type Scenario, type SummaryRow } from '../lib/scenario.ts';
import { ADMIN, freePort, login, readRegistry, servicePool, startShop, type RunningShop } from '../lib/shop.ts';
import { median, ms, percentile, perSecond, ratio } from '../lib/stats.ts';
import { markdownTable } from '../lib/table.ts';
import { BENCH_RULE, SIGNED_IN_PRODUCTS } from './gateway-app.ts';
import { cpuMicros, nginxProcesses, shopProcess } from './gateway-cpu.ts';

const LIMITS = {
  warmup: { count: 2_000, maxMs: 5_000, inFlight: 20 },
  run: { rounds: 3, count: 200_000, maxMs: 4_000, inFlight: 50 },
};

/** The shop with a second, signed-in and rate-limited route to the product list. */
const APP = fileURLToPath(new URL('./gateway-app.ts', import.meta.url));

const PUBLIC_ROW = 'Carotene gateway, public route';
const SIGNED_IN_ROW = 'Carotene gateway, JWT verified + rate limited';

interface Target {
  readonly name: string;
  readonly pool: Pool;
  readonly request: Dispatcher.RequestOptions;
  /** The proxy's processes (none for the direct row), and the service's that answers. */
  readonly proxy: readonly number[];
  readonly callee: readonly number[];
}

async function hit(t: Target): Promise<void> {
  const res = await t.pool.request(t.request);
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`${t.name}: status ${res.statusCode}`);
}

/** The signed-in row must really check the token and take from a bucket, or it measures nothing. */
async function checkSignedIn(t: Target): Promise<void> {
  const res = await t.pool.request(t.request);
  const items = ((await res.body.json()) as { items?: unknown[] }).items;
  if (res.statusCode !== 200 || items?.length !== 20 || res.headers['ratelimit-limit'] !== String(BENCH_RULE.capacity)) {
    throw new Error(`${t.name}: expected 20 products and RateLimit headers, got ${res.statusCode} ${JSON.stringify(res.headers)}`);
  }
  const anonymous = await t.pool.request({ ...t.request, headers: {} });
  await anonymous.body.dump();
  if (anonymous.statusCode !== 401) throw new Error(`${t.name}: a request without a token got ${anonymous.statusCode}, not 401`);
}

/** nginx config: GET /api/products becomes the catalog's POST /rpc/listProducts over mutual TLS. */
function nginxConfig(port: number, catalogUrl: string, dataDir: string): string {
  const files = tlsFiles(dataDir, 'gateway');
  const upstream = new URL(catalogUrl).host;
  return `
  upstream catalog { server ${upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location = /nginx-alive { return 204; }
    location = /api/products {
      proxy_pass https://catalog/rpc/listProducts;
      proxy_method POST;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header content-type application/json;
      proxy_set_body '{}';
      proxy_ssl_certificate ${files.cert};
      proxy_ssl_certificate_key ${files.key};
      proxy_ssl_trusted_certificate ${files.ca};
      proxy_ssl_verify on;
      proxy_ssl_name catalog;
      proxy_ssl_server_name off;
      proxy_ssl_session_reuse on;
      proxy_ssl_protocols TLSv1.3;
    }
  }`;
}

interface Figures {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU microseconds per request of the proxy's processes and of the answering service; undefined when not measured. */
  proxyCpu: number | undefined;
  calleeCpu: number | undefined;
}

function micros(value: number | undefined): string {
  return value === undefined ? '—' : `${Math.round(value)} µs`;
}

export const gateway: Scenario = {
  name: 'gateway',
  describe: 'product list through the gateway, through nginx, and straight to the catalog',
  async run(log) {
    const missing = ensureNginx(log);
    if (missing) log(`gateway: no nginx row: ${missing}`);
    let shop: RunningShop | undefined;
    let nginx: RunningNginx | undefined;
    const pools: Pool[] = [];
    try {
      // no dashboard, so no collector: spans are not recorded or exported (the tracing
      // scenario measures that), as in production without OTEL_EXPORTER_OTLP_ENDPOINT
      shop = await startShop(['--no-dashboard'], 120_000, APP);
      const registry = readRegistry(shop.dataDir);
      const catalogUrl = registry.services.catalog!.url;
      const token = await login(shop.url, ADMIN.email, ADMIN.password);
      const pool = (url: string) => {
        const p = new Pool(url, { connections: LIMITS.run.inFlight, keepAliveTimeout: 30_000 });
        pools.push(p);
        return p;
      };
      const direct = servicePool(shop.dataDir, catalogUrl, 'gateway', LIMITS.run.inFlight);
      pools.push(direct);
      const processOf = (service: string) => [shopProcess(shop!.dataDir, service)].filter((p) => p !== undefined);
      const [gw, catalog] = [processOf('gateway'), processOf('catalog')];
      const targets: Target[] = [
        { name: PUBLIC_ROW, pool: pool(shop.url), request: { method: 'GET', path: '/api/products' }, proxy: gw, callee: catalog },
        {
          name: SIGNED_IN_ROW,
          pool: pool(shop.url),
          request: { method: 'GET', path: SIGNED_IN_PRODUCTS, headers: { authorization: `Bearer ${token}` } },
          proxy: gw,
          callee: catalog,
        },
      ];
      if (!missing) {
        const port = await freePort();
        nginx = await startNginx(nginxConfig(port, catalogUrl, shop.dataDir));
        targets.push({
          name: 'nginx-light reverse proxy',
          pool: pool(nginx.url),
          request: { method: 'GET', path: '/api/products' },
          proxy: nginxProcesses(port),
          callee: catalog,
        });
      }
      targets.push(
        {
          name: 'catalog directly (mTLS, no proxy)',
          pool: direct,
          request: { method: 'POST', path: '/rpc/listProducts', headers: { 'content-type': 'application/json' }, body: '{}' },
          proxy: [],
          callee: catalog,
        },
        {
          name: 'Carotene gateway, authenticated route (users/me, JWT verified)',
          pool: pool(shop.url),
          request: { method: 'GET', path: '/api/users/me', headers: { authorization: `Bearer ${token}` } },
          proxy: gw,
          callee: processOf('users'),
        },
      );
      // every target must answer the same thing before it is measured
      await checkSignedIn(targets[1]!);
      for (const t of targets) {
        await hit(t);
        await concurrent(() => hit(t), LIMITS.warmup);
      }
      const rounds: LoadResult[][] = targets.map(() => []);
      const cpu = targets.map(() => ({ proxy: 0, callee: 0 }));
      for (let round = 0; round < LIMITS.run.rounds; round++) {
        for (const [i, t] of targets.entries()) {
          const before = { proxy: cpuMicros(t.proxy), callee: cpuMicros(t.callee) };
          const r = await concurrent(() => hit(t), LIMITS.run);
          cpu[i]!.proxy += cpuMicros(t.proxy) - before.proxy;
          cpu[i]!.callee += cpuMicros(t.callee) - before.callee;
          if (r.errors > 0) log(`  ${t.name}: ${r.errors} errors, first: ${String(r.firstError)}`);
          rounds[i]!.push(r);
        }
      }
      const figures = targets.map((t, i): Figures => {
        const all = joinSamples(rounds[i]!);
        const completed = rounds[i]!.reduce((n, r) => n + r.completed, 0);
        const f = {
          rate: median(rounds[i]!.map(throughput)),
          p50: percentile(all, 50),
          p99: percentile(all, 99),
          errors: rounds[i]!.reduce((n, r) => n + r.errors, 0),
          proxyCpu: t.proxy.length > 0 ? cpu[i]!.proxy / completed : undefined,
          calleeCpu: t.callee.length > 0 ? cpu[i]!.callee / completed : undefined,
        };
        log(
          `  ${t.name}: ${perSecond(f.rate)}, p50 ${ms(f.p50)}, p99 ${ms(f.p99)}, errors ${f.errors}, CPU/request: proxy ${micros(f.proxyCpu)}, callee ${micros(f.calleeCpu)}`,
        );
        return f;
      });
      return report(targets, figures, missing, readFileSync(new URL('../lib/nginx.ts', import.meta.url), 'utf8').includes('worker_processes 1'));
    } finally {
      for (const p of pools) await p.close().catch(() => undefined);
      await nginx?.stop();
      await shop?.stop();
    }
  },
};

function report(targets: readonly Target[], figures: readonly Figures[], missing: string | undefined, oneWorker: boolean) {
  const gw = figures[targets.findIndex((t) => t.name === SIGNED_IN_ROW)]!;
  const open = figures[targets.findIndex((t) => t.name === PUBLIC_ROW)]!;
  const nginxAt = targets.findIndex((t) => t.name.startsWith('nginx'));
  const ng = nginxAt >= 0 ? figures[nginxAt] : undefined;
  const directAt = targets.findIndex((t) => t.name.startsWith('catalog directly'));
  const direct = figures[directAt]!;
  const rows = targets.map((t, i) => {
    const f = figures[i]!;
    return [t.name, perSecond(f.rate), ms(f.p50), ms(f.p99), ratio(f.rate, direct.rate), micros(f.proxyCpu), micros(f.calleeCpu), String(f.errors)];
  });
  const summary: SummaryRow[] = ng
    ? [
        {
          measure: 'gateway req/s (product list, JWT + rate limit)',
          carotene: perSecond(gw.rate),
          reference: `${perSecond(ng.rate)} nginx`,
          ratio: ratio(gw.rate, ng.rate),
          target: '≥ 1× nginx',
          met: gw.rate >= ng.rate,
        },
        {
          measure: 'gateway p99 (product list, JWT + rate limit)',
          carotene: ms(gw.p99),
          reference: `${ms(ng.p99)} nginx`,
          ratio: ratio(gw.p99, ng.p99),
          target: '≤ 1× nginx',
          met: gw.p99 <= ng.p99,
        },
        {
          measure: 'gateway req/s (product list, public)',
          carotene: perSecond(open.rate),
          reference: `${perSecond(ng.rate)} nginx`,
          ratio: ratio(open.rate, ng.rate),
          target: '≥ 1× nginx',
          met: open.rate >= ng.rate,
        },
        {
          measure: 'gateway p99 (product list, public)',
          carotene: ms(open.p99),
          reference: `${ms(ng.p99)} nginx`,
          ratio: ratio(open.p99, ng.p99),
          target: '≤ 1× nginx',
          met: open.p99 <= ng.p99,
        },
      ]
    : [
        {
          measure: 'gateway req/s (product list, JWT + rate limit)',
          carotene: perSecond(gw.rate),
          reference: `${perSecond(direct.rate)} direct`,
          ratio: ratio(gw.rate, direct.rate),
          target: '≥ 1× nginx (no nginx here)',
          met: undefined,
        },
      ];
  const body = [
    `The catalog's \`listProducts\` (20 products, 1.4 KB of JSON) with ${LIMITS.run.inFlight} requests in flight on ${LIMITS.run.inFlight} keep-alive connections, ${LIMITS.run.rounds} rounds of ${LIMITS.run.maxMs / 1000} s per target, interleaved; req/s is the median round, p50/p99 over all requests. The shop runs under \`carrot dev --no-dashboard\` (one process per service, logs on; with no collector, spans are not recorded or exported, as in production without an OTLP endpoint: the tracing scenario measures that cost); the catalog behind every row is the same process, reached over mutual TLS. Load generator, proxies and services share the machine's cores, so a proxy's CPU is taken from the catalog.`,
    '',
    `- **${PUBLIC_ROW}**: the shop's \`GET /api/products\`, declared public (\`auth: 'none'\`) and not rate limited (\`rateLimit.default: 'off'\`): routing, request id, trace ids, deadline, access log line, metrics, the call to the catalog over mTLS.`,
    `- **${SIGNED_IN_ROW}**: the same function behind \`GET ${SIGNED_IN_PRODUCTS}\`, a route the bench adds to the shop (bench/scenarios/gateway-app.ts) with \`auth: 'required'\` and its own rate limit: on top of the above, the bearer token's ES256 signature and claims are verified (a token that verified is remembered until its \`exp\` or the next key-set fetch, so one user's repeated token is checked in full once), and a token bucket in gateway memory is taken from per user, with \`RateLimit-*\` headers on the answer. The bucket (${BENCH_RULE.capacity.toLocaleString('en-US')} in a burst, ${BENCH_RULE.refillPerSecond.toLocaleString('en-US')}/s) never refuses the bench's one signed-in user; the bench checks that a request without a token is refused 401 before measuring. This is the row the target is about.`,
    '- **Carotene gateway, authenticated route** (`GET /api/users/me`): a token verified the same way, then a call to the users service instead of the catalog.',
    `- **nginx-light**: ${oneWorker ? 'one worker process (like the one gateway process), ' : ''}\`proxy_pass\` to the catalog over HTTPS/1.1 with upstream keep-alive and TLS session reuse, presenting the gateway's certificate; the method and body are rewritten to the RPC call. No auth, no rate limit, no request id, no log: the floor for a proxy hop. (The Carotene gateway speaks \`carotene-rpc/1\` to the catalog instead: calls multiplexed on one mutual-TLS connection.)`,
    '- **catalog directly**: the bench calls `POST /rpc/listProducts` over HTTPS/1.1 with mutual TLS itself, on 50 connections: no proxy hop, but the bench process does the TLS work a proxy would, which is why a proxy in C can come out ahead of it.',
    '',
    "CPU per request is read from /proc over the measured rounds, for the proxy (the gateway process; nginx's master and worker) and for the service that answers: on shared cores a proxy's CPU is taken from the catalog, and the catalog's own cost depends on how it is called (HTTPS/1.1 from nginx and from the bench, `carotene-rpc/1` from the gateway), so read the rates with both columns.",
    missing ? `\nnginx was not measured on this run: ${missing}.` : '',
    '',
    markdownTable(['path', 'req/s', 'p50', 'p99', 'vs direct', 'proxy CPU/req', 'service CPU/req', 'errors'], rows),
    '',
    markdownTable(
      ['measure', 'target', 'result'],
      summary.map((s) => [s.measure, s.target, s.met === undefined ? s.ratio : `${s.ratio} (${metMark(s.met)})`]),
    ),
  ].join('\n');
  return { heading: 'Gateway', body, summary };
}
