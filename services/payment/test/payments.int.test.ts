import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { problemTypeUri } from '@shop/platform';
import { eventually, type ServiceUnderTest, startServiceUnderTest } from '@shop/platform/testing';
import request from 'supertest';
import { paymentService } from '../src/service.ts';

let svc: ServiceUnderTest;
let http: ReturnType<typeof request>;

beforeAll(async () => {
  svc = await startServiceUnderTest('payment', paymentService, {
    FAKE_GATEWAY_FAULTS: 'true',
    FAKE_GATEWAY_TIMEOUT_MS: '1500',
  });
  http = request(svc.app.callback());
});
afterAll(() => svc.close());

const start = (orderId: string, amount: number, fault?: string) => {
  const req = http.post('/saga/payments/start');
  if (fault) req.set('x-fake-gateway', fault);
  return req.send({ orderId, amount });
};
const events = (orderId: string) =>
  svc.orm.em
    .fork()
    .execute<{ event_type: string }[]>('select event_type from outbox where subject = ? order by id', [
      orderId,
    ]);

describe('startPayment', () => {
  test('When a payment starts twice, then the second call returns the first result', async () => {
    const orderId = randomUUID();
    const first = await start(orderId, 12_000);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ orderId, amount: 12_000, status: 'STARTED' });
    const second = await start(orderId, 12_000);
    expect(second.body).toEqual(first.body);
    expect((await http.get(`/payments/${orderId}`)).body).toEqual(first.body);
  });

  test('When the same order asks for another amount, then it is refused', async () => {
    const orderId = randomUUID();
    await start(orderId, 1000).expect(200);
    const res = await start(orderId, 2000);
    expect(res.status).toBe(409);
    expect(res.body.type).toBe(problemTypeUri('payment-amount-mismatch'));
  });

  test('When the gateway declines, then it is a 409 payment-declined, and stays declined on a retry', async () => {
    const orderId = randomUUID();
    const res = await start(orderId, 5000, 'fail');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: problemTypeUri('payment-declined'), orderId });
    expect((await start(orderId, 5000)).body.type).toBe(problemTypeUri('payment-declined'));
    expect((await http.get(`/payments/${orderId}`)).body.status).toBe('FAILED');
  });

  test('When the gateway answers too late, then the payment is STARTED and can be asked for', async () => {
    const orderId = randomUUID();
    // then() sends the request now (supertest sends on the first then).
    const late = start(orderId, 7000, 'timeout').then((res) => res);
    // The caller gives up well before the answer; the state is already there to ask for.
    await sleep(300);
    expect((await http.get(`/payments/${orderId}`)).body).toMatchObject({ status: 'STARTED' });
    expect((await late).body.status).toBe('STARTED');
  });

  test('When faults are not enabled, then the header is ignored', async () => {
    const plain = await startServiceUnderTest('payment_nofaults', paymentService);
    try {
      const res = await request(plain.app.callback())
        .post('/saga/payments/start')
        .set('x-fake-gateway', 'fail')
        .send({ orderId: randomUUID(), amount: 100 });
      expect(res.body.status).toBe('STARTED');
    } finally {
      await plain.close();
    }
  });
});

/** What a crash right after writing the row leaves behind. */
const leavePending = (orderId: string, amount: number) =>
  svc.orm.em
    .fork()
    .execute(
      "insert into payments (order_id, amount, status, created_at, updated_at) values (?, ?, 'PENDING', now(), now())",
      [orderId, amount],
    );
const statusOf = async (orderId: string) => (await http.get(`/payments/${orderId}`)).body.status;

