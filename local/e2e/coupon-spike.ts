/** Helpers of the coupon spike tests: a coupon, registered users, and the design's invariants read from Postgres. */
import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import { call, eventually, invoke, query, services } from '@shop/testkit';

const hour = 3_600_000;

export async function newCoupon(quota: number): Promise<string> {
  const res = await invoke('order', 'coupon', 'POST', 'coupons', {
    name: `Spike ${quota}`,
    discountType: 'FIXED',
    discountValue: 3000,
    quota,
    startsAt: new Date(Date.now() - hour).toISOString(),
    endsAt: new Date(Date.now() + hour).toISOString(),
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** Registers users on the user service and waits until the coupon service has heard of them all. */
export async function newUsers(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, () =>
        call('POST', `${services.user.appUrl}/users`, {
          email: `${randomUUID()}@example.com`,
          name: 'Spike',
        }),
      ),
    );
    ids.push(...batch.map((r) => r.body.id as string));
  }
  await eventually(
    'the coupon service to know every user',
    async () => {
      const [row] = await query<{ n: string }>(
        'coupon',
        'select count(*) as n from known_users where user_id = any($1)',
        [ids],
      );
      return Number(row?.n) === ids.length;
    },
    60_000,
  );
  return ids;
}

/** Asks for the coupon on one replica (the first unless told), as a client behind a load balancer would. */
export const issue = (couponId: string, userId: string, appUrl = services.coupon.appUrl) =>
  call('POST', `${appUrl}/coupons/${couponId}/issue`, { userId });

export async function waitAllResolved(couponId: string, expected: number): Promise<void> {
  await eventually(
    'every request to be COMPLETED or REJECTED',
    async () => {
      const [row] = await query<{ n: string }>(
        'coupon',
        "select count(*) as n from issue_requests where coupon_id = $1 and status in ('COMPLETED', 'REJECTED')",
        [couponId],
      );
      return Number(row?.n) === expected;
    },
    180_000,
  );
}

/** The invariants of the design, read from the coupon service's own database. */
export async function checkInvariants(
  couponId: string,
  quota: number,
  requests: number,
  demand: number,
  /** The sidecar to ask the quota actor through (any replica's). */
  daprUrl = services.coupon.daprUrl,
) {
  const statuses = await query<{ status: string; reason: string | null; n: string }>(
    'coupon',
    'select status, reason, count(*) as n from issue_requests where coupon_id = $1 group by status, reason',
    [couponId],
  );
  const count = (status: string, reason?: string) =>
    statuses
      .filter((s) => s.status === status && (reason === undefined || s.reason === reason))
      .reduce((a, s) => a + Number(s.n), 0);
  const issued = await query<{ user_id: string; request_id: string }>(
    'coupon',
    'select user_id, request_id from user_coupons where coupon_id = $1',
    [couponId],
  );
  const orphans = await query(
    'coupon',
    "select r.id from issue_requests r left join user_coupons uc on uc.request_id = r.id where r.coupon_id = $1 and r.status = 'COMPLETED' and uc.id is null",
    [couponId],
  );

  expect(count('COMPLETED') + count('REJECTED')).toBe(requests); // nothing lost, nothing pending
  expect(issued.length).toBe(Math.min(quota, demand)); // demand over quota: exactly the quota
  expect(new Set(issued.map((i) => i.user_id)).size).toBe(issued.length); // nobody twice
  expect(count('COMPLETED')).toBe(issued.length); // each COMPLETED has its row...
  expect(orphans).toEqual([]); // ...and exactly its own
  expect(count('REJECTED')).toBe(count('REJECTED', 'SOLD_OUT') + count('REJECTED', 'ALREADY_ISSUED'));
  const actor = await call('PUT', `${daprUrl}/v1.0/actors/CouponQuotaActor/${couponId}/method/status`);
  expect(actor.body).toEqual({ quota, issued: issued.length });
  return { issued, statuses };
}
