import { contract, rpc } from 'carotene';
import { z } from 'zod';

export const Recommendation = z.object({ id: z.string(), name: z.string(), price: z.number().int() });

/**
 * Products to show beside a product: those most often bought with it, then those nearest in
 * price. Implemented in Python (`server.py`) against the `.proto` generated from this contract.
 *
 * ```ts
 * const { items } = await ctx.call.recommendations.recommend({ id: 'p_001' });
 * ```
 */
export const Recommendations = contract('recommendations', {
  recommend: rpc({
    input: z.object({ id: z.string().min(1).max(64) }),
    output: z.object({ items: z.array(Recommendation).max(4) }),
    errors: { NOT_FOUND: 404 },
    idempotent: true,
  }),
});
