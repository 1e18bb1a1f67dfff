/**
 * First-come-first-served coupons on the real stack: requests answered at
 * once, decided by the quota actor through Kafka, and the invariants checked
 * in Postgres and through the API — also after the coupon service is killed
 * in the middle of the work.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, jest, test } from '@jest/globals';
import { call, eventually, invoke, processControl, query, services } from './stack.ts';

jest.setTimeout(240_000);

const hour = 3_600_000;

async function newCoupon(quota: number): Promise<string> {
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
async function newUsers(count: number): Promise<string[]> {
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

const issue = (couponId: string, userId: string) =>
  call('POST', `${services.coupon.appUrl}/coupons/${couponId}/issue`, { userId });

async function waitAllResolved(couponId: string, expected: number): Promise<void> {
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
async function checkInvariants(couponId: string, quota: number, requests: number, demand: number) {
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
  const actor = await call(
    'PUT',
    `${services.coupon.daprUrl}/v1.0/actors/CouponQuotaActor/${couponId}/method/status`,
  );
  expect(actor.body).toEqual({ quota, issued: issued.length });
  return { issued, statuses };
}

describe('first-come-first-served issuance', () => {
  test('When more users than the quota ask at once, some twice, then exactly the quota is issued, nobody twice, every request resolved', async () => {
    const quota = 25;
    const couponId = await newCoupon(quota);
    const users = await newUsers(60);
    const twice = users.slice(0, 15);
    const answers = await Promise.all([...users, ...twice].map((u) => issue(couponId, u)));
    expect(answers.every((a) => a.status === 202 && a.body.status === 'QUEUED')).toBe(true);

    await waitAllResolved(couponId, answers.length);
    const { issued } = await checkInvariants(couponId, quota, answers.length, users.length);

    // What a client sees agrees with the database.
    const winner = issued[0]!;
    expect(
      (await invoke('order', 'coupon', 'GET', `coupon-requests/${winner.request_id}`)).body,
    ).toMatchObject({
      status: 'COMPLETED',
      userId: winner.user_id,
    });
    expect((await invoke('order', 'coupon', 'GET', `users/${winner.user_id}/coupons`)).body.items).toEqual([
      expect.objectContaining({ couponId, status: 'ISSUED' }),
    ]);
    for (const user of twice) {
      const mine = await query(
        'coupon',
        "select * from issue_requests where coupon_id = $1 and user_id = $2 and status = 'COMPLETED'",
        [couponId, user],
      );
      expect(mine.length).toBeLessThanOrEqual(1);
    }
  });

  test('When a client follows its request on the SSE stream, then it sees it through to a final state', async () => {
    const couponId = await newCoupon(5);
    const [userId] = await newUsers(1);
    const { body } = await issue(couponId, userId!);
    const res = await fetch(
      `${services.coupon.daprUrl}/v1.0/invoke/coupon/method/coupon-requests/${body.requestId}/events`,
    );
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text(); // the stream ends after the final state
    const events = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
    expect(events.at(-1)).toMatchObject({ requestId: body.requestId, status: 'COMPLETED' });
    expect(events.map((e) => e.status)).toEqual([...new Set(events.map((e) => e.status))]);
  });

  test('When the coupon service is killed while it works through a spike and started again, then every request still resolves and the invariants hold', async () => {
    const quota = 15;
    const couponId = await newCoupon(quota);
    const users = await newUsers(40);
    const answers = await Promise.all(users.map((u) => issue(couponId, u)));
    expect(answers.every((a) => a.status === 202)).toBe(true);

    await processControl('coupon', 'stop', 'SIGKILL');
    const [pending] = await query<{ n: string }>(
      'coupon',
      "select count(*) as n from issue_requests where coupon_id = $1 and status not in ('COMPLETED', 'REJECTED')",
      [couponId],
    );
    // The kill must land in the middle of the work for this test to mean something.
    expect(Number(pending?.n)).toBeGreaterThan(0);
    await processControl('coupon', 'start');

    await waitAllResolved(couponId, answers.length);
    await checkInvariants(couponId, quota, answers.length, users.length);
  });
});
