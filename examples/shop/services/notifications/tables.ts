import { table } from 'carotene';
import { z } from 'zod';
import { NotificationKind } from './contract.ts';

/** One row per order event; `id` is the event's id, so an event can never notify twice. */
export const NotificationTable = table('notifications', {
  key: 'id',
  schema: z.object({
    id: z.string(),
    userId: z.string(),
    orderId: z.string(),
    kind: NotificationKind,
    message: z.string(),
    createdAt: z.string(),
  }),
  // a user's notifications, newest first
  indexes: [{ columns: ['userId', 'createdAt'], name: 'notifications_user' }],
});
