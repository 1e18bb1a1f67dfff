import type { DaprWorkflowClient, WorkflowState } from '@dapr/dapr';
import { currentTraceparent, type EntityManager } from '@shop/platform';
import type { OrderView } from '../orders/order.model.ts';
import { switchWorkflow } from '../orders/order.repository.ts';
import { COMPENSATE_ORDER_WORKFLOW, type CompensateOrderInput } from './compensate-order.workflow.ts';
import { type SagaFaults, withFaults } from './faults.ts';
import { PLACE_ORDER_WORKFLOW, type PlaceOrderInput } from './place-order.workflow.ts';

/** Starts the saga of an order: one workflow instance per order, its id the order id. */
export class OrderSaga {
  private readonly client: DaprWorkflowClient;
  private readonly compensationAttempts: number;

  constructor(client: DaprWorkflowClient, options: { compensationAttempts: number }) {
    this.client = client;
    this.compensationAttempts = options.compensationAttempts;
  }

  /**
   * Idempotent: for a repeated POST (`repeat`) an ended order, or an instance
   * that exists, running or ended, is left alone; one that was never scheduled
   * (the first request died between its commit and here) is scheduled now. The
   * order's status is asked first: an ended saga's instance is purged after the
   * retention (components/config/config.yaml), and must not be run again.
   */
  async start(order: OrderView, options: { repeat: boolean; faults?: SagaFaults }): Promise<void> {
    if (options.repeat && order.status !== 'PENDING') return;
    if (options.repeat && (await this.state(order.workflowId).catch(() => undefined))) return;
    const input: PlaceOrderInput = {
      orderId: order.orderId,
      userId: order.userId,
      items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
      couponId: order.couponId,
      pointsToUse: order.pointsToUse,
      totalAmount: order.totalAmount,
      compensationAttempts: this.compensationAttempts,
      traceparent: currentTraceparent(),
    };
    try {
      await this.client.scheduleNewWorkflow(
        PLACE_ORDER_WORKFLOW,
        withFaults(input, options.faults),
        order.workflowId,
      );
    } catch (err) {
      // Two requests for one order at once: the other one started it.
      if (!/ALREADY_EXISTS/.test((err as Error).message)) throw err;
    }
  }

  /** A saga instance (an order's `workflowId`), or undefined when there is none. */
  state(workflowId: string): Promise<WorkflowState | undefined> {
    return this.client.getWorkflowState(workflowId, false);
  }

  /**
   * A fresh run of an order's saga whose instance ended without ending the
   * order, under a new instance id (`<orderId>.run<n>`). False when another
   * reconciler took the order over first.
   */
  async restart(em: EntityManager, order: OrderView): Promise<boolean> {
    const run = /\.run(\d+)$/.exec(order.workflowId);
    const next = `${order.orderId}.run${run ? Number(run[1]) + 1 : 2}`;
    if (!(await switchWorkflow(em, order.orderId, order.workflowId, next))) return false;
    await this.start({ ...order, workflowId: next }, { repeat: false });
    return true;
  }

  async terminate(order: OrderView, reason: string): Promise<void> {
    await this.client.terminateWorkflow(order.workflowId, { reason });
  }

  async redrive(order: OrderView): Promise<string> {
    const instanceId = `${order.orderId}-redrive-${Date.now()}`;
    const input: CompensateOrderInput = {
      orderId: order.orderId,
      userId: order.userId,
      reason: `${order.failureReason ?? 'failed'} (re-driven)`,
      // The same budget as the saga's own compensations (SAGA_COMPENSATION_ATTEMPTS).
      compensationAttempts: this.compensationAttempts,
      traceparent: currentTraceparent(),
    };
    await this.client.scheduleNewWorkflow(COMPENSATE_ORDER_WORKFLOW, input, instanceId);
    return instanceId;
  }
}
