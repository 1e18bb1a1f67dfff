/**
 * The load the chaos suite and the soak put on the local platform, straight
 * to the services' own ports as their sidecars would call them: buyers with
 * points, products with deep stock, orders that vary their buyer, product,
 * points and payment, and coupon requests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { DEMO_ADMIN_HEADERS, insiderHeaders } from '../src/api-tokens.ts';
import { services } from '../src/topology.ts';
import { registerSpikeUsers } from './coupon-spike-checks.ts';

/** POST that never throws: the status, and the JSON answer when there is one. A frozen service times out. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insiderHeaders(url), ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } catch {
    return { status: 0, body: undefined };
  }
}

export async function mustPost(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await post(url, body, headers);
  if (res.status >= 300) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface Fixtures {
  buyers: string[];
  products: string[];
}

export async function fixtures(couponDb: pg.Pool): Promise<Fixtures> {
  const buyers = await registerSpikeUsers(services.user.appUrl, couponDb, 8);
  for (const id of buyers)
    await mustPost(
      `${services.user.appUrl}/users/${id}/points/grants`,
      { amount: 10_000_000, reason: 'a chaos buyer', idempotencyKey: `chaos-${id}` },
      DEMO_ADMIN_HEADERS,
    );
  const products = [];
  for (let i = 0; i < 4; i++)
    products.push(
      (
        await mustPost(`${services.product.appUrl}/products`, {
          name: `Chaos ${i}`,
          price: 9000 + i * 1000,
          stock: 1_000_000,
        })
      ).id as string,
    );
  return { buyers, products };
}

/**
 * Places order number `i` (its buyer, product, points and payment vary with i); its id when
 * accepted (202). `answered` hears every status (0: no answer within 5 s).
 */
export async function placeOrder(
  f: Fixtures,
  i: number,
  answered?: (status: number) => void,
): Promise<string | undefined> {
  const res = await post(
    `${services.order.appUrl}/orders`,
    {
      userId: f.buyers[i % f.buyers.length]!,
      items: [{ productId: f.products[i % f.products.length]!, quantity: 1 + (i % 3) }],
      pointsToUse: i % 2 === 0 ? 3000 : 0,
    },
    // Slow payments keep sagas in the middle of their steps when the fault comes.
    i % 2 === 0 ? { 'x-fake-gateway': 'slow:1500' } : {},
  );
  answered?.(res.status);
  return res.status === 202 ? (res.body.orderId as string) : undefined;
}

/** Keeps placing orders, one every `pace` ms, until `stop.done`; returns the ids of those accepted. */
export async function orderLoad(
  f: Fixtures,
  from: number,
  pace: number,
  stop: { done: boolean },
  answered?: (status: number) => void,
) {
  const accepted: string[] = [];
  for (let i = from; !stop.done; i++) {
    const id = await placeOrder(f, i, answered);
    if (id) accepted.push(id);
    await sleep(pace);
  }
  return accepted;
}

/** Coupon requests from every spike user, some twice; returns how many were accepted (202). */
export async function couponLoad(couponId: string, users: string[]) {
  const answers = await Promise.all(
    [...users, ...users.slice(0, 6)].map((userId) =>
      post(`${services.coupon.appUrl}/coupons/${couponId}/issue`, { userId }),
    ),
  );
  return answers.filter((a) => a.status === 202).length;
}

/** Seconds from `since` until every order and every request of the coupons has ended; undefined past `boundMs`. */
export async function untilAllEnded(
  dbs: { order: pg.Pool; coupon: pg.Pool },
  orderIds: string[],
  couponIds: string[],
  since: number,
  boundMs: number,
): Promise<number | undefined> {
  while (Date.now() - since < boundMs) {
    try {
      const [orders, requests] = await Promise.all([
        dbs.order.query("select count(*)::int as n from orders where id = any($1) and status = 'PENDING'", [
          orderIds,
        ]),
        dbs.coupon.query(
          "select count(*)::int as n from issue_requests where coupon_id = any($1) and status not in ('COMPLETED', 'REJECTED')",
          [couponIds],
        ),
      ]);
      if (orders.rows[0].n === 0 && requests.rows[0].n === 0) return (Date.now() - since) / 1000;
    } catch {
      // Postgres itself may still be coming back.
    }
    await sleep(250);
  }
  return undefined;
}
