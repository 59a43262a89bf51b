// Outside HTTP APIs in what `carrot build` writes: an egress NetworkPolicy per service that
// declares them (an IP base URL opens that address, a host name its port to public addresses
// only, plus DNS and the cluster), the topology's hexagons, and the rule for an undeclared one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { app, contract, handler, http, implement, rpc } from '../../../carotene/src/index.ts';
import { resolveEnvironment } from '../../src/build/environment.ts';
import { egressRule, PRIVATE_V4 } from '../../src/build/manifests/egress-policies.ts';
import { networkPolicies } from '../../src/build/manifests/network-policies.ts';
import { topologyDiagram } from '../../src/build/mermaid.ts';
import { undeclaredIntegration } from '../../src/build/rules/undeclared-integration.ts';

const CardProvider = http('cardProvider', { baseUrl: 'https://api.cards.example/v2' });
const Mailer = http('mailer', { baseUrl: 'http://203.0.113.7:8025' });
const Payments = contract('payments', { charge: rpc({ input: z.object({}), output: z.null() }) });
const Catalog = contract('catalog', { list: rpc({ input: z.object({}), output: z.null() }) });
const payments = implement(Payments, { integrations: [CardProvider, Mailer] }).handlers({
  charge: handler({ calls: [CardProvider] }, async () => null),
});
const catalog = implement(Catalog, {}).handlers({ list: handler({}, async () => null) });
const shop = app({ name: 'egress', services: [payments, catalog] });

interface Policy {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { policyTypes: string[]; egress?: Array<{ to?: unknown[]; ports?: Array<{ port: number; protocol: string }> }> };
}

describe('egress of HTTP integrations', () => {
  it('a host name opens its port to public addresses only; an IP address opens itself', () => {
    assert.deepEqual(egressRule(CardProvider), {
      integration: 'cardProvider',
      port: 443,
      blocks: [
        { cidr: '0.0.0.0/0', except: PRIVATE_V4 },
        { cidr: '::/0', except: ['fc00::/7', 'fe80::/10'] },
      ],
    });
    assert.ok(PRIVATE_V4.includes('169.254.0.0/16'), 'never the cloud metadata endpoint');
    assert.deepEqual(egressRule(Mailer), { integration: 'mailer', port: 8025, blocks: [{ cidr: '203.0.113.7/32' }] });
    assert.deepEqual(egressRule(http('v6', { baseUrl: 'http://[2001:db8::1]/' })).blocks, [{ cidr: '2001:db8::1/128' }]);
    assert.equal(egressRule(http('plain', { baseUrl: 'http://plain.example' })).port, 80);
  });

  it('one egress policy for the service that declares them, with DNS and the cluster; none for the others', () => {
    for (const [env, database] of [
      ['development', false],
      ['production', true],
    ] as const) {
      const policies = networkPolicies(shop, resolveEnvironment(shop, env)).map((p) => p.toJSON() as unknown as Policy);
      const egress = policies.filter((p) => p.spec.policyTypes.includes('Egress'));
      assert.deepEqual(
        egress.map((p) => p.metadata.name),
        ['payments-egress'],
      );
      const [policy] = egress;
      assert.equal(policy!.metadata.annotations?.['carotene.dev/http-integrations'], 'cardProvider=api.cards.example,mailer=203.0.113.7:8025');
      const rules = policy!.spec.egress!;
      assert.deepEqual(rules[0], { to: [{ namespaceSelector: {} }] }, 'every pod of the cluster: calls, broker, collector');
      assert.deepEqual(rules[1]!.ports, [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ]);
      const ports = rules.flatMap((r) => (r.to ? (r.ports ?? []).map((p) => p.port) : []));
      assert.deepEqual(ports, [443, 8025]);
      assert.equal(
        rules.some((r) => !r.to && r.ports?.[0]?.port === 5432),
        database,
        'PostgreSQL anywhere only when the database URL is in a Secret',
      );
    }
  });

  it('the topology shows each API with its host, and who calls it', () => {
    const diagram = topologyDiagram(shop);
    assert.match(diagram, /ext_payments_cardProvider\{\{"cardProvider<br\/>api\.cards\.example"\}\}/);
    assert.match(diagram, /svc_payments -->\|HTTP\| ext_payments_cardProvider/);
    assert.match(diagram, /svc_payments -->\|HTTP\| ext_payments_mailer/);
  });

  it('a handler that uses an HTTP integration its service does not declare is a build problem', () => {
    const sneaky = { ...payments, http: [] };
    const problems = undeclaredIntegration({ app: { ...shop, services: [sneaky, catalog] } } as never);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /uses the HTTP integration 'cardProvider', which the service does not declare/);
    assert.deepEqual(undeclaredIntegration({ app: shop } as never), []);
  });
});
