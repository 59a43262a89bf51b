import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EventDef } from 'carotene/model';
import type { TraceHeaders } from '../telemetry/trace-context.ts';

/**
 * An event on the wire and in the outbox: CloudEvents 1.0 in JSON, with the distributed
 * tracing extension's attributes `traceparent` and `tracestate` (W3C Trace Context) and
 * `schemaversion` (the event's version).
 */
export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  /** `/services/<publisher>`. */
  readonly source: string;
  /** `<publisher>.<EventName>`. */
  readonly type: string;
  readonly time: string;
  /** The ordering key. */
  readonly subject: string;
  readonly datacontenttype: 'application/json';
  readonly data: unknown;
  readonly traceparent: string;
  /** Vendor trace state of the producer span, when there is any. */
  readonly tracestate?: string;
  readonly schemaversion: number;
}

const CloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(200),
  source: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  time: z.string(),
  subject: z.string().max(500),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  // read by the trace-context rules when the event is handled: a malformed one starts a new
  // trace there and never costs the event
  traceparent: z.string().max(512),
  tracestate: z.string().max(8192).optional(),
  schemaversion: z.number().int().positive(),
});

export const EventBatch = z.object({ events: z.array(CloudEventSchema).max(1000) });

/** A fresh W3C traceparent (sampled, random), for an envelope built outside any span; `Outbox.publish` passes its producer span's. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-03`;
}

export function sourceOf(service: string): string {
  return `/services/${service}`;
}

/** The publisher named by an envelope's source. */
export function publisherOf(event: Pick<CloudEvent, 'source'>): string {
  return event.source.startsWith('/services/') ? event.source.slice('/services/'.length) : event.source;
}

/** Builds the envelope of one validated payload. */
export function buildEnvelope(def: EventDef, data: unknown, key: string | undefined, trace: TraceHeaders = {}): CloudEvent {
  const id = randomUUID();
  return {
    specversion: '1.0',
    id,
    source: sourceOf(def.service),
    type: def.type,
    time: new Date().toISOString(),
    subject: key ?? id,
    datacontenttype: 'application/json',
    data,
    traceparent: trace.traceparent ?? newTraceparent(),
    ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
    schemaversion: def.version,
  };
}

/** Parses one envelope received from a broker; throws a ZodError when it is not one. */
export function parseEnvelope(value: unknown): CloudEvent {
  return CloudEventSchema.parse(value) as CloudEvent;
}
