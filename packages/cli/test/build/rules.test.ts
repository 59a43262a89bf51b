import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { carrot, fixtureApp, tempDir } from './run-carrot.ts';

/** Builds a fixture app that breaks one rule: exit 1, the exact problem lines, nothing written. */
async function refused(name: string): Promise<string[]> {
  const { file, shown } = fixtureApp(name);
  const out = tempDir();
  const result = await carrot(['build', file, '--out', out, '--data-dir', tempDir()]);
  assert.equal(result.code, 1, result.err.join('\n'));
  assert.equal(existsSync(join(out, 'kubernetes')), false, 'a refused build writes nothing');
  const last = result.err.at(-1)!;
  assert.match(last, /^carrot build: \d+ problems? in 'shop'; nothing was written$/);
  return result.err.slice(0, -1).map((line) => line.replace(shown, '<app>').replace(`(${dirname(shown)}/`, '(<fixtures>/'));
}

describe('carrot build refuses, with the app file, the service and where it was declared, and the handler', () => {
  it('a handler calling an integration its service did not declare', async () => {
    assert.deepEqual(await refused('undeclared-integration'), [
      "<app>: service 'orders' (<fixtures>/services.ts:27), handler 'checkout': calls 'payments', which the service does not declare; add its contract to implement(..., { integrations: [...] }) [undeclared-integration]",
    ]);
  });

  it('an integration naming a service that is not part of the app', async () => {
    assert.deepEqual(await refused('unknown-service'), [
      "<app>: service 'orders' (<fixtures>/services.ts:27), integration 'payments': names service 'payments', which is not part of the app (services: catalog, orders) [unknown-integration]",
    ]);
  });

  it('an integration naming a function the provider does not offer', async () => {
    assert.deepEqual(await refused('unknown-function'), [
      "<app>: service 'orders' (<fixtures>/unknown-function.ts:12), integration 'catalog': names function 'listProducts', which service 'catalog' does not offer; import the provider's contract.ts instead of a copy [unknown-integration]",
    ]);
  });

  it('a cycle of synchronous calls between services', async () => {
    assert.deepEqual(await refused('sync-cycle'), [
      "<app>: service 'catalog' (<fixtures>/sync-cycle.ts:12): synchronous calls form a cycle: catalog -> orders -> catalog; break it with an event or by moving the function [sync-cycle]",
    ]);
  });

  it('a store declared by two services', async () => {
    assert.deepEqual(await refused('shared-store'), [
      "<app>: service 'payments' (<fixtures>/shared-store.ts:5), store 'orders': store 'orders' is also declared by service 'orders'; a store has one owner, the other service should call it [shared-store]",
    ]);
  });

  it('an event subscribed to that nobody publishes', async () => {
    assert.deepEqual(await refused('orphan-subscription'), [
      "<app>: service 'payments' (<fixtures>/orphan-subscription.ts:8), subscription 'orders.OrderPlaced': subscribes to 'orders.OrderPlaced', which no service of the app publishes; add it to 'orders's publishes or drop the subscription [orphan-subscription]",
    ]);
  });

  it('a saga touching what its service does not declare, and a handler starting a saga its service does not list', async () => {
    assert.deepEqual(await refused('saga-permissions'), [
      "<app>: service 'orders' (<fixtures>/saga-permissions.ts:13), saga 'pay-v2': calls 'payments', which the service does not declare; add its contract to implement(..., { integrations: [...] }) [saga-permissions]",
      "<app>: service 'orders' (<fixtures>/saga-permissions.ts:13), saga 'pay-v2': uses table 'orders', which is not in the service's stores [saga-permissions]",
      "<app>: service 'orders' (<fixtures>/saga-permissions.ts:13), handler 'checkout': starts saga 'pay', which the service does not list; add it to implement(..., { sagas: [...] }) [saga-permissions]",
    ]);
  });

  it('a public route declared twice', async () => {
    assert.deepEqual(await refused('duplicate-route'), [
      "<app>: service 'payments' (<fixtures>/duplicate-route.ts:8), handler 'charge': public route 'GET /api/products/:productId' is already served by catalog.getProduct [duplicate-route]",
    ]);
  });

  it('an app module that app() itself refuses, with the file', async () => {
    const { file } = fixtureApp('services');
    const result = await carrot(['build', file, '--out', tempDir()]);
    assert.equal(result.code, 1);
    assert.equal(result.err[0], `carrot build: ${file} must \`export default app({...})\`; its default export is missing`);
  });

  it('builds the valid fixture', async () => {
    const { file } = fixtureApp('valid');
    const result = await carrot(['build', file, '--out', tempDir(), '--data-dir', tempDir(), '--env', 'development', '--no-typecheck']);
    assert.equal(result.code, 0, result.err.join('\n'));
    assert.equal(result.out[0], "carrot build: 'shop' is valid (3 services)");
  });
});
