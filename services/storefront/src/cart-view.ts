import { ApiProblem, api } from './api.ts';
import { every, fill, h } from './dom.ts';
import { followOrder } from './order-view.ts';
import { currentSession } from './session.ts';
import { won } from './words.ts';

/** The cart as the product service keeps it (GET /users/:id/cart): the same in every tab and browser. */
interface Cart {
  lines: {
    productId: string;
    name: string;
    unitPrice: number;
    quantity: number;
    lineTotal: number;
    inStock: number;
    problem: 'unavailable' | 'not-enough-stock' | null;
  }[];
  total: number;
}

let cart: Cart | undefined;
/** The user's coupons that can still be used, offered at checkout. */
let usable: { couponId: string; name: string }[] = [];
// What the buyer chose at checkout, kept across redraws (the cart is read again every few seconds).
let chosenCoupon = '';
let chosenPoints = 0;
let message = '';

const cartPath = () => {
  const session = currentSession();
  return session ? `/users/${session.userId}/cart` : undefined;
};

/** Reads the cart again; redraws only when it changed, so that what is being typed stays. */
export async function refreshCart(): Promise<void> {
  const path = cartPath();
  const next = path ? await api<Cart>('GET', path) : undefined;
  if (cartPath() !== path) return;
  if (JSON.stringify(next) === JSON.stringify(cart)) return;
  cart = next;
  renderCart();
}

export function startCart(): void {
  every(3000, refreshCart);
}

/** A change to the cart through the gateway; the answer is the cart as it now is. */
async function change(method: 'POST' | 'PUT' | 'DELETE', suffix: string, body?: unknown): Promise<void> {
  const path = cartPath();
  if (!path) {
    message = 'Sign in first.';
    renderCart();
    return;
  }
  try {
    cart = await api<Cart>(method, `${path}${suffix}`, { body });
    message = '';
  } catch (err) {
    message = err instanceof ApiProblem ? `Not changed: ${err.message}` : String(err);
  }
  renderCart();
}

export function addToCart(product: { id: string }): Promise<void> {
  return change('POST', '/lines', { productId: product.id, quantity: 1 });
}

export function setUsableCoupons(coupons: { couponId: string; name: string }[]): void {
  const before = JSON.stringify(usable);
  usable = coupons;
  if (!usable.some((c) => c.couponId === chosenCoupon)) chosenCoupon = '';
  if (JSON.stringify(usable) !== before) renderCart();
}

/** Orders what the cart holds; the cart empties when the order completes, and stays if it fails. */
async function checkout(): Promise<void> {
  const session = currentSession();
  if (!session) return;
  try {
    const placed = await api<{ orderId: string }>('POST', '/orders', {
      body: {
        userId: session.userId,
        fromCart: true,
        ...(chosenCoupon ? { couponId: chosenCoupon } : {}),
        pointsToUse: chosenPoints,
      },
      // One key per checkout: a double click or a retry places one order, not two.
      headers: { 'idempotency-key': crypto.randomUUID() },
    });
    message = 'Order placed: follow it under “Your order, live”. The cart empties once it completes.';
    chosenCoupon = '';
    chosenPoints = 0;
    followOrder(placed.orderId);
  } catch (err) {
    message = err instanceof ApiProblem ? `Not placed: ${err.message}` : String(err);
  }
  renderCart();
}

const problemWords = (line: Cart['lines'][number]) =>
  line.problem === 'unavailable'
    ? 'no longer on sale'
    : line.problem === 'not-enough-stock'
      ? `only ${line.inStock} left`
      : '';

export function renderCart(): void {
  if (!currentSession()) {
    cart = undefined;
    fill(
      'cart',
      h('p', { class: 'muted' }, 'Sign in to fill your cart.'),
      message && h('p', { class: 'message', role: 'status' }, message),
    );
    return;
  }
  const lines = cart?.lines ?? [];
  const coupon = h(
    'select',
    { name: 'coupon', onchange: (e: Event) => (chosenCoupon = (e.target as HTMLSelectElement).value) },
    h('option', { value: '' }, 'No coupon'),
    ...usable.map((c) => h('option', { value: c.couponId }, c.name)),
  );
  coupon.value = chosenCoupon;
  const points = h('input', {
    name: 'points',
    type: 'number',
    min: 0,
    step: 1000,
    value: chosenPoints,
    onchange: (e: Event) => (chosenPoints = Number((e.target as HTMLInputElement).value) || 0),
  });
  fill(
    'cart',
    lines.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'cart-empty' }, 'Your cart is empty.')
      : h(
          'ul',
          { class: 'lines', 'data-testid': 'cart' },
          ...lines.map((l) =>
            h(
              'li',
              { 'data-line': l.name, ...(l.problem ? { class: 'problem' } : {}) },
              `${l.name} × `,
              h('input', {
                type: 'number',
                min: 1,
                value: l.quantity,
                'aria-label': `quantity of ${l.name}`,
                onchange: (e: Event) =>
                  void change('PUT', `/lines/${l.productId}`, {
                    quantity: Math.max(1, Number((e.target as HTMLInputElement).value) || 1),
                  }),
              }),
              ' ',
              h('span', { 'data-testid': 'line-total' }, won(l.lineTotal)),
              ' ',
              l.problem && h('span', { class: 'error', 'data-testid': 'line-problem' }, problemWords(l)),
              ' ',
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  onclick: () => void change('DELETE', `/lines/${l.productId}`),
                },
                'remove',
              ),
            ),
          ),
        ),
    lines.length > 0 &&
      h(
        'form',
        {
          class: 'checkout',
          onsubmit: (e: Event) => {
            e.preventDefault();
            chosenCoupon = coupon.value;
            chosenPoints = Number(points.value) || 0;
            void checkout();
          },
        },
        h('label', {}, 'Coupon ', coupon),
        h('label', {}, 'Points to use ', points),
        h('p', { class: 'total' }, `Total ${won(cart?.total ?? 0)}`),
        h('button', { type: 'submit' }, 'Place order'),
      ),
    message && h('p', { class: 'message', role: 'status' }, message),
  );
}
