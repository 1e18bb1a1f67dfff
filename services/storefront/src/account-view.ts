import { ApiProblem, api } from './api.ts';
import { setUsableCoupons } from './cart-view.ts';
import { every, fill, h } from './dom.ts';
import { followOrder } from './order-view.ts';
import { currentSession } from './session.ts';
import { type Order, won } from './words.ts';

interface UserCoupon {
  couponId: string;
  name: string;
  status: 'ISSUED' | 'USED';
}

interface TopUp {
  topUpId: string;
  amount: number;
  status: 'PENDING' | 'COMPLETED' | 'FAILED';
  failureReason: string | null;
  createdAt: string;
}

/**
 * Buying points: a paid top-up, credited once its payment is captured. Made
 * once and put back on every refresh, so what is typed in it stays.
 */
const topUpForm = (() => {
  const amount = h('input', { name: 'top-up', type: 'number', min: 1000, step: 1000, value: 10_000 });
  const said = h('span', { 'data-testid': 'top-up-message', class: 'muted' });
  const buy = async () => {
    const session = currentSession();
    if (!session) return;
    said.textContent = 'Paying…';
    try {
      await api('POST', '/top-ups', {
        body: { userId: session.userId, amount: Number(amount.value) },
        // One key per press: a double click or a retry pays once.
        headers: { 'idempotency-key': crypto.randomUUID() },
      });
      said.textContent = 'Paid: the points come once the payment is captured.';
    } catch (err) {
      said.textContent = err instanceof ApiProblem ? `Not paid: ${err.message}` : String(err);
    }
    void refreshAccount();
  };
  return h(
    'p',
    {},
    h('label', {}, 'Buy points (₩1 each) ', amount),
    ' ',
    h('button', { type: 'button', onclick: () => void buy() }, 'Buy points'),
    ' ',
    said,
  );
})();

/** The ten newest of a list as a table (`testId`), or a line saying there are none. */
const newestRows = <T>(testId: string, none: string, items: T[], row: (item: T) => HTMLElement) =>
  items.length
    ? h('table', { class: 'orders', 'data-testid': testId }, ...items.slice(0, 10).map(row))
    : h('p', { class: 'muted' }, none);

/** The signed-in person's points, coupons, orders and top-ups (read again every few seconds and after each outcome). */
export async function refreshAccount(): Promise<void> {
  const session = currentSession();
  if (!session) {
    setUsableCoupons([]);
    fill('account', h('p', { class: 'muted' }, 'Sign in to see your coupons, points and orders.'));
    return;
  }
  const base = `/users/${session.userId}`;
  const [points, coupons, orders, topUps] = await Promise.all([
    api<{ balance: number }>('GET', `${base}/points`).catch(() => ({ balance: 0 })),
    api<{ items: UserCoupon[] }>('GET', `${base}/coupons`),
    api<{ items: Order[] }>('GET', `${base}/orders`),
    api<{ items: TopUp[] }>('GET', `${base}/top-ups`),
  ]);
  if (currentSession()?.userId !== session.userId) return;
  setUsableCoupons(coupons.items.filter((c) => c.status === 'ISSUED'));
  fill(
    'account',
    h('p', {}, 'Points: ', h('strong', { 'data-testid': 'points' }, won(points.balance))),
    topUpForm,
    h('h3', {}, 'Coupons'),
    coupons.items.length
      ? h(
          'ul',
          { 'data-testid': 'my-coupons' },
          ...coupons.items.map((c) => h('li', {}, `${c.name} `, h('small', {}, c.status.toLowerCase()))),
        )
      : h('p', { class: 'muted' }, 'No coupons yet.'),
    h('h3', {}, 'Orders'),
    newestRows('my-orders', 'No orders yet.', orders.items, (o) =>
      h(
        'tr',
        { 'data-order': o.orderId },
        h('td', {}, new Date(o.createdAt).toLocaleString()),
        h('td', {}, o.items.map((i) => `${i.productName} × ${i.quantity}`).join(', ')),
        h('td', {}, won(o.paymentAmount)),
        h('td', { class: `status-${o.status}` }, o.status),
        h(
          'td',
          {},
          h('button', { type: 'button', class: 'link', onclick: () => followOrder(o.orderId) }, 'view'),
        ),
      ),
    ),
    h('h3', {}, 'Top-ups'),
    newestRows('my-top-ups', 'No top-ups yet.', topUps.items, (t) =>
      h(
        'tr',
        { 'data-top-up': t.topUpId },
        h('td', {}, new Date(t.createdAt).toLocaleString()),
        h('td', {}, `${won(t.amount)} of points`),
        h('td', { class: `status-${t.status}`, title: t.failureReason ?? '' }, t.status),
      ),
    ),
  );
}

export function startAccount(): void {
  every(5000, refreshAccount);
}
