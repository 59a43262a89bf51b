import type { EventMessage } from './event.ts';
import type { HandlerContext, Permissions } from './handler.ts';
import type { NothingOffered, Offered } from './missing-permission.ts';

/** A subscriber as declared. Build it with {@link subscriber}. */
export interface SubscriberDef<D = unknown, P extends Permissions = Permissions, Cfg = unknown, U extends Offered = NothingOffered> {
  readonly kind: 'subscriber';
  readonly permissions: P;
  readonly run: (event: EventMessage<D>, ctx: HandlerContext<P, never, Cfg, U, 'subscriber'>) => Promise<void> | void;
  /** Type-level only: lets `implement` infer the event's data, the config and what it offers into the subscriber. */
  readonly types?: { readonly data: D; readonly config: Cfg; readonly offered: U };
}

/** The slot `implement(...).subscriptions` offers each subscribed event. */
export interface SubscriberSlot<D, A, Cfg, U extends Offered = NothingOffered> {
  readonly kind: 'subscriber';
  readonly permissions: A;
  readonly run: (event: EventMessage<D>, ctx: never) => Promise<void> | void;
  readonly types?: { readonly data: D; readonly config: Cfg; readonly offered: U };
}

/**
 * Declares what a service does with one event it subscribes to, with the same permissions
 * as a handler. It runs in one transaction with the inbox record: its writes commit exactly
 * once per event, however often the event is delivered.
 *
 * ```ts
 * OrderPlaced: subscriber({ updates: [Notification] }, async (event, ctx) => {
 *   await ctx.store.notifications.insert({ id: event.id, userId: event.data.userId, ... });
 * })
 * ```
 */
export function subscriber<const P extends Permissions, D, Cfg, U extends Offered = NothingOffered>(
  permissions: P,
  run: (event: EventMessage<D>, ctx: HandlerContext<P, never, Cfg, U, 'subscriber'>) => Promise<void> | void,
): SubscriberDef<D, P, Cfg, U> {
  return { kind: 'subscriber', permissions, run };
}
