import { fill, h } from './dom.ts';
import { followStream } from './sse.ts';
import { billInWords, failureInWords, type Order, STATE_WORDS, stepLabel } from './words.ts';

const HEADLINES: Record<Order['status'], string> = {
  PENDING: 'Order received! Processing…',
  COMPLETED: 'Payment complete! Your order is confirmed.',
  FAILED: 'Your order could not be completed',
  NEEDS_ATTENTION: 'Your order could not be completed',
};

let following: { stop: () => void } | undefined;
const ended = new Set<(order: Order) => void>();

/** Called when an order the page follows ends (to refresh points, coupons, orders). */
export function onOrderEnded(listener: (order: Order) => void): void {
  ended.add(listener);
}

/** The saga's progress: one segment per step, in order, with its state; then the outcome. */
function renderOrder(order: Order): void {
  const reason = failureInWords(order);
  fill(
    'order',
    h(
      'p',
      {
        class: `headline status-${order.status}`,
        'data-testid': 'order-status',
        'data-status': order.status,
        'data-order': order.orderId,
      },
      HEADLINES[order.status],
    ),
    h(
      'ol',
      { class: 'progress', 'aria-label': 'order progress' },
      ...order.steps.map((s) =>
        h(
          'li',
          {
            class: `step state-${s.state}`,
            'data-step': s.step,
            'data-state': s.state,
            title: s.detail ?? '',
          },
          h('span', { class: 'label' }, stepLabel(s)),
          h(
            'span',
            { class: 'state' },
            STATE_WORDS[s.state] + (s.attempts > 1 ? ` (try ${s.attempts})` : ''),
          ),
        ),
      ),
    ),
    reason && h('p', { class: 'reason', 'data-testid': 'order-reason', role: 'alert' }, reason),
    h('p', { class: 'amounts' }, billInWords(order)),
    h('p', { class: 'muted' }, `Order ${order.orderId}`),
  );
}

/** Shows an order and follows its stream until it ends. */
export function followOrder(orderId: string): void {
  following?.stop();
  fill('order', h('p', { class: 'muted' }, 'Connecting…'));
  following = followStream<Order>(
    `/orders/${orderId}/events`,
    (order) => {
      renderOrder(order);
      if (order.status !== 'PENDING') for (const listener of ended) listener(order);
    },
    (order) => order.status !== 'PENDING',
    (status) => fill('order', h('p', { class: 'error' }, `This order cannot be shown (${status}).`)),
  );
}
