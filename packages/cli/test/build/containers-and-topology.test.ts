import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { composeFile, initDatabasesSql } from '../../src/build/compose.ts';
import { dockerfile } from '../../src/build/dockerfile.ts';
import { topologyDiagram } from '../../src/build/mermaid.ts';
import { loadApp } from '../../src/cli/app-module.ts';
import { fixtureApp } from './run-carrot.ts';

const layout = { appDir: 'examples/demo', appModule: 'app.ts', outDir: 'examples/demo/deploy' };

describe('containers', () => {
  it('a Dockerfile per service: multi-stage, runs as the unprivileged user, knows its service', () => {
    const text = dockerfile('shop', 'orders', layout);
    assert.equal(text.match(/^FROM /gm)?.length, 2);
    assert.match(text, /^FROM node:20-bookworm-slim AS build$/m);
    assert.match(text, /^USER node$/m);
    assert.match(text, /CAROTENE_SERVICE=orders/);
    assert.match(text, /CAROTENE_APP_FILE=\/app\/examples\/demo\/app\.ts/);
    // the build stage bundles the app (test/cli/bundle-command.test.ts runs what it writes); no TypeScript loader at run time
    assert.match(text, /npx --no-install carrot bundle examples\/demo --out \.carotene\/bundle/);
    assert.match(text, /^CMD \["node", "--enable-source-maps", "\.carotene\/bundle\/service\.mjs"\]$/m);
    assert.match(dockerfile('shop', 'gateway', layout), /^CMD \["node", "--enable-source-maps", "\.carotene\/bundle\/gateway\.mjs"\]$/m);
    assert.doesNotMatch(text, /tsx/);
  });

  it('a compose file with PostgreSQL (a database per service), NATS, every service and the gateway', async () => {
    const app = await loadApp(fixtureApp('valid').file);
    const compose = parse(composeFile(app, layout, { context: '../../..', certsDir: '../.carotene/certs' })) as {
      services: Record<string, Record<string, unknown>>;
    };
    assert.deepEqual(Object.keys(compose.services).sort(), ['catalog', 'gateway', 'nats', 'orders', 'payments', 'postgres']);
    assert.deepEqual(compose.services.gateway!.ports, ['8080:8080']);
    assert.equal(compose.services.orders!.ports, undefined, 'only the gateway is published');
    assert.equal((compose.services.orders!.environment as Record<string, string>).CAROTENE_DATABASE_URL, 'postgres://carotene:carotene@postgres:5432/orders');
    assert.equal(initDatabasesSql(app), 'CREATE DATABASE catalog;\nCREATE DATABASE orders;\nCREATE DATABASE payments;\n');
  });
});

describe('topology', () => {
  it('draws services, their stores, the gateway, calls and events as Mermaid', async () => {
    const text = topologyDiagram(await loadApp(fixtureApp('valid').file));
    assert.equal(text.split('\n')[0], 'flowchart LR');
    assert.match(text, /svc_orders -->\|calls\| svc_catalog/);
    assert.match(text, /svc_orders -->\|calls\| svc_payments/);
    assert.match(text, /gw_gateway -->\|"1 route"\| svc_catalog/);
    assert.match(text, /svc_catalog --- db_catalog_products/);
    assert.doesNotMatch(text, /gw_gateway -->[^\n]*svc_payments/);
  });
});
