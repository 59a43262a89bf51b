import { contract, rpc } from 'carotene';
import { z } from 'zod';

export const NotificationKind = z.enum(['ORDER_PLACED', 'ORDER_CONFIRMED', 'ORDER_FAILED']);

export const Notification = z.object({
  id: z.string(),
  kind: NotificationKind,
  orderId: z.string(),
  message: z.string(),
  createdAt: z.string(),
});

/**
 * What the shop told each user about their orders: one notification per order event,
 * newest first.
 *
 * ```ts
 * const { items } = await fetch('/api/notifications', { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
 * ```
 */
export const Notifications = contract('notifications', {
  listNotifications: rpc({
    input: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
    output: z.object({ items: z.array(Notification) }),
    idempotent: true,
  }),
});
