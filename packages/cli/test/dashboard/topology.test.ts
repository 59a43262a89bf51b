import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import shop from '../../../../examples/shop/app.ts';
import { topologyOf } from '../../src/dashboard/topology.ts';

describe('topologyOf', () => {
  const topology = topologyOf(shop);
  const edges = (kind: string) =>
    topology.edges
      .filter((e) => e.kind === kind)
      .map((e) => `${e.from}>${e.to}${kind === 'event' ? ` ${e.label}` : ''}`)
      .sort();

  it('has the gateway and every service of the app', () => {
    assert.deepEqual(topology.nodes.map((n) => n.id).sort(), ['catalog', 'gateway', 'notifications', 'orders', 'payments', 'recommendations', 'users']);
    const orders = topology.nodes.find((n) => n.id === 'orders')!;
    assert.ok(orders.routes.includes('POST /api/orders/:id/checkout'), orders.routes.join());
    assert.deepEqual([...orders.publishes].sort(), ['orders.OrderConfirmed', 'orders.OrderFailed', 'orders.OrderPlaced']);
  });

  it('draws the declared calls, event flows per publisher and subscriber, and the routes the gateway serves', () => {
    assert.deepEqual(edges('call'), ['orders>catalog', 'orders>payments', 'recommendations>catalog']);
    assert.deepEqual(edges('event'), [
      'orders>catalog OrderConfirmed',
      'orders>notifications OrderConfirmed, OrderFailed, OrderPlaced',
      'orders>recommendations OrderConfirmed',
    ]);
    // payments has no public route: the gateway never reaches it
    assert.deepEqual(edges('route'), ['gateway>catalog', 'gateway>notifications', 'gateway>orders', 'gateway>recommendations', 'gateway>users']);
    assert.equal(topology.edges.find((e) => e.to === 'orders' && e.kind === 'route')!.label, '3 routes');
  });

  it('lays out columns along calls and events: callees and subscribers right of their callers', () => {
    const column = (id: string) => topology.nodes.find((n) => n.id === id)!.column;
    assert.equal(column('gateway'), 0);
    for (const e of topology.edges.filter((x) => x.kind !== 'route')) assert.ok(column(e.to) > column(e.from), `${e.from} -> ${e.to}`);
    const cells = topology.nodes.map((n) => `${n.column}:${n.row}`);
    assert.equal(new Set(cells).size, cells.length, 'no two boxes in one place');
  });
});
