/**
 * The invariants of the whole system, read from every service's own database
 * (read-only): used after load and chaos runs and by the end-to-end suite.
 * Returns the violations found; an empty list means the data agrees.
 */
import pg from 'pg';
import { insiderHeaders } from '../src/api-tokens.ts';
import { postgres, services } from '../src/topology.ts';

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

/** One order as each service recorded it: nothing here is computed with the services' own formulas. */
export interface OrderRecords {
  /** The order service: the order row and its lines (product_id, quantity, unit_price). */
  order: Row & { id: string; status: string; items: Row[] };
  /** The product service's stock movements for the order. */
  movements: Row[];
  /** The payment service's payments for the order, and how many captures it announced. */
  payments: Row[];
  captures: number;
  /**
   * The capture's event may be gone: published longer ago than the outbox keeps
   * published rows (RETENTION_OUTBOX_HOURS). Then 0 captures counted is no
   * proof of none; two are still one too many.
   */
  capturesMaybeSwept?: boolean;
  /** The user service's ledger entries for the order (USE negative, REFUND positive). */
  ledger: Row[];
  /** The coupon service's use of a coupon by the order, if any. */
  couponUse: Row | undefined;
}

/**
 * Reconciles one order against every service's own records: for a completed
 * order, points taken + amount paid + discount = the sum of its lines, points
 * taken ≤ that sum − discount, one capture, stock moved once; for a failed
 * order, everything given back.
 */
export function reconcileOrder(r: OrderRecords): string[] {
  const violations: string[] = [];
  const bad = (what: string) => violations.push(`order ${r.order.id} ${r.order.status}: ${what}`);
  const { order } = r;
  const deducted = r.movements.filter((m) => m.kind === 'DEDUCT');
  const restored = r.movements.filter((m) => m.kind === 'RESTORE');
  const pointsTaken = -r.ledger.reduce((sum, l) => sum + Number(l.amount), 0);
  const couponUsed = r.couponUse?.status === 'USED';

  if (order.status === 'PENDING') bad('not finished');
  if (order.status === 'COMPLETED') {
    const lines = order.items.reduce((sum, i) => sum + Number(i.unit_price) * Number(i.quantity), 0);
    const discount = couponUsed ? Number(r.couponUse!.discount) : 0;
    const paid =
      r.payments.length === 1 && r.payments[0]!.status === 'COMPLETED' ? Number(r.payments[0]!.amount) : null;
    if (paid === null)
      bad(`its payments are [${r.payments.map((p) => p.status).join(', ')}], not one COMPLETED`);
    else if (pointsTaken + paid + discount !== lines)
      bad(`points taken ${pointsTaken} + paid ${paid} + discount ${discount} ≠ its lines' total ${lines}`);
    if (r.captures > 1 || (r.captures === 0 && !r.capturesMaybeSwept))
      bad(`the payment was captured ${r.captures} times`);
    if (pointsTaken < 0 || pointsTaken > lines - discount)
      bad(
        `took ${pointsTaken} points, more than the ${Math.max(0, lines - discount)} KRW left after the discount`,
      );
    if (pointsTaken > Number(order.points_to_use))
      bad(`took ${pointsTaken} points, more than the ${order.points_to_use} asked for`);
    if (Number(order.total_amount) !== lines)
      bad(`its total ${order.total_amount} ≠ its lines' total ${lines}`);
    if (Number(order.discount) !== discount || Number(order.points_used) !== pointsTaken)
      bad(
        `it shows discount ${order.discount} and points ${order.points_used}; the services took ${discount} and ${pointsTaken}`,
      );
    if (Boolean(order.coupon_id) !== couponUsed) bad(`its coupon is ${couponUsed ? 'USED' : 'not used'}`);
    const products = deducted.map((m) => m.product_id);
    if (
      !sameLines(deducted, order.items) ||
      new Set(products).size !== products.length ||
      restored.length > 0
    )
      bad('its stock movements do not match its lines, once each');
  }
  if (order.status === 'FAILED') {
    if (deducted.length > 0 && !sameLines(deducted, restored)) bad('its stock was not all restored');
    const live = r.payments.filter((p) => p.status !== 'CANCELLED' && p.status !== 'FAILED');
    if (live.length > 0) bad(`its payment is ${live.map((p) => p.status).join(', ')}`);
    if (pointsTaken !== 0) bad(`${pointsTaken} points are still taken`);
    if (Number(order.points_used) !== 0) bad(`it shows ${order.points_used} points used`);
    if (couponUsed) bad('its coupon is still USED');
  }
  return violations;
}

export interface InvariantReport {
  orders: number;
  completed: number;
  failed: number;
  needsAttention: number;
  violations: string[];
}

export interface CheckOptions {
  /** The order service's sidecar: each order's workflow is read there and compared with the order. */
  workflowsVia?: string;
  /** An outbox row older than this and not published is a violation (default 60 s). */
  unpublishedAfterMs?: number;
  /**
   * How long the services keep a published outbox row, when that is shorter
   * than the orders' age (the soak): a capture announced before then may have
   * been swept, so none found for it is not a violation.
   */
  outboxRetentionMs?: number;
}

const SERVICES_WITH_OUTBOX = ['user', 'product', 'coupon', 'payment', 'order'] as const;
const WORKFLOW_ENDED = new Set(['COMPLETED', 'FAILED', 'TERMINATED']);

