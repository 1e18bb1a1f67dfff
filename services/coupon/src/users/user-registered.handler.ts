import type { EventHandler } from '@shop/platform';
import { z } from 'zod';
import { KnownUserEntity } from '../db/entities.ts';
import { USER_EVENTS } from '../events/topics.ts';

const data = z.object({ userId: z.uuid() });

/** Records a registered user in known_users (through the inbox: once per event). */
export const userRegisteredHandler: EventHandler<typeof data> = {
  consumer: 'coupon.known-users',
  topic: USER_EVENTS,
  eventType: 'UserRegistered',
  data,
  async handle(tx, { userId }, event) {
    await tx.insert(KnownUserEntity, {
      userId,
      registeredAt: new Date(event.time ?? Date.now()),
      sourceEventId: event.id,
    });
  },
};
