// The one JSON payload every RPC contender carries, in two sizes, and its protobuf twin.
import { z } from 'zod';

export const OrderSchema = z.object({
  id: z.string().max(64),
  customer: z.string().max(64),
  items: z.array(z.object({ sku: z.string().max(32), qty: z.number().int().min(1), priceCents: z.number().int().min(0) })).max(100),
  note: z.string().max(1000),
});
export type Order = z.infer<typeof OrderSchema>;

function order(items: number, note: string): Order {
  return {
    id: 'o_0001234',
    customer: 'c_000042',
    items: Array.from({ length: items }, (_, i) => ({ sku: `p_${String(i + 1).padStart(3, '0')}`, qty: 1 + (i % 3), priceCents: 1299 + i })),
    note,
  };
}

/** ~100 bytes and ~1 KB of JSON. */
export const PAYLOADS: Readonly<Record<'100B' | '1KB', Order>> = {
  '100B': order(1, 'leave at door'),
  '1KB': order(18, 'leave at the door; ring twice and wait, the dog is friendly but loud. '.repeat(2)),
};

/** The same message for the gRPC contender: field for field what the JSON carries. */
export const ORDER_PROTO = `
syntax = "proto3";
package bench;
message Item { string sku = 1; int32 qty = 2; int32 priceCents = 3; }
message Order { string id = 1; string customer = 2; repeated Item items = 3; string note = 4; }
service Echo { rpc Echo (Order) returns (Order); }
`;
