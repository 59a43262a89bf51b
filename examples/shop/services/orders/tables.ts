import { table } from 'carotene';
import { z } from 'zod';
import { OrderStatus } from './contract.ts';

/** `total` in cents; `reason` says why a FAILED order failed. */
export const OrderTable = table('orders', {
  key: 'id',
  schema: z.object({
    id: z.string(),
    userId: z.string(),
    status: OrderStatus,
    total: z.number().int(),
    reason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
  indexes: [{ columns: ['userId'], name: 'orders_user' }],
});

/** Name and price as they were when the order was placed; `id` is `<orderId>/<line>`. */
export const OrderItemTable = table('order_items', {
  key: 'id',
  schema: z.object({
    id: z.string(),
    orderId: z.string(),
    line: z.number().int(),
    productId: z.string(),
    name: z.string(),
    unitPrice: z.number().int(),
    qty: z.number().int(),
  }),
  indexes: [{ columns: ['orderId'], name: 'order_items_order' }],
});
