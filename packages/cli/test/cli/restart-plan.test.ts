import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { restartPlan } from '../../src/cli/restart-plan.ts';
import { sourceGraph } from '../../src/cli/source-graph.ts';
import shop from '../../../../examples/shop/app.ts';

const SHOP = fileURLToPath(new URL('../../../../examples/shop/', import.meta.url));
const file = (path: string) => join(SHOP, path);

describe('what carrot dev --watch restarts (the shop)', async () => {
  const graph = await sourceGraph(new Map(shop.services.map((s) => [s.name, s.source!.replace(/:\d+$/, '')])));
  const plan = (...paths: string[]) => restartPlan(new Set(paths.map(file)), graph, file('app.ts'));

  it("follows each service's imports, and leaves packages and tests out", () => {
    const orders = graph.get('orders')!;
    assert.ok(orders.has(file('services/orders/checkout-saga.ts')));
    assert.ok(orders.has(file('services/catalog/contract.ts')), 'orders calls the catalog');
    assert.ok(![...orders].some((f) => f.includes('node_modules') || f.endsWith('.test.ts') || f.includes('/packages/carotene/')));
  });

  it('a changed handler restarts its own service alone', () => {
    assert.deepEqual(plan('services/orders/checkout-saga.ts'), { services: ['orders'], everything: false });
    assert.deepEqual(plan('services/catalog/stock.ts'), { services: ['catalog'], everything: false });
  });

  it('a changed contract restarts its provider and its callers', () => {
    const callers = shop.services.filter((s) => s.integrations.some((c) => c.name === 'payments')).map((s) => s.name);
    assert.deepEqual(callers, ['orders']);
    assert.deepEqual(plan('services/payments/contract.ts'), {
      services: ['orders', 'payments'].sort((a, b) => shopOrder(a) - shopOrder(b)),
      everything: false,
    });
  });

  it('changed events restart their publisher and subscribers; the app module restarts everything; other files nothing', () => {
    assert.deepEqual(
      plan('services/orders/events.ts').services,
      ['catalog', 'orders', 'notifications', 'recommendations'].sort((a, b) => shopOrder(a) - shopOrder(b)),
    );
    assert.deepEqual(plan('app.ts'), { services: shop.services.map((s) => s.name), everything: true });
    assert.deepEqual(plan('services/orders/checkout.test.ts', 'README.md'), { services: [], everything: false });
  });
});

function shopOrder(name: string): number {
  return shop.services.findIndex((s) => s.name === name);
}
