// OTLP/HTTP JSON exports shaped like the ones services send: one per service, as each
// process exports its own spans of a shared trace.
import { randomBytes } from 'node:crypto';

export interface FixtureSpan {
  readonly name: string;
  readonly spanId: string;
  readonly parent?: string;
  /** Milliseconds after the trace starts. */
  readonly at: number;
  readonly ms: number;
  readonly kind?: number;
  readonly error?: string;
  readonly attributes?: Record<string, string | number | boolean>;
}

export const hexId = (bytes: number): string => randomBytes(bytes).toString('hex');

/** One service's export: a resource with `service.name` and its spans, as the JSON exporter writes them. */
export function exportOf(service: string, traceId: string, startMs: number, spans: readonly FixtureSpan[]): unknown {
  const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'carotene', version: '0.1.0' },
            spans: spans.map((s) => ({
              traceId,
              spanId: s.spanId,
              ...(s.parent ? { parentSpanId: s.parent } : {}),
              name: s.name,
              kind: s.kind ?? 1,
              startTimeUnixNano: nanos(startMs + s.at),
              endTimeUnixNano: nanos(startMs + s.at + s.ms),
              attributes: Object.entries(s.attributes ?? {}).map(([key, v]) => ({
                key,
                value:
                  typeof v === 'string'
                    ? { stringValue: v }
                    : typeof v === 'boolean'
                      ? { boolValue: v }
                      : Number.isInteger(v)
                        ? { intValue: String(v) }
                        : { doubleValue: v },
              })),
              status: s.error ? { code: 2, message: s.error } : { code: 0 },
              events: [],
            })),
          },
        ],
      },
    ],
  };
}

/** A checkout across the shop: gateway → orders → catalog and payments, then the notification consumer. */
export function checkoutExports(traceId = hexId(16), startMs = Date.now() - 200): { traceId: string; exports: Array<{ service: string; body: unknown }> } {
  const ids = {
    gw: hexId(8),
    orders: hexId(8),
    toCatalog: hexId(8),
    catalog: hexId(8),
    toPayments: hexId(8),
    payments: hexId(8),
    publish: hexId(8),
    notify: hexId(8),
  };
  return {
    traceId,
    exports: [
      {
        service: 'gateway',
        body: exportOf('gateway', traceId, startMs, [
          {
            name: 'POST /api/orders/:id/checkout',
            spanId: ids.gw,
            at: 0,
            ms: 120,
            kind: 2,
            attributes: { 'http.request.method': 'POST', 'http.response.status_code': 200 },
          },
        ]),
      },
      {
        service: 'orders',
        body: exportOf('orders', traceId, startMs, [
          { name: 'orders.checkout', spanId: ids.orders, parent: ids.gw, at: 4, ms: 110, kind: 2 },
          { name: 'catalog.reserveStock', spanId: ids.toCatalog, parent: ids.orders, at: 8, ms: 30, kind: 3 },
          { name: 'payments.charge', spanId: ids.toPayments, parent: ids.orders, at: 42, ms: 50, kind: 3 },
          { name: 'publish orders.OrderConfirmed', spanId: ids.publish, parent: ids.orders, at: 96, ms: 4, kind: 4 },
        ]),
      },
      {
        service: 'catalog',
        body: exportOf('catalog', traceId, startMs, [{ name: 'catalog.reserveStock', spanId: ids.catalog, parent: ids.toCatalog, at: 10, ms: 25, kind: 2 }]),
      },
      {
        service: 'payments',
        body: exportOf('payments', traceId, startMs, [
          { name: 'payments.charge', spanId: ids.payments, parent: ids.toPayments, at: 44, ms: 45, kind: 2, attributes: { 'payment.card': '4242…4242' } },
        ]),
      },
      {
        service: 'notifications',
        body: exportOf('notifications', traceId, startMs, [
          { name: 'handle orders.OrderConfirmed', spanId: ids.notify, parent: ids.publish, at: 140, ms: 12, kind: 5 },
        ]),
      },
    ],
  };
}
