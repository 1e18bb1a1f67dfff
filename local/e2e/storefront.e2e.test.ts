/**
 * The storefront page in a real browser (Debian's headless Chromium driven by
 * playwright-core) against the whole platform, as a person uses it: sign in,
 * get a coupon and watch the request end COMPLETED, order with it and watch
 * every saga step go done, order more than is in stock and see the
 * compensation and the reason in words, and a drop where a crowd takes the
 * quota. The screenshots in docs/storefront.md are taken here.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { eventually, fireCrowd, gateway, signIn, viaGateway } from '@shop/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ROOT } from '../src/paths.ts';
import { CHROMIUM } from '../src/provision-chromium.ts';

jest.setTimeout(120_000);

const SCREENSHOTS = join(ROOT, 'services', 'storefront', 'screenshots');
const hour = 3_600_000;
const run = randomUUID().slice(0, 6);

let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let admin: { token: string; userId: string };
const customer = { email: `shopper-${run}@example.com`, password: `pw-${randomUUID()}`, userId: '' };

async function newProduct(name: string, stock: number): Promise<string> {
  const res = await viaGateway('POST', '/products', {
    token: admin.token,
    body: { name, price: 20_000, stock },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function newCoupon(
  name: string,
  quota: number,
  startsAt = new Date(Date.now() - hour),
): Promise<string> {
  const res = await viaGateway('POST', '/coupons', {
    token: admin.token,
    body: {
      name,
      discountType: 'FIXED',
      discountValue: 5000,
      quota,
      minOrderAmount: 10_000,
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 2 * hour).toISOString(),
    },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

/**
 * Presses "Get it" on a coupon's card until the request is taken: a new
 * customer is known to the coupon service once it heard of them over Kafka,
 * and until then the card shows the 422 and offers the button again.
 */
async function getCoupon(name: string): Promise<void> {
  const card = page.locator(`article[data-coupon="${name}"]`);
  await eventually(
    `the request for ${name} to be taken`,
    async () => {
      const button = card.getByRole('button', { name: 'Get it' });
      if (await button.isEnabled()) await button.click();
      await page.waitForTimeout(300);
      return (await card.locator('.request[data-status]').count()) > 0;
    },
    30_000,
  );
}

/** Records every state of the progress bar the page draws, in order (a MutationObserver in the page). */
async function watchProgress(): Promise<void> {
  await page.evaluate(`(() => {
    window.__progress = [];
    const order = document.querySelector('#order');
    new MutationObserver(() => {
      const now = [...order.querySelectorAll('[data-step]')]
        .map((e) => e.dataset.step + ':' + e.dataset.state).join(' ');
      if (now && window.__progress.at(-1) !== now) window.__progress.push(now);
    }).observe(order, { childList: true, subtree: true, attributes: true });
  })()`);
}

const progressSeen = async () =>
  ((await page.evaluate('window.__progress')) as string[]).map(
    (snapshot) => Object.fromEntries(snapshot.split(' ').map((s) => s.split(':'))) as Record<string, string>,
  );

/** Places the cart's order; answers the status element of that order once it has ended. */
async function placeOrder(productName: string, quantity: number, couponName: string) {
  await page
    .locator(`tr[data-product="${productName}"]`)
    .getByRole('button', { name: 'Add to cart' })
    .click();
  await page.getByLabel(`quantity of ${productName}`).fill(String(quantity));
  await page.getByLabel(`quantity of ${productName}`).blur();
  // The cart is the product service's: its answer shows the new quantity's price.
  await page
    .locator(`li[data-line="${productName}"] [data-testid="line-total"]`, {
      hasText: `₩${(20_000 * quantity).toLocaleString('en-US')}`,
    })
    .waitFor();
  // The account's coupons are read every few seconds: wait until the new one is offered.
  const coupon = page.locator('select[name="coupon"]');
  await coupon.locator('option', { hasText: couponName }).waitFor({ state: 'attached', timeout: 15_000 });
  await coupon.selectOption({ label: couponName });
  const shown = page.locator('[data-testid="order-status"]');
  const before = (await shown.count()) > 0 ? await shown.getAttribute('data-order') : null;
  await watchProgress();
  await page.getByRole('button', { name: 'Place order' }).click();
  // The panel shows the new order (not the one before) once its saga has ended.
  const ended = `[data-testid="order-status"]:not([data-status="PENDING"])${before ? `:not([data-order="${before}"])` : ''}`;
  return page.waitForSelector(ended, { timeout: 60_000 });
}

