import { ApiProblem, api } from './api.ts';
import { every, fill, h } from './dom.ts';
import { currentSession } from './session.ts';
import { followStream } from './sse.ts';
import { type CouponRequestStatus, countdown, REJECT_WORDS, REQUEST_WORDS, won } from './words.ts';

interface ListedCoupon {
  id: string;
  name: string;
  discountType: 'FIXED' | 'PERCENT';
  discountValue: number;
  quota: number;
  issued: number;
  minOrderAmount: number;
  startsAt: string;
  endsAt: string;
}

interface CouponRequest {
  requestId: string;
  status: CouponRequestStatus;
  reason: string | null;
}

interface Card {
  coupon: ListedCoupon;
  element: HTMLElement;
  clock: HTMLElement;
  seats: HTMLElement;
  button: HTMLButtonElement;
  request: HTMLElement;
}

/** The newest drops shown (the API lists up to 20). */
const SHOWN = 6;
const FLOW: CouponRequestStatus[] = ['QUEUED', 'PROCESSING', 'COMPLETED'];
const granted = new Set<() => void>();

/** Called when one of the person's requests ends COMPLETED (to show the coupon in the wallet). */
export function onCouponGranted(listener: () => void): void {
  granted.add(listener);
}

/** The request's live state, as the three steps of the seed's design: QUEUED → PROCESSING → COMPLETED. */
function renderRequest(box: HTMLElement, request: CouponRequest): void {
  const reached = request.status === 'REJECTED' ? -1 : FLOW.indexOf(request.status);
  box.dataset.status = request.status;
  box.replaceChildren(
    h(
      'ol',
      { class: 'request-flow' },
      ...FLOW.map((s, i) => h('li', { class: i < reached ? 'passed' : i === reached ? 'current' : '' }, s)),
    ),
    h(
      'p',
      { 'data-testid': 'request-status' },
      request.status === 'REJECTED'
        ? `${REQUEST_WORDS.REJECTED}: ${REJECT_WORDS[request.reason ?? ''] ?? request.reason}`
        : REQUEST_WORDS[request.status],
    ),
  );
}

async function ask(card: Card): Promise<void> {
  const session = currentSession();
  if (!session) return;
  card.button.disabled = true;
  try {
    const answer = await api<CouponRequest>('POST', `/coupons/${card.coupon.id}/issue`, {
      body: { userId: session.userId },
    });
    renderRequest(card.request, { ...answer, reason: null });
    followStream<CouponRequest>(
      `/coupon-requests/${answer.requestId}/events`,
      (state) => {
        renderRequest(card.request, state);
        if (state.status === 'COMPLETED') for (const listener of granted) listener();
      },
      (state) => state.status === 'COMPLETED' || state.status === 'REJECTED',
    );
  } catch (err) {
    card.button.disabled = false;
    card.request.textContent = err instanceof ApiProblem ? err.message : String(err);
  }
}

const discountText = (c: ListedCoupon) =>
  c.discountType === 'FIXED' ? `${won(c.discountValue)} off` : `${c.discountValue}% off`;

/**
 * The coupons open or coming: a countdown to each drop, the seats taken (read
 * every second, so a person watches the quota run out) and, once asked for,
 * the request's live state over SSE.
 */
export function startCoupons(): void {
  const cards = new Map<string, Card>();
  const none = h('p', { class: 'muted' }, 'No coupon drop right now.');
  const list = h('div', { class: 'coupon-list' }, none);
  const admin = h('div', { class: 'admin-drop' });
  fill('coupons', list, admin);

  const tick = () => {
    const now = new Date();
    const signedIn = Boolean(currentSession());
    for (const card of cards.values()) {
      const opens = new Date(card.coupon.startsAt);
      const soldOut = card.coupon.issued >= card.coupon.quota;
      card.clock.textContent =
        opens > now ? `opens in ${countdown(opens, now)}` : soldOut ? 'sold out' : 'open now';
      card.clock.dataset.open = String(opens <= now);
      card.clock.dataset.soldOut = String(soldOut);
      // One request per coupon from this page: once asked, the card follows that request.
      card.button.disabled = !signedIn || opens > now || soldOut || Boolean(card.request.dataset.status);
    }
    renderAdmin(admin);
  };

  every(1000, async () => {
    const { items } = await api<{ items: ListedCoupon[] }>('GET', '/coupons');
    const shown = items.slice(0, SHOWN);
    // A coupon pushed out by newer ones leaves, unless the person asked for it here.
    for (const [id, card] of cards) {
      if (!card.request.dataset.status && !shown.some((c) => c.id === id)) {
        card.element.remove();
        cards.delete(id);
      }
    }
    for (const coupon of shown.reverse()) {
      let card = cards.get(coupon.id);
      if (!card) {
        const clock = h('span', { class: 'clock', 'data-testid': 'countdown' });
        const seats = h('span', { class: 'seats', 'data-testid': 'seats' });
        const request = h('div', { class: 'request' });
        const button = h('button', { type: 'button' }, 'Get it');
        const el = h(
          'article',
          { class: 'coupon', 'data-coupon': coupon.name },
          h('h3', {}, coupon.name),
          h(
            'p',
            {},
            `${discountText(coupon)}`,
            coupon.minOrderAmount ? ` on orders from ${won(coupon.minOrderAmount)}` : '',
          ),
          h('p', {}, clock, ' · ', seats),
          button,
          request,
        );
        card = { coupon, element: el, clock, seats, button, request };
        const created = card;
        button.addEventListener('click', () => void ask(created));
        cards.set(coupon.id, card);
        list.prepend(el);
      }
      card.coupon = coupon;
      card.seats.textContent = `${Math.min(coupon.issued, coupon.quota)} of ${coupon.quota} taken`;
    }
    none.hidden = cards.size > 0;
    tick();
  });
  setInterval(tick, 250);
}

/** An admin schedules a drop from here: a coupon with a quota that opens in N seconds. */
function renderAdmin(box: HTMLElement): void {
  const session = currentSession();
  if (session?.role !== 'admin') {
    box.replaceChildren();
    return;
  }
  if (box.childElementCount > 0) return;
  const quota = h('input', { name: 'quota', type: 'number', min: 1, value: 20 });
  const startsIn = h('input', { name: 'startsIn', type: 'number', min: 0, value: 30 });
  const note = h('span', { class: 'muted' });
  box.append(
    h(
      'form',
      {
        class: 'drop-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const startsAt = new Date(Date.now() + Number(startsIn.value) * 1000);
          try {
            await api('POST', '/coupons', {
              body: {
                name: `Drop ${startsAt.toISOString().slice(11, 19)} UTC`,
                discountType: 'FIXED',
                discountValue: 5000,
                quota: Number(quota.value),
                minOrderAmount: 10_000,
                startsAt: startsAt.toISOString(),
                endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString(),
              },
            });
            note.textContent = 'Scheduled. Fire a crowd at it with: npm run demo:drop';
          } catch (err) {
            note.textContent = (err as Error).message;
          }
        },
      },
      h('strong', {}, 'Admin: schedule a drop '),
      h('label', {}, 'quota ', quota),
      h('label', {}, ' opens in (s) ', startsIn),
      h('button', { type: 'submit' }, 'Schedule'),
      note,
    ),
  );
}
