// `carrot sagas list|show` on the databases of an app whose sagas ran (in-process here).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { main } from '../../../cli/src/cli/main.ts';
import { sqliteFile } from '../../src/service/process-env.ts';
import type { ServiceRuntime } from '../../src/service/service-runtime.ts';
import { openStore, type StoreDriver } from '../../src/store/driver.ts';
import { bank, FaultyTransport, runService, shop, stock } from './fixture.ts';

const APP = fileURLToPath(new URL('./fixtures/saga-app.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'carrot-sagas-'));

async function carrot(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('carrot sagas', () => {
  const stores: StoreDriver[] = [];
  let orders: ServiceRuntime;
  before(async () => {
    const transport = new FaultyTransport();
    for (const def of [stock, bank, shop]) {
      const store = await openStore({ file: sqliteFile(dataDir, def.name) });
      stores.push(store);
      const runtime = await runService(def, store, transport);
      if (def === shop) orders = runtime;
      if (def === stock) await store.db.insertInto('items').values({ id: 'widget', stock: 5 }).execute();
    }
    // one completed, one compensated (declined), one that retried its reservation once
    transport.faults.set('stock.reserve', (n) => (n === 3 ? 'down' : undefined));
    const meta = () => ({ caller: 'test', requestId: 'r', deadline: Date.now() + 10_000 });
    await orders.invoke('buy', { orderId: 'ok', qty: 1, amount: 10 }, meta());
    await orders.invoke('buy', { orderId: 'declined', qty: 1, amount: 5000 }, meta());
    await orders.invoke('buy', { orderId: 'retried', qty: 1, amount: 10 }, meta());
  });
  after(async () => {
    await orders.sagas?.close();
    for (const s of stores) await s.close();
  });

  it('lists the instances of every orchestrating service, newest first, with failures', async () => {
    const r = await carrot('sagas', 'list', APP, '--data-dir', dataDir);
    assert.equal(r.code, 0, r.err.join('\n'));
    const text = r.out.join('\n');
    assert.match(text, /^shop {2}buy\/retried {2}completed {2}started \S+ {2}ended \S+$/m);
    assert.match(text, /^shop {2}buy\/declined {2}compensated .*\n {4}pay: SAGA_STEP_FAILED card declined$/m);
    assert.match(text, /^shop {2}buy\/ok {2}completed /m);
    assert.equal(r.out.at(-1), '3 saga instances');
    assert.ok(text.indexOf('buy/retried') < text.indexOf('buy/ok'), 'newest first');
  });

  it('filters by status, and answers JSON', async () => {
    const r = await carrot('sagas', 'list', APP, '--data-dir', dataDir, '--status', 'compensated', '--json');
    assert.equal(r.code, 0, r.err.join('\n'));
    const rows = r.out.map((l) => JSON.parse(l) as { service: string; id: string; status: string; failure: { code: string } });
    assert.deepEqual(
      rows.map((x) => [x.service, x.id, x.status, x.failure.code]),
      [['shop', 'buy/declined', 'compensated', 'SAGA_STEP_FAILED']],
    );
  });

  it('shows one instance with every try of every step and its idempotency key', async () => {
    const r = await carrot('sagas', 'show', 'buy/retried', APP, '--data-dir', dataDir);
    assert.equal(r.code, 0, r.err.join('\n'));
    const text = r.out.join('\n');
    assert.match(text, /^buy\/retried {2}\(saga 'buy' of shop\)$/m);
    assert.match(text, /status {4}completed/);
    assert.match(text, /input {5}\{"orderId":"retried","qty":1,"amount":10\}/);
    assert.match(text, /reserve +#1 {2}error .*key=buy\/retried\/reserve {2}UNAVAILABLE stock is down/);
    assert.match(text, /reserve +#2 {2}done .*key=buy\/retried\/reserve {2}\{"left":3\}/);
    assert.match(text, /pay +#1 {2}done .*key=buy\/retried\/pay/);
    const declined = (await carrot('sagas', 'show', 'buy/declined', APP, '--data-dir', dataDir)).out.join('\n');
    assert.match(declined, /failure {3}pay: SAGA_STEP_FAILED card declined/);
    assert.match(declined, /undo reserve +#1 {2}done .*key=buy\/declined\/reserve\/compensate {2}\{"released":true\}/);
  });

  it('refuses an unknown instance, status or sub-command', async () => {
    const missing = await carrot('sagas', 'show', 'buy/nope', APP, '--data-dir', dataDir);
    assert.equal(missing.code, 1);
    assert.match(missing.err.join('\n'), /no saga instance 'buy\/nope' in 'shop'/);
    const status = await carrot('sagas', 'list', APP, '--data-dir', dataDir, '--status', 'done');
    assert.equal(status.code, 2);
    assert.match(status.err.join('\n'), /--status must be one of running, compensating, completed, compensated/);
    assert.equal((await carrot('sagas', 'rewind', APP)).code, 2);
    const noSagas = await carrot('sagas', 'list', APP, '--data-dir', dataDir, '--service', 'bank');
    assert.equal(noSagas.code, 0);
    assert.deepEqual(noSagas.out, ['no saga instances']);
  });
});
