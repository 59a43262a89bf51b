import { randomUUID } from 'node:crypto';
import { handler, implement } from 'carotene';
import { Catalog } from '../catalog/contract.ts';
import { Payments } from '../payments/contract.ts';
import { checkout, checkoutPermissions } from './checkout.ts';
import { CheckoutSaga } from './checkout-saga.ts';
import { MAX_TOTAL, Orders } from './contract.ts';
import { OrderConfirmed, OrderFailed, OrderPlaced } from './events.ts';
import { migrations } from './migrations/index.ts';
import { OrderItemTable, OrderTable } from './tables.ts';

export default implement(Orders, {
  stores: [OrderTable, OrderItemTable],
  integrations: [Catalog, Payments],
  publishes: [OrderPlaced, OrderConfirmed, OrderFailed],
  sagas: [CheckoutSaga],
  migrations,
}).handlers({
  createOrder: handler(
    { updates: [OrderTable, OrderItemTable], calls: [Catalog], publishes: [OrderPlaced], route: 'POST /api/orders', auth: 'required', status: 201 },
    async ({ items }, ctx) => {
      // Prices come from the catalog, never from the client.
      const { items: products } = await ctx.call.catalog.getProducts({ ids: items.map((i) => i.productId) });
      const byId = new Map(products.map((p) => [p.id, p]));
      const lines = items.map(({ productId, qty }, line) => {
        const product = byId.get(productId);
        if (!product) throw ctx.reject('UNKNOWN_PRODUCT', `No product '${productId}'`, { productId });
        return { line, productId, name: product.name, unitPrice: product.price, qty };
      });
      const total = lines.reduce((sum, l) => sum + l.unitPrice * l.qty, 0);
      if (total > MAX_TOTAL) throw ctx.reject('TOTAL_TOO_LARGE', `An order may total at most ${MAX_TOTAL} cents; this one is ${total}`);

      const id = `ord_${randomUUID()}`;
      const now = new Date().toISOString();
      await ctx.transaction(async (store) => {
        await store.orders.insert({ id, userId: ctx.auth.sub, status: 'PENDING', total, reason: null, createdAt: now, updatedAt: now });
        for (const l of lines) await store.order_items.insert({ id: `${id}/${l.line}`, orderId: id, ...l });
        // in the same transaction: the order and its event commit together, or neither does
        const placed = { orderId: id, userId: ctx.auth.sub, total, items: lines.map(({ productId, qty }) => ({ productId, qty })) };
        await ctx.publish(OrderPlaced, placed, { key: id });
      });
      return { id, status: 'PENDING', total };
    },
  ),

  checkout: handler(checkoutPermissions, checkout),

  getOrder: handler({ reads: [OrderTable, OrderItemTable], route: 'GET /api/orders/:id', auth: 'required' }, async ({ id }, ctx) => {
    const order = await ctx.store.orders.get(id);
    // Another user's order answers exactly like a missing one.
    if (!order || order.userId !== ctx.auth.sub) throw ctx.reject('NOT_FOUND', `No order '${id}'`);
    const items = await ctx.store.order_items.find({ orderId: id }, { orderBy: 'line' });
    return {
      id: order.id,
      status: order.status,
      total: order.total,
      ...(order.reason === null ? {} : { reason: order.reason }),
      items: items.map(({ productId, name, unitPrice, qty }) => ({ productId, name, unitPrice, qty })),
    };
  }),
});
