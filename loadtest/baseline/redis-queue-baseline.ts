/**
 * The baseline the seeds describe for first-come-first-served coupons: a Redis
 * Lua script decrements the stock and refuses a second coupon per user, pushes
 * the accepted request on a Redis list, and a worker moves it into Postgres.
 * Same endpoint shape as the coupon service (POST /coupons/:id/issue → 202), so
 * the same k6 scenario runs against both. Benchmark code only.
 *
 *   node loadtest/baseline/redis-queue-baseline.ts <port> <redis-url> <postgres-url>
 */

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';

const [port, redisUrl, postgresUrl] = process.argv.slice(2);
const redis = new Redis(redisUrl!);
const worker = new Redis(redisUrl!);
const db = new pg.Pool({ connectionString: postgresUrl, max: 4 });

await db.query(`create table if not exists baseline_user_coupons (
  coupon_id text not null, user_id text not null, request_id text primary key, unique (coupon_id, user_id))`);
// When each winner reached Postgres: the benchmark reads when the last one did.
await db.query(
  'alter table baseline_user_coupons add column if not exists inserted_at timestamptz not null default clock_timestamp()',
);

// KEYS: stock, users set, queue, the set of queues. ARGV: user, request id.
const CLAIM = `
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 'ALREADY_ISSUED' end
if tonumber(redis.call('GET', KEYS[1]) or '0') <= 0 then return 'SOLD_OUT' end
redis.call('DECR', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[2] .. ' ' .. ARGV[1])
redis.call('SADD', KEYS[4], KEYS[3])
return 'QUEUED'`;

/** The queues the worker drains (a set, not KEYS: that scans every key in Redis on each poll). */
const QUEUES = 'baseline:queues';

const keys = (couponId: string) => [
  `baseline:${couponId}:stock`,
  `baseline:${couponId}:users`,
  `baseline:${couponId}:queue`,
  QUEUES,
];

const server = createServer((req, res) => {
  const match = /^\/coupons\/([\w-]+)\/(issue|stock)$/.exec(req.url ?? '');
  let body = '';
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', async () => {
    try {
      if (!match || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const couponId = match[1]!;
      if (match[2] === 'stock') {
        await redis.set(keys(couponId)[0]!, JSON.parse(body).quota);
        res.writeHead(204).end();
        return;
      }
      const { userId } = JSON.parse(body) as { userId: string };
      const requestId = randomUUID();
      const decision = (await redis.eval(CLAIM, 4, ...keys(couponId), userId, requestId)) as string;
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          requestId,
          status: decision === 'QUEUED' ? 'QUEUED' : 'REJECTED',
          reason: decision,
        }),
      );
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
});

/** The worker: one queue per coupon, drained into Postgres. */
async function drain(): Promise<void> {
  for (;;) {
    const queues = await redis.smembers(QUEUES);
    if (queues.length === 0) {
      await sleep(50);
      continue;
    }
    const popped = await worker.brpop(...queues, 1);
    if (!popped) continue;
    const couponId = popped[0].split(':')[1]!;
    const [requestId, userId] = popped[1].split(' ');
    await db.query(
      'insert into baseline_user_coupons (coupon_id, user_id, request_id) values ($1, $2, $3) on conflict do nothing',
      [couponId, userId, requestId],
    );
  }
}

server.listen(Number(port), '127.0.0.1', () => console.log(`baseline listening on ${port}`));
void drain();
