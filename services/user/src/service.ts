import type { ServiceDefinition } from '@shop/platform';
import { migrations } from './db/migrations.ts';
import { seedUsers } from './db/seed.ts';
import { orderNotificationHandlers } from './notifications/order-notifications.handler.ts';
import { notificationsRouter } from './routes/notifications.router.ts';
import { pointsRouter } from './routes/points.router.ts';
import { usersRouter } from './routes/users.router.ts';
import { UserEntity } from './users/user.entity.ts';

export const userService: ServiceDefinition = {
  entities: [UserEntity],
  migrations,
  seed: seedUsers,
  build: ({ orm, sidecar, log, outboxWritten }) => ({
    routers: [
      usersRouter(orm.em, outboxWritten),
      pointsRouter(orm.em, outboxWritten),
      notificationsRouter(orm.em),
    ],
    eventHandlers: orderNotificationHandlers(sidecar, log.child({ component: 'notifications' })),
  }),
};
