import { baseConfigSchema, type ServiceDefinition } from '@shop/platform';
import { z } from 'zod';
import { loadSigningKey } from './auth/signing-key.ts';
import { userEntities } from './db/entities.ts';
import { migrations } from './db/migrations.ts';
import { seedUsers } from './db/seed.ts';
import { orderNotificationHandlers } from './notifications/order-notifications.handler.ts';
import { authRoutes } from './routes/auth.router.ts';
import { notificationsRoutes } from './routes/notifications.router.ts';
import { pointsRoutes } from './routes/points.router.ts';
import { usersRoutes } from './routes/users.router.ts';

export const userConfigSchema = baseConfigSchema.extend({
  /** The EC P-256 key (PEM) that signs access tokens; see auth/signing-key.ts. */
  JWT_PRIVATE_KEY: z.string().optional(),
  JWT_PREVIOUS_PUBLIC_KEYS: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(300)
    .default(30 * 24 * 3600),
});

export const userService: ServiceDefinition<typeof userConfigSchema> = {
  configSchema: userConfigSchema,
  entities: userEntities,
  migrations,
  seed: seedUsers,
  build: async ({ config, orm, sidecar, log, outboxWritten }) => {
    const tokens = {
      key: await loadSigningKey(config, log),
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    };
    return {
      routes: [
        authRoutes(orm.em, tokens),
        usersRoutes(orm.em, outboxWritten),
        pointsRoutes(orm.em, outboxWritten),
        notificationsRoutes(orm.em),
      ],
      eventHandlers: orderNotificationHandlers(sidecar, log.child({ component: 'notifications' })),
    };
  },
};
