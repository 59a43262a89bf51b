import type { z } from 'zod';
import { type Compatibility, compatibilityOf } from './contract.ts';

/** An event type, owned by the service that publishes it. Build it with {@link event}. */
export interface EventDef<S extends string = string, N extends string = string, Z extends z.ZodType = z.ZodType> {
  readonly kind: 'event';
  /** The publishing service. */
  readonly service: S;
  readonly name: N;
  /** Schema version, carried in every envelope; bump it with a breaking change of `schema`. */
  readonly version: number;
  readonly schema: Z;
  /** How `schema` may change within one version (default `backward`, see {@link Compatibility}). */
  readonly compatibility: Compatibility;
  /** CloudEvents `type`: `<service>.<name>`, e.g. `orders.OrderPlaced`. */
  readonly type: `${S}.${N}`;
}

const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,80}$/;
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,40}$/;

/**
 * Declares an event in the publisher's contract module: consumers import it from there, so
 * renaming a field breaks them at `tsc`.
 *
 * ```ts
 * export const OrderPlaced = event('orders', 'OrderPlaced', { version: 1,
 *   schema: z.object({ orderId: z.string(), userId: z.string(), total: z.number().int() }) });
 * ```
 */
export function event<const S extends string, const N extends string, Z extends z.ZodType>(
  service: S,
  name: N,
  def: { version: number; schema: Z; compatibility?: Compatibility },
): EventDef<S, N, Z> {
  if (!SERVICE_NAME.test(service)) throw new TypeError(`event '${name}': '${service}' is not a valid service name`);
  if (!EVENT_NAME.test(name)) throw new TypeError(`event name '${name}' must be an identifier`);
  if (!Number.isInteger(def.version) || def.version < 1) throw new TypeError(`event '${service}.${name}': version must be a positive integer`);
  return {
    kind: 'event',
    service,
    name,
    version: def.version,
    schema: def.schema,
    compatibility: compatibilityOf(def.compatibility, `event '${service}.${name}'`),
    type: `${service}.${name}`,
  };
}

/** What a publisher passes: the schema's input side. */
export type PayloadOf<E> = E extends EventDef<string, string, infer Z> ? z.input<Z> : never;
/** What a subscriber receives: the schema's parsed output side. */
export type DataOf<E> = E extends EventDef<string, string, infer Z> ? z.output<Z> : never;

/** One event as a subscriber sees it: the CloudEvents attributes that matter and the typed data. */
export interface EventMessage<D = unknown> {
  /** Unique per event; redeliveries carry the same id. */
  readonly id: string;
  /** `<service>.<name>`. */
  readonly type: string;
  /** The publishing service. */
  readonly source: string;
  /** The ordering key given to `publish` (events with one key are handled in publish order). */
  readonly key: string;
  /** ISO time of publication. */
  readonly time: string;
  readonly version: number;
  /** Which attempt this is, from 1. */
  readonly attempt: number;
  readonly data: D;
}

/** Options of `ctx.publish`. */
export interface PublishOptions {
  /** Ordering key (e.g. the order id): events with one key are handled in publish order. */
  readonly key: string;
}
