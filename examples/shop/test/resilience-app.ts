// The shop with tight resilience settings, so the breaker test sees timeouts and the
// breaker open within seconds: catalog.getProducts waits 500 ms for one attempt (no retries),
// and the orders → catalog breaker opens after 3 failures in a row and probes after 4 s;
// a charge is tried up to 6 times (and 10 failures in a row open its breaker), so one order
// outlasts every fault the payments test injects. The Python recommendations service is
// left out: nothing here calls it, and its dev.cwd is relative to the shop's own folder.
import { app } from 'carotene';
import shop from '../app.ts';

export default app({
  name: shop.name,
  services: shop.services.filter((s) => s.kind !== 'external'),
  gateway: shop.gateway,
  config: shop.config,
  environments: {
    development: {
      resilience: {
        integrations: {
          catalog: {
            breaker: { mode: 'consecutive', failures: 3, halfOpenAfterMs: 4_000 },
            functions: { getProducts: { timeoutMs: 500, retry: { maxAttempts: 1 } } },
          },
          payments: { retry: { maxAttempts: 6, baseDelayMs: 20 }, breaker: { failures: 10 } },
        },
      },
    },
  },
});
