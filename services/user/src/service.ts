import type { ServiceDefinition } from '@shop/platform';
import { migrations } from './db/migrations.ts';
import { usersRouter } from './routes/users.router.ts';
import { UserEntity } from './users/user.entity.ts';

export const userService: ServiceDefinition = {
  entities: [UserEntity],
  migrations,
  build: ({ orm, outboxWritten }) => ({ routers: [usersRouter(orm.em, outboxWritten)] }),
};
