import { table } from 'carotene';
import { z } from 'zod';

/** Prices in integer cents. `stock` is what is left to sell; reservations have already left it. */
export const ProductTable = table('products', {
  key: 'id',
  schema: z.object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    price: z.number().int(),
    stock: z.number().int(),
    /** Units sold by confirmed orders, counted from the orders service's events. */
    sold: z.number().int().default(0),
    createdAt: z.string(),
  }),
});

/** Stock held for an order, one row per product; `id` is `<orderId>/<productId>`. */
export const ReservationTable = table('reservations', {
  key: 'id',
  schema: z.object({
    id: z.string(),
    orderId: z.string(),
    productId: z.string(),
    qty: z.number().int(),
  }),
  indexes: [{ columns: ['orderId'], name: 'reservations_order' }],
});

export function reservationId(orderId: string, productId: string): string {
  return `${orderId}/${productId}`;
}
