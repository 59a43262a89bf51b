// Gateway: the catalog's product list through the Carotene gateway, through nginx as a plain
// reverse proxy in front of the same catalog process, and straight to the catalog.
import { readFileSync } from 'node:fs';
import { Pool, type Dispatcher } from 'undici';
import { tlsFiles } from '../../packages/carotene/src/security/cert-paths.ts';
import { concurrent, joinSamples, throughput, type LoadResult } from '../lib/load.ts';
import { ensureNginx, startNginx, type RunningNginx } from '../lib/nginx.ts';
import { metMark, type Scenario, type SummaryRow } from '../lib/scenario.ts';
import { ADMIN, freePort, login, readRegistry, servicePool, startShop, type RunningShop } from '../lib/shop.ts';
import { median, ms, percentile, perSecond, ratio } from '../lib/stats.ts';
import { markdownTable } from '../lib/table.ts';

const LIMITS = {
  warmup: { count: 2_000, maxMs: 5_000, inFlight: 20 },
  run: { rounds: 3, count: 200_000, maxMs: 4_000, inFlight: 50 },
};

interface Target {
  readonly name: string;
  readonly pool: Pool;
  readonly request: Dispatcher.RequestOptions;
}

async function hit(t: Target): Promise<void> {
  const res = await t.pool.request(t.request);
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`${t.name}: status ${res.statusCode}`);
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
      shop = await startShop([], 120_000);
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
      const targets: Target[] = [
        { name: 'Carotene gateway', pool: pool(shop.url), request: { method: 'GET', path: '/api/products' } },
      ];
      if (!missing) {
        nginx = await startNginx(nginxConfig(await freePort(), catalogUrl, shop.dataDir));
        targets.push({ name: 'nginx-light reverse proxy', pool: pool(nginx.url), request: { method: 'GET', path: '/api/products' } });
      }
      targets.push(
        { name: 'catalog directly (mTLS, no proxy)', pool: direct, request: { method: 'POST', path: '/rpc/listProducts', headers: { 'content-type': 'application/json' }, body: '{}' } },
        {
          name: 'Carotene gateway, authenticated route (JWT verified)',
          pool: pool(shop.url),
          request: { method: 'GET', path: '/api/users/me', headers: { authorization: `Bearer ${token}` } },
        },
      );
      // every target must answer the same thing before it is measured
      for (const t of targets) {
        await hit(t);
        await concurrent(() => hit(t), LIMITS.warmup);
      }
      const rounds: LoadResult[][] = targets.map(() => []);
      for (let round = 0; round < LIMITS.run.rounds; round++) {
        for (const [i, t] of targets.entries()) {
          const r = await concurrent(() => hit(t), LIMITS.run);
          if (r.errors > 0) log(`  ${t.name}: ${r.errors} errors, first: ${String(r.firstError)}`);
          rounds[i]!.push(r);
        }
      }
      const figures = targets.map((t, i): Figures => {
        const all = joinSamples(rounds[i]!);
        const f = {
          rate: median(rounds[i]!.map(throughput)),
          p50: percentile(all, 50),
          p99: percentile(all, 99),
          errors: rounds[i]!.reduce((n, r) => n + r.errors, 0),
        };
        log(`  ${t.name}: ${perSecond(f.rate)}, p50 ${ms(f.p50)}, p99 ${ms(f.p99)}, errors ${f.errors}`);
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
  const gw = figures[0]!;
  const nginxAt = targets.findIndex((t) => t.name.startsWith('nginx'));
  const ng = nginxAt >= 0 ? figures[nginxAt] : undefined;
  const directAt = targets.findIndex((t) => t.name.startsWith('catalog directly'));
  const direct = figures[directAt]!;
  const rows = targets.map((t, i) => {
    const f = figures[i]!;
    return [t.name, perSecond(f.rate), ms(f.p50), ms(f.p99), ratio(f.rate, direct.rate), String(f.errors)];
  });
  const summary: SummaryRow[] = ng
    ? [
        { measure: 'gateway req/s (product list)', carotene: perSecond(gw.rate), reference: `${perSecond(ng.rate)} nginx`, ratio: ratio(gw.rate, ng.rate), target: '≥ 1× nginx', met: gw.rate >= ng.rate },
        { measure: 'gateway p99 (product list)', carotene: ms(gw.p99), reference: `${ms(ng.p99)} nginx`, ratio: ratio(gw.p99, ng.p99), target: '≤ 1× nginx', met: gw.p99 <= ng.p99 },
      ]
    : [{ measure: 'gateway req/s (product list)', carotene: perSecond(gw.rate), reference: `${perSecond(direct.rate)} direct`, ratio: ratio(gw.rate, direct.rate), target: '≥ 1× nginx (no nginx here)', met: undefined }];
  const body = [
    `\`GET /api/products\` (the catalog's \`listProducts\`, 20 products, about 2 KB of JSON) with ${LIMITS.run.inFlight} requests in flight on ${LIMITS.run.inFlight} keep-alive connections, ${LIMITS.run.rounds} rounds of ${LIMITS.run.maxMs / 1000} s per target, interleaved; req/s is the median round, p50/p99 over all requests. The shop runs under \`carrot dev\` (one process per service, logs on); the catalog behind every row is the same process, reached over mutual TLS.`,
    '',
    `- **Carotene gateway**: routing, request id, deadline, access log, the call to the catalog over mTLS. The product list is a public route, so no token is read; the last row is an authenticated route (\`GET /api/users/me\`: JWT signature and claims verified, then a call to users) for the cost of verification. The shop declares rate limits only for sign-in and sign-up (\`rateLimit.default: 'off'\`), so these rows pass no token bucket: the limiter's cost is not in them.`,
    `- **nginx-light**: ${oneWorker ? 'one worker process (like the one gateway process), ' : ''}\`proxy_pass\` to the catalog with upstream keep-alive and TLS session reuse, presenting the gateway's certificate; the method and body are rewritten to the RPC call. No auth, no request id, no log: the floor for a proxy hop.`,
    '- **catalog directly**: the bench calls `POST /rpc/listProducts` over mTLS itself: no proxy hop at all.',
    missing ? `\nnginx was not measured on this run: ${missing}.` : '',
    '',
    markdownTable(['path', 'req/s', 'p50', 'p99', 'vs direct', 'errors'], rows),
    '',
    markdownTable(['measure', 'target', 'result'], summary.map((s) => [s.measure, s.target, s.met === undefined ? s.ratio : `${s.ratio} (${metMark(s.met)})`])),
  ].join('\n');
  return { heading: 'Gateway', body, summary };
}
