import { z } from 'zod';
import { contract, rpc } from '../../../carotene/src/index.ts';

/** One contract with every construct the protobuf mapping knows, for the mapping and round-trip tests. */
export const Everything = contract('every-thing', {
  scalars: rpc({
    input: z.object({
      text: z.string().min(1),
      email: z.email(),
      flag: z.boolean(),
      ratio: z.number(),
      small: z.number().int().min(0).max(1000),
      big: z.number().int(),
      int32: z.int32(),
      positive: z.number().int().positive().max(2_147_483_647),
      tooBig: z.number().int().min(0).max(2_147_483_648),
      lit: z.literal('x'),
      yes: z.literal(true),
      one: z.literal(1),
      ab: z.union([z.literal('a'), z.literal('b')]),
      tpl: z.templateLiteral(['id_', z.number()]),
      productId: z.string(),
      URLPath: z.string(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
    output: z.object({ ok: z.boolean() }),
    idempotent: true,
  }),
  presence: rpc({
    input: z.object({
      maybe: z.string().optional(),
      orNull: z.string().nullable(),
      both: z.string().nullish(),
      withDefault: z.number().int().min(0).max(9).default(3),
      caught: z.string().catch('c'),
      fixed: z.string().readonly(),
      objMaybe: z.object({ a: z.string() }).optional(),
      objNull: z.object({ a: z.string() }).nullable(),
      objBoth: z.object({ a: z.string() }).nullish(),
      tagsMaybe: z.array(z.string()).optional(),
      tagsNull: z.array(z.string()).nullable(),
      unionNull: z.union([z.string(), z.null()]),
    }),
    output: z.void(),
  }),
  collections: rpc({
    input: z.object({
      tags: z.array(z.string()),
      lines: z.array(z.object({ productId: z.string(), qty: z.number().int().min(1).max(10) })),
      grid: z.array(z.array(z.number())),
      holes: z.array(z.string().nullable()),
      counts: z.record(z.string(), z.number().int().min(0).max(10)),
      byKind: z.record(z.enum(['a', 'b']), z.object({ n: z.number() })),
      lists: z.record(z.string(), z.array(z.string())),
      colors: z.array(z.enum(['red', 'green'])),
    }),
    output: z.array(z.string()),
  }),
  enums: rpc({
    input: z.object({ kind: z.enum(['ORDER_PLACED', 'orderConfirmed', 'in-stock']), level: z.enum({ Low: 1, High: 2 }).optional() }),
    output: z.enum(['A', 'B']),
  }),
  unions: rpc({
    input: z.object({
      payment: z.discriminatedUnion('method', [
        z.object({ method: z.literal('card'), number: z.string() }),
        z.object({ method: z.literal('bank-transfer'), iban: z.string() }),
      ]),
      shape: z.union([z.object({ radius: z.number() }), z.object({ side: z.number() })]).optional(),
      events: z.array(z.discriminatedUnion('type', [z.object({ type: z.literal('a'), a: z.string() }), z.object({ type: z.literal('b'), b: z.number() })])),
    }),
    output: z.union([z.object({ ok: z.literal(true), id: z.string() }), z.object({ ok: z.literal(false), error: z.string() })]),
  }),
  wrappers: rpc({
    input: z.string().trim().toLowerCase().pipe(z.email()),
    output: z
      .object({ length: z.number().int().min(0).max(10) })
      .transform((o) => o.length)
      .pipe(z.number().int().min(0).max(10)),
  }),
  nothing: rpc({ input: z.undefined(), output: z.null() }),
});
