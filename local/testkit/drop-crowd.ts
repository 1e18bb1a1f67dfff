/**
 * The storefront's "drop" mode: a crowd of simulated customers asks for one
 * coupon the moment it opens, so that a person watching the page sees the
 * quota run out and their own request's outcome. Everything goes through the
 * gateway's public API as ordinary customers would (sign up, sign in, ask for
 * the coupon with their own token): the crowd has no power a person lacks,
 * and only creating the coupon needs an admin's sign-in.
 */

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const hour = 3_600_000;

export interface CrowdOptions {
  gatewayUrl: string;
  /** How many simulated customers. */
  users: number;
  /** An existing coupon; without one, a new drop is created (needs `admin`). */
  couponId?: string;
  /** For a new drop: its quota and how long until it opens. */
  quota?: number;
  startsInMs?: number;
  admin?: { email: string; password: string };
  /** Fire when this resolves instead of at the opening (a test lets its person ask first). */
  fireWhen?: Promise<unknown>;
  log?: (line: string) => void;
}

export interface CrowdOutcome {
  couponId: string;
  startsAt: string;
  completed: number;
  rejected: Record<string, number>;
}

/** A JSON answer, read loosely: this script only picks a few known fields. */
type Json = any;

interface Answer {
  status: number;
  body: Json;
  retryAfter: number;
}

async function call(
  gatewayUrl: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Answer> {
  for (;;) {
    const res = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const answer = {
      status: res.status,
      body: text ? JSON.parse(text) : undefined,
      retryAfter: Number(res.headers.get('retry-after') ?? 1),
    };
    // The gateway's rate limit on anonymous calls (sign-ups from one address): wait as told.
    if (answer.status !== 429) return answer;
    await sleep(answer.retryAfter * 1000);
  }
}

async function expectStatus(answer: Promise<Answer>, status: number, what: string): Promise<Json> {
  const a = await answer;
  if (a.status !== status) throw new Error(`${what} answered ${a.status}: ${JSON.stringify(a.body)}`);
  return a.body;
}

/** Runs `work` over the items, `width` at a time (sign-ups hash passwords: not all at once). */
async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) {
    results.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  }
  return results;
}

/** Signs up and signs in `count` simulated customers; their ids and tokens. */
export async function registerCrowd(
  gatewayUrl: string,
  count: number,
): Promise<{ userId: string; token: string }[]> {
  const run = randomUUID().slice(0, 8);
  return inBatches([...Array(count).keys()], 8, async (i) => {
    const email = `crowd-${run}-${i}@example.com`;
    const password = `crowd-${randomUUID()}`;
    await expectStatus(
      call(gatewayUrl, 'POST', '/users', { email, name: `Crowd ${i}`, password }),
      202,
      'sign-up',
    );
    const session = await expectStatus(
      call(gatewayUrl, 'POST', '/auth/login', { email, password }),
      200,
      'sign-in',
    );
    return { userId: session.userId as string, token: session.accessToken as string };
  });
}

/** A coupon with a quota that opens in `startsInMs`, created by an admin. */
export async function createDrop(
  gatewayUrl: string,
  admin: { email: string; password: string },
  quota: number,
  startsInMs: number,
): Promise<{ id: string; startsAt: string }> {
  const session = await expectStatus(call(gatewayUrl, 'POST', '/auth/login', admin), 200, 'admin sign-in');
  const startsAt = new Date(Date.now() + startsInMs);
  return expectStatus(
    call(
      gatewayUrl,
      'POST',
      '/coupons',
      {
        name: `Drop ${startsAt.toISOString().slice(11, 19)} UTC`,
        discountType: 'FIXED',
        discountValue: 5000,
        quota,
        minOrderAmount: 10_000,
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + hour).toISOString(),
      },
      session.accessToken,
    ),
    201,
    'creating the drop',
  );
}

/**
 * The crowd: registered first (while the drop counts down), then every
 * member asks for the coupon at the moment it opens, all at once. Answers how
 * their requests ended.
 */
export async function fireCrowd(options: CrowdOptions): Promise<CrowdOutcome> {
  const log = options.log ?? (() => undefined);
  const { gatewayUrl } = options;
  const coupon = options.couponId
    ? await expectStatus(call(gatewayUrl, 'GET', `/coupons/${options.couponId}`), 200, 'reading the coupon')
    : await createDrop(
        gatewayUrl,
        options.admin ?? { email: 'admin@example.com', password: 'admin-demo-pass' },
        options.quota ?? 20,
        options.startsInMs ?? 30_000,
      );
  log(`drop ${coupon.id} opens at ${coupon.startsAt}`);
  const crowd = await registerCrowd(gatewayUrl, options.users);
  log(`${crowd.length} simulated customers signed in`);
  const wait = new Date(coupon.startsAt).getTime() - Date.now();
  if (options.fireWhen) {
    await options.fireWhen;
  } else if (wait > 0) {
    log(`waiting ${(wait / 1000).toFixed(1)} s for the drop to open`);
    await sleep(wait);
  }
  log(`firing ${crowd.length} requests`);
  const requestIds = await Promise.all(
    crowd.map(async (member) => {
      // A new customer is known to the coupon service once it heard of them over Kafka (422 until then).
      for (let attempt = 0; ; attempt++) {
        const a = await call(
          gatewayUrl,
          'POST',
          `/coupons/${coupon.id}/issue`,
          { userId: member.userId },
          member.token,
        );
        if (a.status === 202) return { token: member.token, requestId: a.body.requestId as string };
        if (a.status !== 422 || attempt >= 20) throw new Error(`a request answered ${a.status}`);
        await sleep(250);
      }
    }),
  );
  const outcome: CrowdOutcome = {
    couponId: coupon.id,
    startsAt: coupon.startsAt,
    completed: 0,
    rejected: {},
  };
  await Promise.all(
    requestIds.map(async ({ token, requestId }) => {
      for (;;) {
        const r = await call(gatewayUrl, 'GET', `/coupon-requests/${requestId}`, undefined, token);
        if (r.body?.status === 'COMPLETED') {
          outcome.completed++;
          return;
        }
        if (r.body?.status === 'REJECTED') {
          outcome.rejected[r.body.reason] = (outcome.rejected[r.body.reason] ?? 0) + 1;
          return;
        }
        await sleep(250);
      }
    }),
  );
  log(`the crowd's requests: ${outcome.completed} COMPLETED, rejected ${JSON.stringify(outcome.rejected)}`);
  return outcome;
}
