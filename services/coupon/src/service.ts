import type { ServiceDefinition } from '@shop/platform';
import { couponQuotaActor } from './actors/coupon-quota.actor.ts';
import { migrations } from './db/migrations.ts';
import { userRegisteredHandler } from './users/user-registered.handler.ts';

export const couponService: ServiceDefinition = {
  migrations,
  build: () => ({ eventHandlers: [userRegisteredHandler], actors: [couponQuotaActor] }),
};
