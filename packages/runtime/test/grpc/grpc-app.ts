// A catalog served over gRPC, its callers (one allowed, one not) and a dependency for the
// deadline test; plus the catalog's protobuf descriptors, built by hand as the conventions of
// `@carotene/runtime/grpc` name them, and the same file as .proto text for standard clients.
import { setTimeout as sleep } from 'node:timers/promises';
import { create, createFileRegistry, type DescMessage, type Message } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { z } from 'zod';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { app, contract, handler, implement, rpc } from '../../../carotene/src/index.ts';
import type { GrpcContract, MessageCodec } from '../../src/transport/grpc-server.ts';

export const Pricing = contract('pricing', {
  quote: rpc({ input: z.object({ productId: z.string() }), output: z.object({ price: z.number() }) }),
});

export const Catalog = contract('catalog', {
  getProduct: rpc({
    input: z.object({ productId: z.string().min(1) }),
    output: z.object({ productId: z.string(), name: z.string(), price: z.number() }),
    errors: { UNKNOWN_PRODUCT: 404 },
  }),
  reserve: rpc({
    input: z.object({ productId: z.string().min(1), qty: z.number().int().min(1).max(1000) }),
    output: z.object({ reserved: z.number().int() }),
    errors: { OUT_OF_STOCK: 409 },
  }),
  slow: rpc({ input: z.object({ ms: z.number().int().min(0).max(60_000) }), output: z.object({ done: z.boolean() }) }),
});

export const Shop = contract('shop', { ping: rpc({ input: z.object({}), output: z.null() }) });
export const Intruder = contract('intruder', { ping: rpc({ input: z.object({}), output: z.null() }) });

/** What the slow handler saw after its sleep: the outcome of its next ctx.call. */
export const observed: string[] = [];

export const pricing = implement(Pricing, {}).handlers({
  quote: handler({}, async () => ({ price: 9.5 })),
});

export const catalog = implement(Catalog, { integrations: [Pricing] }).handlers({
  getProduct: handler({ calls: [Pricing] }, async ({ productId }, ctx) => {
    if (productId === 'missing') throw ctx.reject('UNKNOWN_PRODUCT', `no product ${productId}`);
    const { price } = await ctx.call.pricing.quote({ productId });
    return { productId, name: `product ${productId} for ${ctx.caller} (${ctx.requestId})`, price };
  }),
  reserve: handler({}, async ({ qty }, ctx) => {
    if (qty > 10) throw ctx.reject('OUT_OF_STOCK', `only 10 left, ${qty} asked`);
    return { reserved: qty };
  }),
  slow: handler({ calls: [Pricing] }, async ({ ms }, ctx) => {
    await sleep(ms);
    try {
      await ctx.call.pricing.quote({ productId: 'after-sleep' });
      observed.push('called');
    } catch (err) {
      observed.push(isCaroteneError(err) ? err.code : String(err));
      throw err;
    }
    return { done: true };
  }),
});

export const shop = implement(Shop, { integrations: [Catalog] }).handlers({ ping: handler({}, async () => null) });
export const intruder = implement(Intruder, {}).handlers({ ping: handler({}, async () => null) });

export default app({ name: 'grpcapp', services: [catalog, pricing, shop, intruder] });

export const CATALOG_PROTO = `syntax = "proto3";
package carotene.catalog.v1;

service Catalog {
  rpc GetProduct(GetProductRequest) returns (GetProductResponse);
  rpc Reserve(ReserveRequest) returns (ReserveResponse);
  rpc Slow(SlowRequest) returns (SlowResponse);
}
message GetProductRequest { string product_id = 1; }
message GetProductResponse { string product_id = 1; string name = 2; double price = 3; }
message ReserveRequest { string product_id = 1; int32 qty = 2; }
message ReserveResponse { int32 reserved = 1; }
message SlowRequest { int32 ms = 1; }
message SlowResponse { bool done = 1; }
`;

const T = FieldDescriptorProto_Type;
const f = (name: string, number: number, type: FieldDescriptorProto_Type) => ({
  name,
  number,
  type,
  label: FieldDescriptorProto_Label.OPTIONAL,
  jsonName: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
});
const catalogFile = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'catalog.proto',
    package: 'carotene.catalog.v1',
    syntax: 'proto3',
    messageType: [
      { name: 'GetProductRequest', field: [f('product_id', 1, T.STRING)] },
      { name: 'GetProductResponse', field: [f('product_id', 1, T.STRING), f('name', 2, T.STRING), f('price', 3, T.DOUBLE)] },
      { name: 'ReserveRequest', field: [f('product_id', 1, T.STRING), f('qty', 2, T.INT32)] },
      { name: 'ReserveResponse', field: [f('reserved', 1, T.INT32)] },
      { name: 'SlowRequest', field: [f('ms', 1, T.INT32)] },
      { name: 'SlowResponse', field: [f('done', 1, T.BOOL)] },
    ],
    service: [
      {
        name: 'Catalog',
        method: ['GetProduct', 'Reserve', 'Slow'].map((m) => ({
          name: m,
          inputType: `.carotene.catalog.v1.${m}Request`,
          outputType: `.carotene.catalog.v1.${m}Response`,
        })),
      },
    ],
  }),
  () => undefined,
).getFile('catalog.proto')!;

/** Flat messages only: their fields are the zod keys already (protobuf-es names them in camelCase). */
function codec(desc: DescMessage): MessageCodec {
  return {
    toMessage: (value) => create(desc, value as never) as Message,
    fromMessage: (message) =>
      Object.fromEntries(desc.fields.map((field) => [field.localName, (message as unknown as Record<string, unknown>)[field.localName]])),
  };
}

const service = catalogFile.services[0]!;
export const catalogGrpc: GrpcContract = {
  service,
  functions: Object.fromEntries(
    (['getProduct', 'reserve', 'slow'] as const).map((fn) => {
      const method = service.methods.find((m) => m.name.toLowerCase() === fn.toLowerCase())!;
      return [fn, { method, input: codec(method.input), output: codec(method.output) }];
    }),
  ),
};
