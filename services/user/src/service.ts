import type { ServiceDefinition } from '@shop/platform';
import { migrations } from './db/migrations.ts';
import { seedUsers } from './db/seed.ts';
import { pointsRouter } from './routes/points.router.ts';
import { usersRouter } from './routes/users.router.ts';
import { UserEntity } from './users/user.entity.ts';

export const userService: ServiceDefinition = {
  entities: [UserEntity],
  migrations,
  seed: seedUsers,
  build: ({ orm, outboxWritten }) => ({
    routers: [usersRouter(orm.em, outboxWritten), pointsRouter(orm.em, outboxWritten)],
  }),
};
