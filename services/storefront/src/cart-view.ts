import { ApiProblem, api } from './api.ts';
import { fill, h } from './dom.ts';
import { followOrder } from './order-view.ts';
import { currentSession } from './session.ts';
import { won } from './words.ts';

interface Line {
  productId: string;
  name: string;
  price: number;
  quantity: number;
}

const lines = new Map<string, Line>();
/** The user's coupons that can still be used, offered at checkout. */
let usable: { couponId: string; name: string }[] = [];
let message = '';

export function addToCart(product: { id: string; name: string; price: number }): void {
  const line = lines.get(product.id);
  if (line) line.quantity++;
  else
    lines.set(product.id, { productId: product.id, name: product.name, price: product.price, quantity: 1 });
  message = '';
  renderCart();
}

export function setUsableCoupons(coupons: { couponId: string; name: string }[]): void {
  const before = JSON.stringify(usable);
  usable = coupons;
  if (JSON.stringify(usable) !== before) renderCart();
}

async function checkout(couponId: string, pointsToUse: number): Promise<void> {
  const session = currentSession();
  if (!session) {
    message = 'Sign in first.';
    renderCart();
    return;
  }
  try {
    const placed = await api<{ orderId: string }>('POST', '/orders', {
      body: {
        userId: session.userId,
        items: [...lines.values()].map((l) => ({ productId: l.productId, quantity: l.quantity })),
        ...(couponId ? { couponId } : {}),
        pointsToUse,
      },
      // One key per checkout: a double click or a retry places one order, not two.
      headers: { 'idempotency-key': crypto.randomUUID() },
    });
    lines.clear();
    message = 'Order placed: follow it under “Your order, live”.';
    followOrder(placed.orderId);
  } catch (err) {
    message = err instanceof ApiProblem ? `Not placed: ${err.message}` : String(err);
  }
  renderCart();
}

export function renderCart(): void {
  const total = [...lines.values()].reduce((sum, l) => sum + l.price * l.quantity, 0);
  const coupon = h(
    'select',
    { name: 'coupon' },
    h('option', { value: '' }, 'No coupon'),
    ...usable.map((c) => h('option', { value: c.couponId }, c.name)),
  );
  const points = h('input', { name: 'points', type: 'number', min: 0, step: 1000, value: 0 });
  fill(
    'cart',
    lines.size === 0
      ? h('p', { class: 'muted' }, 'Your cart is empty.')
      : h(
          'ul',
          { class: 'lines' },
          ...[...lines.values()].map((l) =>
            h(
              'li',
              {},
              `${l.name} × `,
              h('input', {
                type: 'number',
                min: 1,
                value: l.quantity,
                'aria-label': `quantity of ${l.name}`,
                onchange: (e: Event) => {
                  l.quantity = Math.max(1, Number((e.target as HTMLInputElement).value) || 1);
                  renderCart();
                },
              }),
              ` ${won(l.price * l.quantity)} `,
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  onclick: () => {
                    lines.delete(l.productId);
                    renderCart();
                  },
                },
                'remove',
              ),
            ),
          ),
        ),
    lines.size > 0 &&
      h(
        'form',
        {
          class: 'checkout',
          onsubmit: (e: Event) => {
            e.preventDefault();
            void checkout(coupon.value, Number(points.value) || 0);
          },
        },
        h('label', {}, 'Coupon ', coupon),
        h('label', {}, 'Points to use ', points),
        h('p', { class: 'total' }, `Total ${won(total)}`),
        h('button', { type: 'submit' }, 'Place order'),
      ),
    message && h('p', { class: 'message', role: 'status' }, message),
  );
}
