import { WorkflowRuntimeStatus } from '@dapr/dapr';
import { type EntityManager, type Logger, runPeriodically } from '@shop/platform';
import { findOrder, pendingOrders } from '../orders/order.repository.ts';
import type { OrderSaga } from './order-saga.ts';
import type { TopUpSaga } from './top-up-saga.ts';

export interface ReconcilerOptions {
  intervalMs: number;
  /** An order younger than this may still be getting its workflow scheduled by its POST. */
  unscheduledAfterMs: number;
  /** A running workflow whose order has not changed for this long is stalled. */
  stalledAfterMs: number;
}

export interface ReconcilerDeps {
  em: EntityManager;
  saga: OrderSaga;
  topUps: TopUpSaga;
  log: Logger;
}

export type ReconcileAction = 'scheduled' | 'restarted' | 'terminated-stalled';

export interface ReconcilerStats {
  runs: number;
  lastRunAt: string | null;
  lastError: string | null;
  actions: Record<ReconcileAction, number>;
  /** Top-ups whose workflow was never scheduled, scheduled by the reconciler. */
  topUpsScheduled: number;
  recent: { orderId: string; action: ReconcileAction; workflow: string; at: string }[];
}

const BATCH = 100;
const RECENT = 50;
const ENDED = new Set([
  WorkflowRuntimeStatus.COMPLETED,
  WorkflowRuntimeStatus.FAILED,
  WorkflowRuntimeStatus.TERMINATED,
]);

/**
 * Drives to an end every order that is not terminal and whose workflow cannot
 * end it: never scheduled (the service died between the commit and the
 * schedule), ended without ending the order (failed or terminated), or stalled.
 * The remedy is the same for all: a fresh instance of the saga, under a new
 * id (the order records which instance drives it). Every step and
 * compensation is idempotent by order id and a compensation leaves a
 * tombstone, so the new run replays what was done, goes forward after a
 * capture, and fails what was undone. A stalled instance is terminated first;
 * the next pass runs it again. Several replicas may run this at once: the
 * hand-over to a new instance is a conditional update that one of them wins,
 * and a first schedule that loses answers ALREADY_EXISTS.
 * Top-ups have the first case only (their workflow ends them on every path):
 * one never scheduled is scheduled.
 */
export class OrderReconciler {
  readonly stats: ReconcilerStats = {
    runs: 0,
    lastRunAt: null,
    lastError: null,
    actions: { scheduled: 0, restarted: 0, 'terminated-stalled': 0 },
    topUpsScheduled: 0,
    recent: [],
  };
  private loop: { stop(): Promise<void> } | undefined;

  private readonly deps: ReconcilerDeps;
  private readonly options: ReconcilerOptions;

  constructor(deps: ReconcilerDeps, options: ReconcilerOptions) {
    this.deps = deps;
    this.options = options;
  }

  /** Runs at once (start-up), then every interval. */
  start(): void {
    this.loop = runPeriodically(
      () => this.runOnce(),
      () => this.options.intervalMs,
      (err) => {
        this.stats.lastError = (err as Error).message;
        this.deps.log.warn({ err }, 'order reconciler pass failed; next pass retries');
      },
    );
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One pass over the PENDING orders old enough to have a workflow. */
  async runOnce(): Promise<void> {
    const { em, saga, log } = this.deps;
    for (const row of await pendingOrders(em, this.options.unscheduledAfterMs, BATCH)) {
      const state = await saga.state(row.workflowId);
      // The workflow may have ended the order since the query: read it before acting.
      const order = await findOrder(em, row.id);
      if (order.status !== 'PENDING' || order.workflowId !== row.workflowId) continue;
      let action: ReconcileAction | undefined;
      if (!state) {
        await saga.start(order, { repeat: false, faults: {} });
        action = 'scheduled';
      } else if (ENDED.has(state.runtimeStatus)) {
        if (await saga.restart(em, order)) action = 'restarted';
      } else if (row.idleMs > this.options.stalledAfterMs) {
        await saga.terminate(order, 'stalled; the reconciler runs it again');
        action = 'terminated-stalled';
      }
      if (!action) continue;
      const workflow = state ? WorkflowRuntimeStatus[state.runtimeStatus] : 'missing';
      log.warn({ orderId: order.orderId, instance: order.workflowId, action, workflow }, 'order reconciled');
      this.stats.actions[action]++;
      this.stats.recent.unshift({ orderId: order.orderId, action, workflow, at: new Date().toISOString() });
      this.stats.recent.length = Math.min(this.stats.recent.length, RECENT);
    }
    const topUps = await this.deps.topUps.scheduleMissing(em, this.options.unscheduledAfterMs);
    if (topUps.length > 0) log.warn({ topUps }, 'top-ups reconciled: workflows scheduled');
    this.stats.topUpsScheduled += topUps.length;
    this.stats.runs++;
    this.stats.lastRunAt = new Date().toISOString();
    this.stats.lastError = null;
  }
}
