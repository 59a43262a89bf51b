import { event } from 'carotene';
import { z } from 'zod';

const Line = z.object({ productId: z.string(), qty: z.number().int() });

/**
 * What the orders service tells others, keyed by order id (so one order's events are
 * handled in the order they happened). Consumers import these, as they import the contract.
 */
export const OrderPlaced = event('orders', 'OrderPlaced', {
  version: 1,
  schema: z.object({ orderId: z.string(), userId: z.string(), total: z.number().int(), items: z.array(Line) }),
});

export const OrderConfirmed = event('orders', 'OrderConfirmed', {
  version: 1,
  schema: z.object({ orderId: z.string(), userId: z.string(), total: z.number().int(), items: z.array(Line) }),
});

export const OrderFailed = event('orders', 'OrderFailed', {
  version: 1,
  schema: z.object({ orderId: z.string(), userId: z.string(), reason: z.string() }),
});
