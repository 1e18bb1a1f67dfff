import { baseConfigSchema, type ServiceDefinition } from '@shop/platform';
import { z } from 'zod';
import { PaymentEntity } from './db/entities.ts';
import { migrations } from './db/migrations.ts';
import { FakeGateway } from './payments/fake-gateway.ts';
import { paymentsRoutes } from './routes/payments.router.ts';

export const paymentConfigSchema = baseConfigSchema.extend({
  FAKE_GATEWAY_FAULTS: z.stringbool().default(false),
  FAKE_GATEWAY_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
});

export const paymentService: ServiceDefinition<typeof paymentConfigSchema> = {
  configSchema: paymentConfigSchema,
  entities: [PaymentEntity],
  migrations,
  build: ({ config, orm, outboxWritten }) => ({
    routes: [
      paymentsRoutes(orm.em, {
        gateway: new FakeGateway({ timeoutMs: config.FAKE_GATEWAY_TIMEOUT_MS }),
        faultsEnabled: config.FAKE_GATEWAY_FAULTS,
        outboxWritten,
      }),
    ],
  }),
};
