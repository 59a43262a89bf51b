import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { app, contract, event, handler, implement, rpc, subscriber } from '../../../carotene/src/index.ts';
import { isCaroteneError } from '../../../carotene/src/errors.ts';
import { allowedCallers, callerCheck, eventPublishersOf } from '../../src/service/caller-policy.ts';
import { identityFromSan, spiffeId } from '../../src/security/identity.ts';

const fn = rpc({ input: z.object({}), output: z.null() });
const Users = contract('users', { jwks: fn, me: fn, register: fn });
const Catalog = contract('catalog', { reserve: fn, list: fn });
const Orders = contract('orders', { checkout: fn });
const Mail = contract('mail', { ping: fn });

const users = implement(Users).handlers({
  jwks: handler({}, async () => null),
  me: handler({ route: 'GET /me', auth: 'required' }, async () => null),
  register: handler({}, async () => null),
});
const catalog = implement(Catalog).handlers({
  reserve: handler({}, async () => null),
  list: handler({ route: 'GET /products' }, async () => null),
});
const orders = implement(Orders, { integrations: [Catalog, Users] }).handlers({
  checkout: handler({ calls: [Catalog], route: 'POST /checkout' }, async () => null),
});
// subscribes to an event that orders publishes
const OrderPlaced = event('orders', 'OrderPlaced', { version: 1, schema: z.object({ orderId: z.string() }) });
const mail = implement(Mail, { subscribes: [OrderPlaced] })
  .subscriptions({ OrderPlaced: subscriber({}, async () => undefined) })
  .handlers({ ping: handler({}, async () => null) });

const shop = app({
  name: 'shop',
  services: [users, catalog, orders, mail],
  gateway: { auth: { jwks: { service: 'users', function: 'jwks' }, issuer: 'i', audience: 'a' } },
});

describe('caller policy', () => {
  it('lets exactly the services that declared the integration call a function', () => {
    assert.deepEqual([...allowedCallers(shop, 'catalog', 'reserve')], ['orders']);
    assert.deepEqual([...allowedCallers(shop, 'mail', 'ping')], []);
  });

  it('adds the gateway for functions behind a public route and for the token-key function', () => {
    assert.deepEqual([...allowedCallers(shop, 'catalog', 'list')].sort(), ['gateway', 'orders']);
    assert.deepEqual([...allowedCallers(shop, 'users', 'jwks')].sort(), ['gateway', 'orders']);
    assert.deepEqual([...allowedCallers(shop, 'users', 'register')], ['orders']);
    assert.ok(!allowedCallers(shop, 'orders', 'checkout').has('catalog'));
  });

  it('lets a publisher deliver to the $ endpoints of its subscribers, and nobody else', () => {
    assert.deepEqual([...eventPublishersOf(mail)], ['orders']);
    assert.deepEqual([...allowedCallers(shop, 'mail', '$deliver')], ['orders']);
    assert.deepEqual([...allowedCallers(shop, 'catalog', '$deliver')], []);
    // the gateway never reaches a $ endpoint, even of a service with public routes
    assert.ok(!allowedCallers(shop, 'users', '$deliver').has('gateway'));
  });

  it('refuses with CALLER_NOT_ALLOWED naming caller, callee and who may call', () => {
    const check = callerCheck(shop, 'catalog');
    check('orders', 'reserve');
    check('gateway', 'list');
    assert.throws(
      () => check('users', 'reserve'),
      (err) => {
        assert.ok(isCaroteneError(err, 'CALLER_NOT_ALLOWED'));
        assert.equal(err.status, 403);
        assert.match(err.message, /'users' may not call catalog\.reserve: only orders is allowed/);
        assert.deepEqual(err.details, { caller: 'users', callee: 'catalog', function: 'reserve' });
        return true;
      },
    );
    assert.throws(() => check('gateway', 'reserve'), /public route/);
    assert.throws(() => callerCheck(shop, 'mail')('catalog', '$deliver'), /publishers of events/);
  });

  it('reads identities from certificate names', () => {
    assert.equal(spiffeId('shop', 'orders'), 'spiffe://shop/orders');
    assert.equal(identityFromSan('URI:spiffe://shop/orders', 'shop'), 'orders');
    assert.equal(identityFromSan('DNS:localhost, URI:spiffe://shop/orders', 'shop'), 'orders');
    assert.equal(identityFromSan('URI:spiffe://other/orders', 'shop'), undefined);
    assert.equal(identityFromSan('URI:spiffe://shop/orders, URI:spiffe://shop/gateway', 'shop'), undefined, 'two identities name none');
    assert.equal(identityFromSan('URI:spiffe://shop/orders/../gateway', 'shop'), undefined);
    assert.equal(identityFromSan(undefined, 'shop'), undefined);
  });
});
