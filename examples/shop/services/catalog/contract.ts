import { contract, rpc } from 'carotene';
import { z } from 'zod';

const ProductId = z.string().min(1).max(64);
const Cents = z.number().int().min(0).max(100_000_000);
const Stock = z.number().int().min(0).max(1_000_000);

export const ProductSummary = z.object({ id: z.string(), name: z.string(), price: z.number().int(), stock: z.number().int() });
export const Product = ProductSummary.extend({ description: z.string(), sold: z.number().int() });

const Lines = z
  .array(z.object({ productId: ProductId, qty: z.number().int().min(1).max(10_000) }))
  .min(1)
  .max(100);

/**
 * Products, prices and stock. Orders reserve stock here per order id, and release it when a
 * checkout fails.
 *
 * ```ts
 * await ctx.call.catalog.reserveStock({ orderId, items: [{ productId: 'p_001', qty: 2 }] });
 * ```
 */
export const Catalog = contract('catalog', {
  listProducts: rpc({
    input: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(20),
      /** The `next` of the previous page. */
      cursor: z.string().max(64).optional(),
      /** Case-insensitive part of the product name. */
      q: z.string().trim().max(100).optional(),
    }),
    output: z.object({ items: z.array(ProductSummary), next: z.string().nullable() }),
    idempotent: true,
  }),
  getProduct: rpc({
    input: z.object({ id: ProductId }),
    output: Product,
    errors: { NOT_FOUND: 404 },
    idempotent: true,
  }),
  /** The products that exist among `ids`, in no particular order; unknown ids are left out. */
  getProducts: rpc({
    input: z.object({ ids: z.array(ProductId).min(1).max(100) }),
    output: z.object({ items: z.array(ProductSummary) }),
    idempotent: true,
  }),
  createProduct: rpc({
    input: z.object({
      name: z.string().trim().min(1).max(200),
      description: z.string().max(2000).default(''),
      price: Cents,
      stock: Stock.default(0),
    }),
    output: Product,
  }),
  updateProduct: rpc({
    input: z.object({
      id: ProductId,
      name: z.string().trim().min(1).max(200).optional(),
      description: z.string().max(2000).optional(),
      price: Cents.optional(),
      stock: Stock.optional(),
    }),
    output: Product,
    errors: { NOT_FOUND: 404 },
    idempotent: true,
  }),
  /** Takes stock for every line, all or nothing. Repeating it for the same order takes nothing more. */
  reserveStock: rpc({
    input: z.object({ orderId: z.string().min(1).max(64), items: Lines }),
    output: z.object({ reserved: z.literal(true) }),
    errors: { OUT_OF_STOCK: 409, UNKNOWN_PRODUCT: 422 },
    idempotent: true,
  }),
  /** Gives back what `reserveStock` took for the order; `released` is false when it held nothing. */
  releaseStock: rpc({
    input: z.object({ orderId: z.string().min(1).max(64) }),
    output: z.object({ released: z.boolean() }),
    idempotent: true,
  }),
});
