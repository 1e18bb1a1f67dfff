import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

export type { Redis };

/**
 * A Redis client for the service's own keys (caches, rankings, counters).
 * Commands fail fast while Redis is away instead of queueing without bound.
 * `keyPrefix` (REDIS_KEY_PREFIX) keeps several instances apart on one Redis.
 */
export function createRedis(url: string, log: Logger, keyPrefix = ''): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    lazyConnect: false,
    keyPrefix,
  });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  return redis;
}
