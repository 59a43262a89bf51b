// A handler that reaches at run time what it did not declare (a cast, plain JavaScript) is a
// bug of its service: logged there at error level with what was missing, and answered to
// the public client as a bare 500 with the request id, naming nothing inside.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { app, contract, handler, implement, rpc, table } from '../../carotene/src/index.ts';
import { createGateway } from '../src/index.ts';
import { createLogger } from '../../runtime/src/service/logger.ts';
import { ServiceRuntime } from '../../runtime/src/service/service-runtime.ts';
import { openStore, type StoreDriver } from '../../runtime/src/store/driver.ts';
import { migrate } from '../../runtime/src/store/migrations.ts';
import { InProcessTransport, LocalServices } from '../../runtime/src/transport/in-process-transport.ts';
import { captureLogger } from './fixtures.ts';

const Members = contract('members', { find: rpc({ input: z.object({ id: z.string() }), output: z.object({ name: z.string() }) }) });
const Loans = contract('loans', {
  peek: rpc({ input: z.object({ id: z.string() }), output: z.null() }),
  lend: rpc({ input: z.object({ id: z.string() }), output: z.null() }),
  scribble: rpc({ input: z.object({ id: z.string() }), output: z.null() }),
});
const Ledger = table('ledger_entries', { key: 'id', schema: z.object({ id: z.string() }) });
const Loan = table('loans', { key: 'id', schema: z.object({ id: z.string() }) });

type Loose = Record<string, Record<string, (input: unknown) => Promise<unknown>>>;

const members = implement(Members).handlers({ find: handler({}, async ({ id }) => ({ name: id })) });
const loans = implement(Loans, {
  stores: [Ledger, Loan],
  integrations: [Members],
  migrations: {
    '0001': {
      async up(db) {
        for (const name of ['ledger_entries', 'loans'])
          await db.schema
            .createTable(name)
            .addColumn('id', 'text', (c) => c.primaryKey())
            .execute();
      },
    },
  },
}).handlers({
  // each escapes the types on purpose
  peek: handler({ reads: [Loan], route: 'GET /api/loans/:id' }, async ({ id }, ctx) => {
    await (ctx.store as unknown as Loose)['ledger_entries']!['get']!(id);
    return null;
  }),
  lend: handler({ route: 'POST /api/loans/:id' }, async ({ id }, ctx) => {
    await (ctx.call as unknown as Loose)['members']!['find']!({ id });
    return null;
  }),
  scribble: handler({ reads: [Loan], route: 'PUT /api/loans/:id' }, async ({ id }, ctx) => {
    await (ctx.store.loans as unknown as Loose[string])['insert']!({ id });
    return null;
  }),
});

describe('a permission the handler did not declare, through the gateway', () => {
  const serviceLines: Record<string, unknown>[] = [];
  let store: StoreDriver;
  let gw: ReturnType<typeof createGateway>;

  before(async () => {
    store = await openStore({ file: ':memory:' });
    await migrate(store.db, loans.migrations, 'loans');
    const local = new LocalServices();
    const log = createLogger('loans', 'debug', { write: (line: string) => void serviceLines.push(JSON.parse(line) as Record<string, unknown>) });
    local.register('loans', new ServiceRuntime({ def: loans, store, transport: new InProcessTransport('loans', local), config: undefined, log }));
    gw = createGateway({
      app: app({ name: 'library', services: [loans, members] }),
      transport: new InProcessTransport('gateway', local),
      logger: captureLogger().logger,
    });
  });
  after(async () => {
    await gw.server.close();
    await store.close();
  });

  const cases = [
    { method: 'GET', handler: 'peek', permission: 'reads', missing: 'ledger_entries' },
    { method: 'POST', handler: 'lend', permission: 'calls', missing: 'members' },
    { method: 'PUT', handler: 'scribble', permission: 'updates', missing: 'loans' },
  ] as const;

  for (const [i, c] of cases.entries()) {
    it(`${c.handler} (${c.permission} '${c.missing}'): 500 with the request id and a generic message; the service logs what was missing`, async () => {
      const requestId = `rq-${i}`;
      const res = await gw.server.inject({ method: c.method, url: '/api/loans/l1', headers: { 'x-request-id': requestId } });
      assert.equal(res.statusCode, 500);
      assert.deepEqual(res.json(), { error: { code: 'INTERNAL', message: 'Internal error; quote the request id when reporting it', requestId } });
      // nothing inside is named: not the service, the handler, a table or an integration
      assert.doesNotMatch(res.body, /loans|ledger|members|peek|lend|scribble|PERMISSION|permission/i);

      const logged = serviceLines.find((l) => l['requestId'] === requestId && l['level'] === 50);
      assert.ok(logged, `an error line for ${requestId}: ${JSON.stringify(serviceLines)}`);
      assert.equal(logged['service'], 'loans');
      assert.equal(logged['handler'], c.handler);
      assert.equal(logged['code'], 'PERMISSION_DENIED');
      assert.equal(logged['permission'], c.permission);
      assert.equal(logged['missing'], c.missing);
      assert.match(String(logged['err']), new RegExp(`loans\\.${c.handler}`));
    });
  }
});
