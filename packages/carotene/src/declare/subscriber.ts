import type { EventMessage } from './event.ts';
import type { HandlerContext, Permissions } from './handler.ts';

/** A subscriber as declared. Build it with {@link subscriber}. */
export interface SubscriberDef<D = unknown, P extends Permissions = Permissions, Cfg = unknown> {
  readonly kind: 'subscriber';
  readonly permissions: P;
  readonly run: (event: EventMessage<D>, ctx: HandlerContext<P, never, Cfg>) => Promise<void> | void;
  /** Type-level only: lets `implement` infer the event's data and the config into the subscriber. */
  readonly types?: { readonly data: D; readonly config: Cfg };
}

/** The slot `implement(...).subscriptions` offers each subscribed event. */
export interface SubscriberSlot<D, A, Cfg> {
  readonly kind: 'subscriber';
  readonly permissions: A;
  readonly run: (event: EventMessage<D>, ctx: never) => Promise<void> | void;
  readonly types?: { readonly data: D; readonly config: Cfg };
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
export function subscriber<const P extends Permissions, D, Cfg>(
  permissions: P,
  run: (event: EventMessage<D>, ctx: HandlerContext<P, never, Cfg>) => Promise<void> | void,
): SubscriberDef<D, P, Cfg> {
  return { kind: 'subscriber', permissions, run };
}
