/**
 * The coupon service as three replicas behind one app id. Mid-spike, the
 * sidecar of the replica hosting the coupon's quota actor is killed (SIGKILL),
 * so placement moves the actor to a survivor; later it comes back and the
 * actor moves back to the replica whose app kept running all along (and would
 * still hold any counter it kept in memory). Nothing is oversold, nobody gets
 * two, and every request is decided.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, jest, test } from '@jest/globals';
import { call, eventually, processControl, query, replicasOf } from '@shop/testkit';
import type { ServiceAddress } from '../src/topology.ts';
import { checkInvariants, issue, newCoupon, newUsers, waitAllResolved } from './coupon-spike.ts';

jest.setTimeout(300_000);

const replicas = replicasOf('coupon');
let killedSidecar: string | undefined;

/** How many quota actors are active on this replica's sidecar (Dapr's metadata API). */
async function activeQuotaActors(replica: ServiceAddress): Promise<number> {
  const { body } = await call('GET', `${replica.daprUrl}/v1.0/metadata`);
  return (
    (body.actors as { type: string; count: number }[]).find((a) => a.type === 'CouponQuotaActor')?.count ?? 0
  );
}

const countRequests = async (couponId: string, where = '') =>
  Number(
    (
      await query<{ n: string }>(
        'coupon',
        `select count(*) as n from issue_requests where coupon_id = $1 ${where}`,
        [couponId],
      )
    )[0]?.n,
  );

/** Distinct users asking at once, spread over the replicas as a load balancer would; all must be accepted. */
async function spike(couponId: string, users: string[]): Promise<void> {
  const answers = await Promise.all(
    users.map((userId, i) => issue(couponId, userId, replicas[i % replicas.length]!.appUrl)),
  );
  expect(answers.map((a) => a.status)).toEqual(users.map(() => 202));
}

/**
 * The same as a stream: `perWave` users every 100 ms. Requests are decided
 * in batches within milliseconds, so only a stream keeps work in flight long
 * enough for a kill to land in the middle of it.
 */
async function stream(couponId: string, users: string[], perWave = 10): Promise<void> {
  const waves: Promise<void>[] = [];
  for (let i = 0; i < users.length; i += perWave) {
    waves.push(spike(couponId, users.slice(i, i + perWave)));
    await sleep(100);
  }
  await Promise.all(waves);
}

afterAll(async () => {
  // Back as it was for the suites that follow, also when the test failed half-way.
  if (killedSidecar) await processControl(killedSidecar, 'start');
});

describe('first-come-first-served with several coupon replicas', () => {
  test('When the quota actor is moved away mid-spike by a dead sidecar and back when it returns, then none is oversold, nobody gets two, and every request is decided', async () => {
    // npm test starts 3 (SHOP_COUPON_REPLICAS): the actor needs somewhere to move to.
    expect(replicas.length).toBeGreaterThanOrEqual(3);
    const quota = 100;
    // 300 in a stream of 3 s, then 40 and 60 more.
    const users = await newUsers(400);
    const couponId = await newCoupon(quota);
    const before = await Promise.all(replicas.map(activeQuotaActors));

    const first = stream(couponId, users.slice(0, 300));
    await eventually(
      'the first decision',
      async () => (await countRequests(couponId, "and status = 'COMPLETED'")) > 0,
    );
    const host = await eventually('the replica hosting the actor', async () => {
      const now = await Promise.all(replicas.map(activeQuotaActors));
      return replicas.find((_, i) => now[i]! > before[i]!);
    });
    killedSidecar = `${host.name}-dapr`;
    await processControl(killedSidecar, 'stop', 'SIGKILL');
    const decidedAtKill = await countRequests(couponId, "and status in ('COMPLETED', 'REJECTED')");
    // The kill must land in the middle of the work for this test to mean something: the stream
    // goes on, and what its replica accepts waits for the others' workers.
    await eventually(
      'requests waiting after the kill',
      async () => (await countRequests(couponId, "and status in ('QUEUED', 'PROCESSING')")) > 0,
      10_000,
    );
    await first;

    // The survivors go on deciding (its app still takes requests; its outbox is
    // published by the others' relays, its leases run out to their sweeps).
    await spike(couponId, users.slice(300, 340));
    await eventually(
      'the survivors to decide more requests',
      async () =>
        (await countRequests(couponId, "and status in ('COMPLETED', 'REJECTED')")) > decidedAtKill + 10,
      120_000,
    );
    await processControl(killedSidecar, 'start');
    killedSidecar = undefined;

    // Placement hands the actor back to its first host, whose app never stopped.
    await spike(couponId, users.slice(340));
    await waitAllResolved(couponId, users.length);
    expect(await activeQuotaActors(host)).toBeGreaterThan(0);

    const { issued } = await checkInvariants(couponId, quota, users.length, users.length, host.daprUrl);
    expect(issued.length).toBe(quota);
  });
});
