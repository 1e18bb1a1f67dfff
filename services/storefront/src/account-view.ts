import { api } from './api.ts';
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

/** The signed-in person's points, coupons and orders (read again every few seconds and after each outcome). */
export async function refreshAccount(): Promise<void> {
  const session = currentSession();
  if (!session) {
    setUsableCoupons([]);
    fill('account', h('p', { class: 'muted' }, 'Sign in to see your coupons, points and orders.'));
    return;
  }
  const base = `/users/${session.userId}`;
  const [points, coupons, orders] = await Promise.all([
    api<{ balance: number }>('GET', `${base}/points`).catch(() => ({ balance: 0 })),
    api<{ items: UserCoupon[] }>('GET', `${base}/coupons`),
    api<{ items: Order[] }>('GET', `${base}/orders`),
  ]);
  if (currentSession()?.userId !== session.userId) return;
  setUsableCoupons(coupons.items.filter((c) => c.status === 'ISSUED'));
  fill(
    'account',
    h('p', {}, 'Points: ', h('strong', { 'data-testid': 'points' }, won(points.balance))),
    h('h3', {}, 'Coupons'),
    coupons.items.length
      ? h(
          'ul',
          { 'data-testid': 'my-coupons' },
          ...coupons.items.map((c) => h('li', {}, `${c.name} `, h('small', {}, c.status.toLowerCase()))),
        )
      : h('p', { class: 'muted' }, 'No coupons yet.'),
    h('h3', {}, 'Orders'),
    orders.items.length
      ? h(
          'table',
          { class: 'orders', 'data-testid': 'my-orders' },
          ...orders.items
            .slice(0, 10)
            .map((o) =>
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
                  h(
                    'button',
                    { type: 'button', class: 'link', onclick: () => followOrder(o.orderId) },
                    'view',
                  ),
                ),
              ),
            ),
        )
      : h('p', { class: 'muted' }, 'No orders yet.'),
  );
}

export function startAccount(): void {
  every(5000, refreshAccount);
}
