/**
 * The test faults ride beside the saga, never in it: a workflow scheduled with
 * `faults` runs on its input without them, each activity call carries them with
 * its attempt, and inside that call the sidecar sends the payment fault and
 * completeOrder fails its first attempts. Outside a faulty call, nothing changes.
 */
import type { WorkflowActivityContext } from '@dapr/dapr';
import { describe, expect, test } from '@jest/globals';
import type { DaprSidecar } from '@shop/platform';
import { injectFaults, withFaults } from './faults.ts';
import { placeOrderWorkflow } from './place-order.workflow.ts';
import { sagaActivities, sampleOrder } from './saga-stand-ins.ts';
import { driveWorkflow, failFirst, ok } from './workflow-driver.ts';

const happy = { deductStock: ok(), startPayment: ok({ status: 'STARTED' }) };

function faultySaga() {
  return injectFaults.registration({
    workflows: { placeOrder: placeOrderWorkflow(sagaActivities) },
    activities: {},
  }).workflows.placeOrder;
}

describe('a workflow scheduled with faults', () => {
  test('When an order is scheduled with faults, then every activity call carries them with the number of that call, and the saga decides as without them', async () => {
    const run = await driveWorkflow(
      faultySaga(),
      withFaults(sampleOrder, { paymentFault: 'fail-capture', completeOrderFailures: 2 }),
      { ...happy, captureAndComplete: failFirst(2, ok()) },
    );
    const captures = run.calls.filter((c) => c.name === 'captureAndComplete');
    expect(captures.map((c) => c.arg.faults)).toEqual(
      [1, 2, 3].map((attempt) => ({
        paymentFault: 'fail-capture',
        completeOrderFailures: 2,
        activity: 'captureAndComplete',
        attempt,
      })),
    );
    expect(run.calls.find((c) => c.name === 'startPayment')!.arg).toMatchObject({
      orderId: 'o-1',
      amount: 10_000,
      faults: { activity: 'startPayment', attempt: 1 },
    });
    expect(run.output).toEqual({ orderId: 'o-1', status: 'COMPLETED' });
  });

  test('When an order is scheduled without faults, then its activity calls are exactly the saga own', async () => {
    const plain = await driveWorkflow(placeOrderWorkflow(sagaActivities), sampleOrder, happy);
    const woven = await driveWorkflow(faultySaga(), withFaults(sampleOrder, {}), happy);
    expect(woven.calls).toEqual(plain.calls);
    for (const call of woven.calls) expect(call.arg).not.toHaveProperty('faults');
  });
});

describe('inside an activity call that carries faults', () => {
  const invoked: { appId: string; headers: Record<string, string> | undefined }[] = [];
  const realSidecar = {
    invoke: async (
      appId: string,
      _m: string,
      _h: string,
      _b: unknown,
      call?: { headers?: Record<string, string> },
    ) => {
      invoked.push({ appId, headers: call?.headers });
      return {};
    },
  } as unknown as DaprSidecar;
  const sidecar = injectFaults.sidecar(realSidecar);
  const seen: unknown[] = [];
  /** What captureAndComplete does, in outline: a payment call, then completeOrder as a step. */
  const activity = async (_: WorkflowActivityContext, input: unknown) => {
    seen.push(input);
    await sidecar.invoke('payment', 'saga/payments/complete', 'POST', {});
    await sidecar.invoke('product', 'saga/stock/deduct', 'POST', {});
    injectFaults.beforeStep('completeOrder');
    return 'completed';
  };
  const woven = injectFaults.registration({ workflows: {}, activities: { captureAndComplete: activity } })
    .activities.captureAndComplete!;
  const ctx = {} as WorkflowActivityContext;
  const call = (attempt: number) => ({
    orderId: 'o-1',
    faults: {
      paymentFault: 'fail-capture',
      completeOrderFailures: 2,
      activity: 'captureAndComplete',
      attempt,
    },
  });

  test('When completeOrder runs on an attempt the fault names, then it fails after the payment call; after them it runs', async () => {
    invoked.length = 0;
    await expect(woven(ctx, call(1))).rejects.toThrow(/injected fault: completeOrder/);
    await expect(woven(ctx, call(2))).rejects.toThrow(/injected fault/);
    await expect(woven(ctx, call(3))).resolves.toBe('completed');
    expect(seen.at(-1)).toEqual({ orderId: 'o-1' });
    expect(invoked.filter((i) => i.appId === 'payment')).toHaveLength(3);
  });

  test('When it calls the payment service, then the fake gateway fault goes with it, and with no other service', async () => {
    invoked.length = 0;
    await woven(ctx, call(3));
    expect(invoked).toEqual([
      { appId: 'payment', headers: { 'x-fake-gateway': 'fail-capture' } },
      { appId: 'product', headers: {} },
    ]);
  });

  test('When a call carries no faults, then the sidecar sends no fault header and completeOrder is never failed', async () => {
    invoked.length = 0;
    await expect(woven(ctx, { orderId: 'o-1' })).resolves.toBe('completed');
    expect(invoked.map((i) => i.headers?.['x-fake-gateway'])).toEqual([undefined, undefined]);
    expect(seen.at(-1)).toEqual({ orderId: 'o-1' });
  });
});
