import { z } from 'zod';

const ms = z.number().int().min(0).max(300_000);
const positiveMs = z.number().int().min(1).max(300_000);

/**
 * One layer of call policy; every field is optional and falls back to the layer below
 * (function → integration → `defaults` → built-in defaults).
 */
const policyLayer = z.strictObject({
  /** Time one attempt may take, in milliseconds; the caller's deadline still bounds it. */
  timeoutMs: positiveMs.optional(),
  /** Retries of idempotent calls (declared `idempotent`, or carrying an idempotency key). */
  retry: z
    .strictObject({
      /** Attempts in all, the first included (1 turns retries off). */
      maxAttempts: z.number().int().min(1).max(10).optional(),
      /** First backoff ceiling; each retry doubles it (full jitter: a random delay below it). */
      baseDelayMs: ms.optional(),
      maxDelayMs: ms.optional(),
    })
    .optional(),
  breaker: z
    .strictObject({
      /** `consecutive`: opens after `failures` failures in a row; `rate`: after `failureRate` of the last `window` calls. */
      mode: z.enum(['consecutive', 'rate']).optional(),
      failures: z.number().int().min(1).max(1_000).optional(),
      failureRate: z.number().gt(0).lt(1).optional(),
      window: z.number().int().min(2).max(10_000).optional(),
      /** Calls the window must hold before the rate can open the breaker. */
      minimumCalls: z.number().int().min(1).max(10_000).optional(),
      /** How long an open breaker fails fast before one probe call may go through. */
      halfOpenAfterMs: positiveMs.optional(),
    })
    .optional(),
  bulkhead: z
    .strictObject({
      /** Calls in flight at once to this dependency. */
      maxConcurrent: z.number().int().min(1).max(10_000).optional(),
      /** Calls waiting for a slot; one more fails fast with UNAVAILABLE. */
      maxQueue: z.number().int().min(0).max(100_000).optional(),
    })
    .optional(),
});

const integration = policyLayer.extend({
  /** Per function of the integration, by function name. */
  functions: z.record(z.string(), policyLayer).optional(),
});

/**
 * Resilience of integration calls in one environment.
 *
 * ```ts
 * resilience: { defaults: { timeoutMs: 2_000 },
 *               integrations: { catalog: { breaker: { failures: 3 }, functions: { getProducts: { timeoutMs: 500 } } } } }
 * ```
 */
export const resilienceSchema = z.strictObject({
  defaults: policyLayer.optional(),
  /** Per called service, by service name. */
  integrations: z.record(z.string(), integration).optional(),
});

const faultBase = {
  /** The service whose incoming calls are disturbed. */
  service: z.string().min(1),
  /** Only this function (default: every function of the service). */
  function: z.string().min(1).optional(),
  /** Share of matching calls disturbed, 0 to 1 (default 1). */
  probability: z.number().min(0).max(1).optional(),
  /** Disturb at most this many calls per process, then stop. */
  limit: z.number().int().min(1).optional(),
};
/** `request`: before the handler runs (nothing happened); `response`: after it ran (the work is done, the answer lost). */
const phase = z.enum(['request', 'response']).optional();

/**
 * A fault injected into calls into a service, in the callee (see docs/resilience.md).
 *
 * ```ts
 * faults: [{ service: 'catalog', kind: 'latency', ms: 2_000 },
 *          { service: 'payments', function: 'charge', kind: 'drop', phase: 'response', probability: 0.3 }]
 * ```
 */
export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...faultBase, kind: z.literal('latency'), ms: positiveMs }),
  z.strictObject({ ...faultBase, kind: z.literal('error'), code: z.enum(['UNAVAILABLE', 'INTERNAL', 'DEADLINE_EXCEEDED']).optional(), phase }),
  z.strictObject({ ...faultBase, kind: z.literal('drop'), phase }),
]);

export type PolicyLayer = z.output<typeof policyLayer>;
export type ResilienceSettings = z.output<typeof resilienceSchema>;
export type FaultRule = z.output<typeof faultSchema>;
