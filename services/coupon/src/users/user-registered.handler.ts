import type { EventHandler } from '@shop/platform';
import { z } from 'zod';
import { USER_EVENTS } from '../events/topics.ts';

const data = z.object({ userId: z.uuid() });

/** Records a registered user in known_users (through the inbox: once per event). */
export const userRegisteredHandler: EventHandler<typeof data> = {
  consumer: 'coupon.known-users',
  topic: USER_EVENTS,
  eventType: 'UserRegistered',
  data,
  async handle(tx, { userId }, event) {
    await tx.execute('insert into known_users (user_id, registered_at, source_event_id) values (?, ?, ?)', [
      userId,
      event.time ?? new Date().toISOString(),
      event.id,
    ]);
  },
};