describe('the PENDING payment, written before the gateway is called', () => {
  test('When the gateway is slow, then the payment is PENDING while it waits, then STARTED', async () => {
    const orderId = randomUUID();
    const slow = start(orderId, 4000, 'slow:1500').then((res) => res);
    await eventually('the PENDING payment', async () => (await statusOf(orderId)) === 'PENDING', 1400);
    expect((await slow).body).toMatchObject({ orderId, amount: 4000, status: 'STARTED' });
    expect(await statusOf(orderId)).toBe('STARTED');
  });

  test("When the gateway's answer is lost, then the payment stays PENDING (503) and a repeated start finishes it", async () => {
    const orderId = randomUUID();
    const lost = await start(orderId, 6000, 'no-answer');
    expect(lost.status).toBe(503);
    expect(lost.body).toMatchObject({ type: problemTypeUri('payment-gateway-unavailable'), orderId });
    expect(await statusOf(orderId)).toBe('PENDING');
    const again = await start(orderId, 6000);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ orderId, amount: 6000, status: 'STARTED' });
    expect((await start(orderId, 6000)).body).toEqual(again.body);
  });

  test('When a start crashed after writing its row, then a repeated start asks the gateway and starts it', async () => {
    const orderId = randomUUID();
    await leavePending(orderId, 2500);
    expect(await statusOf(orderId)).toBe('PENDING');
    const res = await start(orderId, 2500);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orderId, amount: 2500, status: 'STARTED' });
  });

  test('When a PENDING payment is cancelled, then it is voided at the gateway and CANCELLED, and its late authorisation is refused', async () => {
    const orderId = randomUUID();
    const slow = start(orderId, 3000, 'slow:1500').then((res) => res);
    await eventually('the PENDING payment', async () => (await statusOf(orderId)) === 'PENDING', 1400);
    const cancel = await http.post('/saga/payments/cancel').send({ orderId });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ orderId, status: 'CANCELLED' });
    const late = await slow;
    expect(late.status).toBe(409);
    expect(late.body.type).toBe(problemTypeUri('illegal-payment-transition'));
    expect(await statusOf(orderId)).toBe('CANCELLED');
    expect(await events(orderId)).toEqual([{ event_type: 'PaymentCancelled' }]);
  });

  test('When a PENDING payment left by a crash is cancelled, then a repeated start is refused', async () => {
    const orderId = randomUUID();
    await leavePending(orderId, 1500);
    expect((await http.post('/saga/payments/cancel').send({ orderId })).body.status).toBe('CANCELLED');
    expect((await start(orderId, 1500)).status).toBe(409);
    expect(await statusOf(orderId)).toBe('CANCELLED');
  });
});

describe('completePayment and cancelPayment', () => {
  test('When a started payment completes twice, then it is COMPLETED once with one event', async () => {
    const orderId = randomUUID();
    await start(orderId, 3000).expect(200);
    const first = await http.post('/saga/payments/complete').send({ orderId });
    const second = await http.post('/saga/payments/complete').send({ orderId });
    expect(first.body.status).toBe('COMPLETED');
    expect(second.body).toEqual(first.body);
    expect(await events(orderId)).toEqual([{ event_type: 'PaymentCompleted' }]);
  });

  test('When the capture fails, then completion is refused, the payment stays STARTED and can be cancelled', async () => {
    const orderId = randomUUID();
    await start(orderId, 3000).expect(200);
    const res = await http
      .post('/saga/payments/complete')
      .set('x-fake-gateway', 'fail-capture')
      .send({ orderId });
    expect(res.status).toBe(409);
    expect(res.body.type).toBe(problemTypeUri('payment-capture-failed'));
    expect((await http.get(`/payments/${orderId}`)).body.status).toBe('STARTED');
    expect((await http.post('/saga/payments/cancel').send({ orderId })).body.status).toBe('CANCELLED');
  });

  test('When a completed payment is cancelled, then it is refused and stays COMPLETED', async () => {
    const orderId = randomUUID();
    await start(orderId, 3000).expect(200);
    await http.post('/saga/payments/complete').send({ orderId }).expect(200);
    const res = await http.post('/saga/payments/cancel').send({ orderId });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: problemTypeUri('illegal-payment-transition'), status: 409 });
    expect((await http.get(`/payments/${orderId}`)).body.status).toBe('COMPLETED');
  });

  test('When a started payment is cancelled twice, then it is CANCELLED once with one event', async () => {
    const orderId = randomUUID();
    await start(orderId, 3000).expect(200);
    const first = await http.post('/saga/payments/cancel').send({ orderId });
    expect(first.body.status).toBe('CANCELLED');
    expect((await http.post('/saga/payments/cancel').send({ orderId })).body).toEqual(first.body);
    expect(await events(orderId)).toEqual([{ event_type: 'PaymentCancelled' }]);
    expect((await http.post('/saga/payments/complete').send({ orderId })).status).toBe(409);
  });

  test('When an unknown payment is cancelled, then it is recorded CANCELLED and a late start is refused', async () => {
    const orderId = randomUUID();
    const cancel = await http.post('/saga/payments/cancel').send({ orderId });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ status: 'CANCELLED', amount: 0 });
    const late = await start(orderId, 3000);
    expect(late.status).toBe(409);
    expect(late.body.type).toBe(problemTypeUri('illegal-payment-transition'));
  });

  test('When an unknown payment is completed or read, then it is a 404', async () => {
    const orderId = randomUUID();
    expect((await http.post('/saga/payments/complete').send({ orderId })).status).toBe(404);
    expect((await http.get(`/payments/${orderId}`)).body.type).toBe(problemTypeUri('payment-not-found'));
  });

  test('When the input is invalid, then it is a 422 naming the fields', async () => {
    const res = await http.post('/saga/payments/start').send({ orderId: 'x', amount: -1 });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'body.amount',
      'body.orderId',
    ]);
  });
});
