import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openApiDocument, openApiPath } from '../../src/build/openapi.ts';
import { loadApp } from '../../src/cli/app-module.ts';
import { createGateway } from '../../../gateway/src/index.ts';
import { createLogger } from '../../../runtime/src/service/logger.ts';
import type { Transport } from '../../../runtime/src/transport/transport.ts';
import { fixtureApp, SHOP } from './run-carrot.ts';

// biome-ignore lint/suspicious/noExplicitAny: reading a generated document
type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** `GET /api/products/{id}` for every operation of the document. */
function operations(doc: Json): string[] {
  return Object.entries(doc.paths as Json)
    .flatMap(([path, item]) =>
      Object.keys(item as Json)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort();
}

describe('OpenAPI of the public API', () => {
  it('is a valid OpenAPI 3.1 document for the shop', async () => {
    const doc = openApiDocument(await loadApp(SHOP));
    const result = await new Validator().validate(doc as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(doc.openapi, '3.1.0');
  });

  it('has exactly the routes the gateway serves', async () => {
    const shop = await loadApp(SHOP);
    const doc = openApiDocument(shop) as Json;
    const declared = shop.services.flatMap((s) => s.routes.map((r) => `${r.method} ${openApiPath(r.path)}`)).sort();
    assert.deepEqual(operations(doc), declared);

    const unused: Transport = { call: () => Promise.reject(new Error('not called')), close: () => Promise.resolve() };
    const gateway = createGateway({ app: shop, transport: unused, logger: createLogger('gateway', 'silent') });
    try {
      for (const s of shop.services) {
        for (const r of s.routes) assert.ok(gateway.server.hasRoute({ method: r.method, url: r.path }), `gateway serves ${r.method} ${r.path}`);
      }
      // and nothing public that the document leaves out: rebuild full paths from fastify's route tree
      const stack: string[] = [];
      let seen = 0;
      for (const line of gateway.server.printRoutes({ commonPrefix: false }).split('\n')) {
        const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)/.exec(line);
        if (!m) continue;
        const depth = m[1]!.length / 4;
        stack.length = depth;
        stack.push(m[2]!);
        const path = stack.join('');
        if (!path.startsWith('/api')) continue;
        for (const method of m[3]!.split(', ').filter((x) => x !== 'HEAD' && x !== 'OPTIONS')) {
          seen++;
          assert.ok(operations(doc).includes(`${method} ${openApiPath(path)}`), `${method} ${path} is in the document`);
        }
      }
      assert.equal(seen, declared.length);
    } finally {
      await gateway.close();
    }
  });

  it('describes parameters, body, answers, errors and auth from the contract', async () => {
    const doc = openApiDocument(await loadApp(fixtureApp('valid').file)) as Json;
    const get = doc.paths['/api/products/{id}'].get;
    assert.deepEqual(get.parameters, [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
    assert.deepEqual(Object.keys(get.responses), ['200', '400', '404', '413', '500', '503', '504']);
    assert.equal(get.responses['404'].description, 'Not found: NOT_FOUND');
    assert.equal(get.security, undefined);
    const checkout = doc.paths['/api/orders/{orderId}/checkout'].post;
    assert.deepEqual(checkout.security, [{ bearerAuth: [] }]);
    assert.equal(checkout.requestBody, undefined, 'orderId comes from the path');
    assert.ok(checkout.responses['401']);
    assert.deepEqual(checkout.responses['200'].content['application/json'].schema.properties.status, { type: 'string', enum: ['Paid', 'Failed'] });
  });
});
