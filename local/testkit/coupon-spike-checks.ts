/**
 * What a coupon spike needs around k6, wherever the platform runs (local
 * processes or a Kubernetes cluster): the users, and the invariants checked
 * in the coupon service's database once every request has ended.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { insiderHeaders } from '../src/api-tokens.ts';

export async function postJson(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...insiderHeaders(url) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Registers `count` users and waits until the coupon service knows them all (UserRegistered). */
export async function registerSpikeUsers(
  userUrl: string,
  couponDb: pg.Pool,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        postJson(`${userUrl}/users`, { email: `spike-${Date.now()}-${i + j}@example.com`, name: 'Spike' }),
      ),
    );
    ids.push(...batch.map((u: { id: string }) => u.id));
  }
  for (;;) {
    const { rows } = await couponDb.query(
      'select count(*)::int as n from known_users where user_id = any($1)',
      [ids],
    );
    if (rows[0].n === ids.length) return ids;
    await sleep(500);
  }
}

/** A coupon open from a minute ago for an hour, with the given quota. */
export function createSpikeCoupon(couponUrl: string, quota: number): Promise<{ id: string }> {
  return postJson(`${couponUrl}/coupons`, {
    name: `Spike ${new Date().toISOString()}`,
    discountType: 'FIXED',
    discountValue: 5000,
    quota,
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
  });
}

/** Waits until every request for the coupon is COMPLETED or REJECTED; returns when the last one ended. */
export async function waitUntilResolved(
  couponDb: pg.Pool,
  couponId: string,
  timeoutMs = 600_000,
): Promise<Date> {
  const started = Date.now();
  for (;;) {
    // Only the pending rows (an index range), not every row of the coupon four times a second:
    // the benchmark's own polling must not weigh on the Postgres it measures.
    const { rows } = await couponDb.query(
      "select count(*)::int as pending from issue_requests where coupon_id = $1 and status in ('QUEUED', 'PROCESSING')",
      [couponId],
    );
    if (rows[0].pending === 0) break;
    if (Date.now() - started > timeoutMs)
      throw new Error(`requests still pending after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
  const { rows } = await couponDb.query(
    'select max(updated_at) as t from issue_requests where coupon_id = $1',
    [couponId],
  );
  return new Date(rows[0].t);
}

export interface SpikeOutcome {
  issued: number;
  duplicates: number;
  recorded: number;
  demand: number;
  violations: string[];
}

/**
 * The invariants after a spike: no more issued than the quota, exactly the
 * quota when demand exceeds it, nobody twice, no accepted request lost or
 * unresolved, every COMPLETED request with its user_coupons row.
 */
export async function checkSpike(
  couponDb: pg.Pool,
  couponId: string,
  quota: number,
  acceptedByClient: number,
): Promise<SpikeOutcome> {
  const q = async (sql: string) => (await couponDb.query(sql, [couponId])).rows[0].n as number;
  const recorded = await q('select count(*)::int as n from issue_requests where coupon_id = $1');
  const issued = await q('select count(*)::int as n from user_coupons where coupon_id = $1');
  const duplicates = await q(
    'select count(*)::int as n from (select user_id from user_coupons where coupon_id = $1 group by user_id having count(*) > 1) d',
  );
  const unresolved = await q(
    "select count(*)::int as n from issue_requests where coupon_id = $1 and status not in ('COMPLETED', 'REJECTED')",
  );
  const completed = await q(
    "select count(*)::int as n from issue_requests where coupon_id = $1 and status = 'COMPLETED'",
  );
  const orphans = await q(
    "select count(*)::int as n from issue_requests r left join user_coupons uc on uc.request_id = r.id where r.coupon_id = $1 and r.status = 'COMPLETED' and uc.id is null",
  );
  const demand = await q('select count(distinct user_id)::int as n from issue_requests where coupon_id = $1');
  const violations = [
    issued > quota && `oversold: ${issued} issued for a quota of ${quota}`,
    demand >= quota && issued !== quota && `demand ${demand} ≥ quota but ${issued} issued`,
    duplicates > 0 && `${duplicates} users got the coupon twice`,
    // Recorded but never acknowledged (killed between the commit and the answer) is not lost:
    // it is resolved like the others (a client that retries makes a second request, decided as usual).
    recorded < acceptedByClient && `lost: k6 saw ${acceptedByClient} accepted, ${recorded} recorded`,
    unresolved > 0 && `${unresolved} requests not resolved`,
    completed !== issued && `${completed} COMPLETED but ${issued} user_coupons rows`,
    orphans > 0 && `${orphans} COMPLETED requests without their user_coupons row`,
  ].filter(Boolean) as string[];
  return { issued, duplicates, recorded, demand, violations };
}
