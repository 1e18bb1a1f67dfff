import type { Redis } from '@shop/platform';

/** One sorted set per UTC day: member = product id, score = units sold that day. */
export const dayKey = (day: string) => `ranking:sales:${day}`;
const appliedKey = (eventId: string) => `ranking:applied:${eventId}`;
const KEEP_SECONDS = 40 * 24 * 3600;

export const utcDay = (time: Date) => time.toISOString().slice(0, 10);

/**
 * Adds an order's sales to its day, once per event id. The effect lives in
 * Redis, so its de-duplication must too: the marker and the increments are one
 * Lua script, atomic in Redis, whatever happens to the Postgres transaction
 * around the handler (a retry after a failed commit finds the marker).
 */
const RECORD_SALES = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
for i = 2, #ARGV, 2 do redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`;

export async function recordSales(
  redis: Redis,
  eventId: string,
  day: string,
  lines: { productId: string; quantity: number }[],
): Promise<boolean> {
  const args = lines.flatMap((l) => [l.productId, String(l.quantity)]);
  const applied = await redis.eval(
    RECORD_SALES,
    2,
    dayKey(day),
    appliedKey(eventId),
    String(KEEP_SECONDS),
    ...args,
  );
  return applied === 1;
}

/** Units sold per product over the last `days` UTC days (today included), best first. */
export async function topSellers(
  redis: Redis,
  days: number,
  limit: number,
  now = new Date(),
): Promise<{ productId: string; sold: number }[]> {
  const keys = Array.from({ length: days }, (_, i) =>
    dayKey(utcDay(new Date(now.getTime() - i * 86_400_000))),
  );
  const flat = await redis.zunion(keys.length, ...keys, 'WITHSCORES');
  const totals: { productId: string; sold: number }[] = [];
  for (let i = 0; i < flat.length; i += 2) totals.push({ productId: flat[i]!, sold: Number(flat[i + 1]) });
  return totals.sort((a, b) => b.sold - a.sold || a.productId.localeCompare(b.productId)).slice(0, limit);
}
