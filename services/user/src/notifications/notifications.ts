import { type EntityManager, uuidv7 } from '@shop/platform';
import { db, NotificationEntity } from '../db/entities.ts';

export interface Notification {
  orderId: string | null;
  kind: string;
  message: string;
  createdAt: string;
}

/**
 * Stores what the user is told, in the caller's transaction (the inbox's: once
 * per event). Kysely's insert: every order ends with one (see points.ts on em's cost).
 */
export async function recordNotification(
  tx: EntityManager,
  note: { userId: string; orderId: string; kind: string; message: string },
): Promise<void> {
  await db(tx)
    .insertInto('notifications')
    .values({
      id: uuidv7(),
      user_id: note.userId,
      order_id: note.orderId,
      kind: note.kind,
      message: note.message,
    })
    .execute();
}

/** What the user was told, newest first. */
export async function listNotifications(
  em: EntityManager,
  userId: string,
  limit = 100,
): Promise<Notification[]> {
  const rows = await em
    .fork()
    .find(
      NotificationEntity,
      { userId },
      { orderBy: { createdAt: 'desc' }, limit, disableIdentityMap: true },
    );
  return rows.map((r) => ({
    orderId: r.orderId ?? null,
    kind: r.kind,
    message: r.message,
    createdAt: r.createdAt.toISOString(),
  }));
}
