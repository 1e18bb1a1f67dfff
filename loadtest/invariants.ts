/**
 * The invariants of the whole system, read from every service's own database
 * (read-only): used after load and chaos runs and by the end-to-end suite.
 * Returns the violations found; an empty list means the data agrees.
 */
import pg from 'pg';
import { postgres, services } from '../local/src/topology.ts';

// biome-ignore lint/suspicious/noExplicitAny: rows of several services' tables, read as they come
type Row = Record<string, any>;

async function withDb<T>(
  service: keyof typeof services,
  fn: (q: (sql: string, p?: unknown[]) => Promise<Row[]>) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: postgres.databaseUrl(services[service].database) });
  await client.connect();
  try {
    return await fn(async (sql, p = []) => (await client.query(sql, p)).rows);
  } finally {
    await client.end();
  }
}

const key = (r: Row) => `${r.product_id}:${Number(r.quantity)}`;
const sameLines = (a: Row[], b: Row[]) => a.map(key).sort().join(',') === b.map(key).sort().join(',');

export interface InvariantReport {
  orders: number;
  completed: number;
  failed: number;
  violations: string[];
}

/** `orderIds`: only these orders (a test's own); all orders when omitted. */
export async function checkInvariants(orderIds?: string[]): Promise<InvariantReport> {
  const violations: string[] = [];
  const bad = (what: string) => violations.push(what);

  const orders = await withDb('order', async (q) => {
    const rows = await q(
      `select o.*, coalesce(json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity)) filter (where i.product_id is not null), '[]') as items
       from orders o left join order_items i on i.order_id = o.id ${orderIds ? 'where o.id = any($1)' : ''} group by o.id`,
      orderIds ? [orderIds] : [],
    );
    return rows;
  });
  const ids = orders.map((o) => o.id);
  const movements = await withDb('product', (q) =>
    q('select order_id, product_id, kind, quantity from stock_movements where order_id = any($1)', [ids]),
  );
  const negativeStock = await withDb('product', (q) => q('select product_id from stocks where quantity < 0'));
  const payments = await withDb('payment', (q) =>
    q('select order_id, status, amount from payments where order_id = any($1)', [ids]),
  );
  const ledger = await withDb('user', (q) =>
    q('select order_id, kind, amount from point_ledger where order_id = any($1)', [ids]),
  );
  const unbalanced = await withDb('user', (q) =>
    q(`select a.user_id, a.balance, coalesce(sum(l.amount), 0) as ledger from point_accounts a
       left join point_ledger l on l.user_id = a.user_id group by a.user_id, a.balance having a.balance <> coalesce(sum(l.amount), 0) or a.balance < 0`),
  );
  const couponUses = await withDb('coupon', (q) =>
    q('select order_id, status from coupon_uses where order_id = any($1)', [ids]),
  );
  const couponMismatch = await withDb('coupon', (q) =>
    q(`select uc.id from user_coupons uc left join coupon_uses cu on cu.user_coupon_id = uc.id and cu.status = 'USED'
       where (uc.status = 'USED') <> (cu.order_id is not null)`),
  );
  const oversold = await withDb('coupon', (q) =>
    q(
      'select c.id from coupons c join user_coupons uc on uc.coupon_id = c.id group by c.id, c.quota having count(*) > c.quota',
    ),
  );

  const by = <T extends Row>(rows: T[], k: string) => {
    const m = new Map<string, T[]>();
    for (const r of rows) m.set(r[k], [...(m.get(r[k]) ?? []), r]);
    return m;
  };
  const moves = by(movements, 'order_id');
  const pays = by(payments, 'order_id');
  const points = by(ledger, 'order_id');
  const uses = by(couponUses, 'order_id');

  for (const o of orders) {
    const id = o.id as string;
    const deducted = (moves.get(id) ?? []).filter((m) => m.kind === 'DEDUCT');
    const restored = (moves.get(id) ?? []).filter((m) => m.kind === 'RESTORE');
    const payment = pays.get(id)?.[0];
    const pointsNet = (points.get(id) ?? []).reduce((s, l) => s + Number(l.amount), 0);
    const couponUsed = uses.get(id)?.[0]?.status === 'USED';
    if (o.status === 'PENDING') bad(`order ${id} is not finished (PENDING)`);
    if (o.status === 'COMPLETED') {
      if (!sameLines(deducted, o.items) || restored.length > 0)
        bad(`order ${id} COMPLETED but its stock moves do not match its items`);
      const due = Math.max(0, Number(o.total_amount) - Number(o.discount) - Number(o.points_to_use));
      if (payment?.status !== 'COMPLETED' || Number(payment.amount) !== due)
        bad(`order ${id} COMPLETED but its payment is ${payment?.status ?? 'missing'}`);
      if (pointsNet !== -Number(o.points_to_use))
        bad(`order ${id} COMPLETED but took ${-pointsNet} points, not ${o.points_to_use}`);
      if (Boolean(o.coupon_id) !== couponUsed)
        bad(`order ${id} COMPLETED but its coupon is ${couponUsed ? 'USED' : 'not used'}`);
    }
    if (o.status === 'FAILED') {
      if (deducted.length > 0 && !sameLines(deducted, restored))
        bad(`order ${id} FAILED but its stock was not all restored`);
      if (payment?.status === 'COMPLETED' || payment?.status === 'STARTED')
        bad(`order ${id} FAILED but its payment is ${payment.status}`);
      if (pointsNet !== 0) bad(`order ${id} FAILED but ${-pointsNet} points are still taken`);
      if (couponUsed) bad(`order ${id} FAILED but its coupon is still USED`);
    }
  }
  for (const r of negativeStock) bad(`product ${r.product_id} has negative stock`);
  for (const r of unbalanced)
    bad(`user ${r.user_id}: balance ${r.balance} but the ledger sums to ${r.ledger}`);
  for (const r of couponMismatch) bad(`user coupon ${r.id}: its status and its order's use disagree`);
  for (const r of oversold) bad(`coupon ${r.id} issued more than its quota`);

  return {
    orders: orders.length,
    completed: orders.filter((o) => o.status === 'COMPLETED').length,
    failed: orders.filter((o) => o.status === 'FAILED').length,
    violations,
  };
}