/** Orders whose workflow, as the sidecar reports it, disagrees with the order. */
async function workflowDisagreements(daprUrl: string, orders: Row[]): Promise<string[]> {
  const found: string[] = [];
  const queue = [...orders];
  const worker = async () => {
    for (let o = queue.shift(); o; o = queue.shift()) {
      // The instance that drives the order: its own id, or a re-run's (orders.workflow_id).
      const url = `${daprUrl}/v1.0/workflows/dapr/${o.workflow_id ?? o.id}`;
      const res = await fetch(url, {
        headers: insiderHeaders(url),
        signal: AbortSignal.timeout(10_000),
      });
      const workflow = res.ok ? ((await res.json()) as { runtimeStatus: string }).runtimeStatus : 'missing';
      const ended = WORKFLOW_ENDED.has(workflow);
      // A terminal order whose workflow still runs, or a PENDING one that nothing drives.
      if (o.status !== 'PENDING' && !ended && workflow !== 'missing')
        found.push(`order ${o.id} ${o.status} but its workflow is ${workflow}`);
      if (o.status === 'PENDING' && (ended || workflow === 'missing'))
        found.push(`order ${o.id} PENDING but its workflow is ${workflow}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return found;
}

/**
 * `orderIds`: only these orders (a run's own) and the products they touched;
 * all orders and products when omitted.
 */
export async function checkInvariants(
  orderIds?: string[],
  options: CheckOptions = {},
): Promise<InvariantReport> {
  const violations: string[] = [];
  const bad = (what: string) => violations.push(what);

  const orders = await withDb('order', async (q) => {
    const rows = await q(
      `select o.*, coalesce(json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity, 'unit_price', i.unit_price)) filter (where i.product_id is not null), '[]') as items
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
    q('select order_id, status, amount, updated_at from payments where order_id = any($1)', [ids]),
  );
  const ledger = await withDb('user', (q) =>
    q('select order_id, kind, amount from point_ledger where order_id = any($1)', [ids]),
  );
  const unbalanced = await withDb('user', (q) =>
    q(`select a.user_id, a.balance, coalesce(sum(l.amount), 0) as ledger from point_accounts a
       left join point_ledger l on l.user_id = a.user_id group by a.user_id, a.balance having a.balance <> coalesce(sum(l.amount), 0) or a.balance < 0`),
  );
  const couponUses = await withDb('coupon', (q) =>
    q('select order_id, status, discount from coupon_uses where order_id = any($1)', [ids]),
  );
  const captures = await withDb('payment', (q) =>
    q("select subject from outbox where event_type = 'PaymentCompleted' and subject = any($1)", [ids]),
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
  const captured = by(captures, 'subject');

  for (const o of orders) {
    const id = o.id as string;
    violations.push(
      ...reconcileOrder({
        order: o as OrderRecords['order'],
        movements: moves.get(id) ?? [],
        payments: pays.get(id) ?? [],
        captures: captured.get(id)?.length ?? 0,
        capturesMaybeSwept:
          options.outboxRetentionMs !== undefined &&
          (pays.get(id) ?? []).some(
            (p) => new Date(p.updated_at).getTime() < Date.now() - options.outboxRetentionMs!,
          ),
        ledger: points.get(id) ?? [],
        couponUse: uses.get(id)?.[0],
      }),
    );
  }
  // Stock moved for an order that does not exist or has not ended, on the products in scope.
  const products = [...new Set(movements.map((m) => m.product_id))];
  const movedFor = await withDb('product', (q) =>
    q(
      `select distinct order_id from stock_movements ${orderIds ? 'where product_id = any($1)' : ''}`,
      orderIds ? [products] : [],
    ),
  );
  const terminal = new Set(
    (
      await withDb('order', (q) =>
        q("select id from orders where status <> 'PENDING' and id = any($1)", [
          movedFor.map((r) => r.order_id),
        ]),
      )
    ).map((r) => r.id),
  );
  for (const r of movedFor)
    if (!terminal.has(r.order_id)) bad(`stock moved for order ${r.order_id}, which is not a terminal order`);
  for (const service of SERVICES_WITH_OUTBOX) {
    const [late] = await withDb(service, (q) =>
      q(
        'select count(*)::int as n from outbox where published_at is null and created_at < now() - make_interval(secs => $1)',
        [(options.unpublishedAfterMs ?? 60_000) / 1000],
      ),
    );
    if (late!.n > 0) bad(`${service}: ${late!.n} outbox events not published after their bound`);
  }
  if (options.workflowsVia) violations.push(...(await workflowDisagreements(options.workflowsVia, orders)));
  for (const r of negativeStock) bad(`product ${r.product_id} has negative stock`);
  for (const r of unbalanced)
    bad(`user ${r.user_id}: balance ${r.balance} but the ledger sums to ${r.ledger}`);
  for (const r of couponMismatch) bad(`user coupon ${r.id}: its status and its order's use disagree`);
  for (const r of oversold) bad(`coupon ${r.id} issued more than its quota`);

  return {
    orders: orders.length,
    completed: orders.filter((o) => o.status === 'COMPLETED').length,
    failed: orders.filter((o) => o.status === 'FAILED').length,
    needsAttention: orders.filter((o) => o.status === 'NEEDS_ATTENTION').length,
    violations,
  };
}