beforeAll(async () => {
  admin = await signIn('admin@example.com', 'admin-demo-pass');
  const created = await viaGateway('POST', '/users', {
    body: { email: customer.email, name: 'Shopper', password: customer.password },
  });
  expect(created.status).toBe(202);
  customer.userId = (await signIn(customer.email, customer.password)).userId;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
});
afterAll(async () => {
  await browser?.close();
});

describe('the storefront in a browser', () => {
  test('When a customer opens the page and signs in, then it shows who they are, the products with their stock and the account', async () => {
    const productName = `Lamp ${run}`;
    await newProduct(productName, 7);
    await page.goto(`${gateway.appUrl}/`);
    await page.fill('input[name="email"]', customer.email);
    await page.fill('input[name="password"]', customer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('signed-in').textContent()).resolves.toContain(customer.email);
    await page.waitForSelector(`tr[data-product="${productName}"]`);
    expect(await page.locator(`tr[data-product="${productName}"] [data-testid="stock"]`).textContent()).toBe(
      '7',
    );
    await page.waitForSelector('[data-testid="points"]');
    expect(await page.getByTestId('points').textContent()).toBe('₩0');
  });

  test('When they buy points, then the top-up is listed and the points come once it is paid', async () => {
    await page.fill('input[name="top-up"]', '12000');
    await page.getByRole('button', { name: 'Buy points' }).click();
    await page.getByTestId('top-up-message').getByText(/^Paid/).waitFor({ timeout: 15_000 });
    await page
      .locator('[data-testid="my-top-ups"] tr', { hasText: '₩12,000 of points' })
      .locator('.status-COMPLETED')
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('points').getByText('₩12,000').waitFor({ timeout: 15_000 });
  });

  test('When they get a coupon, then the request is shown live until COMPLETED and the coupon is in their wallet', async () => {
    const name = `Welcome ${run}`;
    await newCoupon(name, 5);
    await page.waitForSelector(`article[data-coupon="${name}"]`);
    await getCoupon(name);
    const card = page.locator(`article[data-coupon="${name}"]`);
    await card.locator('.request[data-status="COMPLETED"]').waitFor({ timeout: 30_000 });
    expect(await card.getByTestId('request-status').textContent()).toBe(
      'Yours! The coupon is in your wallet',
    );
    await page.locator('[data-testid="my-coupons"] li', { hasText: name }).waitFor({ timeout: 15_000 });
    await card.screenshot({ path: join(SCREENSHOTS, 'coupon-completed.png') });
  });

  test('When they order with it, then every saga step is shown going done, live, and the order completes', async () => {
    const productName = `Keyboard ${run}`;
    await newProduct(productName, 5);
    await page.waitForSelector(`tr[data-product="${productName}"]`);
    const status = await placeOrder(productName, 1, `Welcome ${run}`);
    expect(await status.getAttribute('data-status')).toBe('COMPLETED');
    const seen = await progressSeen();
    // The page showed the saga under way before it ended, and every step it needed done at the end.
    expect(seen.length).toBeGreaterThan(1);
    expect(Object.values(seen[0]!).some((s) => s === 'pending' || s === 'running')).toBe(true);
    expect(seen.at(-1)).toEqual({
      useCoupon: 'done',
      applyCoupon: 'done',
      deductStock: 'done',
      startPayment: 'done',
      deductPoints: 'skipped',
      completePayment: 'done',
      completeOrder: 'done',
    });
    expect(await page.locator('#order .amounts').textContent()).toContain('coupon −₩5,000, paid ₩15,000');
    await page.locator(`tr[data-product="${productName}"] [data-testid="stock"]`).getByText('4').waitFor();
    await page.locator('#order').screenshot({ path: join(SCREENSHOTS, 'order-completed.png') });
    // The completed order empties the cart it was placed from (the product service, on OrderCompleted).
    await page.getByTestId('cart-empty').waitFor({ timeout: 15_000 });
  });

  test('When they order more than is in stock, then the coupon is given back and the page says why in words', async () => {
    const productName = `Last chair ${run}`;
    await newProduct(productName, 1);
    const couponName = `Second chance ${run}`;
    await newCoupon(couponName, 5);
    await page.waitForSelector(`article[data-coupon="${couponName}"]`);
    await getCoupon(couponName);
    await page
      .locator(`article[data-coupon="${couponName}"] .request[data-status="COMPLETED"]`)
      .waitFor({ timeout: 30_000 });
    await page.waitForSelector(`tr[data-product="${productName}"]`);
    const status = await placeOrder(productName, 2, couponName);
    expect(await status.getAttribute('data-status')).toBe('FAILED');
    expect((await progressSeen()).at(-1)).toMatchObject({
      useCoupon: 'compensated',
      applyCoupon: 'compensated',
      deductStock: 'failed',
      startPayment: 'pending',
      completeOrder: 'pending',
    });
    expect(await page.getByTestId('order-reason').textContent()).toBe(
      `Out of stock: ${productName} has 1 left; 2 were asked for. Undone: coupon used, discount applied.`,
    );
    // The coupon is the customer's again, offered at the next checkout.
    await page
      .locator('[data-testid="my-coupons"] li', { hasText: couponName })
      .getByText('issued')
      .waitFor({ timeout: 15_000 });
    await page.locator('#order').screenshot({ path: join(SCREENSHOTS, 'order-out-of-stock.png') });
    // A failed order leaves the cart as it was: past the next reads of it, the line is still there.
    await page.waitForTimeout(4000);
    expect(await page.getByLabel(`quantity of ${productName}`).inputValue()).toBe('2');
  });

  test('When a crowd comes for a drop, then the page counts down, the quota runs out before their eyes, and their own request gets an answer', async () => {
    const quota = 3;
    const couponId = await newCoupon(`Drop ${run}`, quota, new Date(Date.now() + 12_000));
    const card = page.locator(`article[data-coupon="Drop ${run}"]`);
    await card.waitFor();
    expect(await card.getByTestId('countdown').textContent()).toMatch(/^opens in 0:\d\d$/);
    expect(await card.getByRole('button', { name: 'Get it' }).isDisabled()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'storefront.png'), fullPage: true });
    // The crowd signs up while the drop counts down, then all ask the moment the person has
    // (at the opening, the crowd could take every seat before the page's next look at the quota).
    let asked: () => void = () => undefined;
    const crowd = fireCrowd({
      gatewayUrl: gateway.appUrl,
      couponId,
      users: 6,
      fireWhen: new Promise<void>((resolve) => {
        asked = resolve;
      }),
    });
    await card.getByRole('button', { name: 'Get it' }).click({ timeout: 30_000 });
    asked();
    const outcome = await crowd;
    await card.locator('.request[data-status="COMPLETED"], .request[data-status="REJECTED"]').waitFor();
    const mine = await card.locator('.request').getAttribute('data-status');
    expect(outcome.completed + (mine === 'COMPLETED' ? 1 : 0)).toBe(quota);
    if (mine === 'REJECTED') {
      expect(await card.getByTestId('request-status').textContent()).toBe(
        'Not this time: all coupons are gone',
      );
    }
    await card.getByTestId('seats').getByText(`${quota} of ${quota} taken`).waitFor({ timeout: 15_000 });
    expect(await card.getByTestId('countdown').textContent()).toBe('sold out');
    await card.screenshot({ path: join(SCREENSHOTS, 'drop.png') });
  });

  test('When they reload the page or sign in from another browser, then the cart is the same, and a change in one shows in the other', async () => {
    const line = page.locator(`li[data-line="Last chair ${run}"]`);
    await page.reload();
    await line.waitFor({ timeout: 15_000 });
    expect(await page.getByLabel(`quantity of Last chair ${run}`).inputValue()).toBe('2');

    const other = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    try {
      const second = await other.newPage();
      second.on('pageerror', (err) => pageErrors.push(err.message));
      await second.goto(`${gateway.appUrl}/`);
      await second.fill('input[name="email"]', customer.email);
      await second.fill('input[name="password"]', customer.password);
      await second.getByRole('button', { name: 'Sign in' }).click();
      const there = second.locator(`li[data-line="Last chair ${run}"]`);
      await there.waitFor({ timeout: 15_000 });
      expect(await second.getByLabel(`quantity of Last chair ${run}`).inputValue()).toBe('2');
      await there.getByRole('button', { name: 'remove' }).click();
      await second.getByTestId('cart-empty').waitFor();
    } finally {
      await other.close();
    }
    // The first browser reads the cart again within a few seconds.
    await page.getByTestId('cart-empty').waitFor({ timeout: 15_000 });
  });

  test('When the page has done all that, then no script error happened in it', () => {
    expect(pageErrors).toEqual([]);
  });
});
