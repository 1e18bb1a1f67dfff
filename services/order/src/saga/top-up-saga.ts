import type { DaprWorkflowClient } from '@dapr/dapr';
import { currentTraceparent, type EntityManager } from '@shop/platform';
import { pendingTopUps, type TopUpView } from '../top-ups/top-ups.ts';
import { type SagaFaults, withFaults } from './faults.ts';
import { TOP_UP_WORKFLOW, type TopUpInput } from './top-up.workflow.ts';

/** Starts a top-up's workflow: one instance per top-up, its id the top-up's id. */
export class TopUpSaga {
  private readonly client: DaprWorkflowClient;

  constructor(client: DaprWorkflowClient) {
    this.client = client;
  }

  /**
   * Idempotent: for a repeated POST (`repeat`) an ended top-up (its instance may
   * be purged already), or an instance that exists, is left alone.
   */
  async start(topUp: TopUpView, options: { repeat: boolean; faults?: SagaFaults }): Promise<void> {
    if (options.repeat && topUp.status !== 'PENDING') return;
    if (options.repeat && (await this.client.getWorkflowState(topUp.topUpId, false).catch(() => undefined)))
      return;
    const input: TopUpInput = {
      topUpId: topUp.topUpId,
      userId: topUp.userId,
      amount: topUp.amount,
      traceparent: currentTraceparent(),
    };
    try {
      await this.client.scheduleNewWorkflow(
        TOP_UP_WORKFLOW,
        withFaults(input, options.faults),
        topUp.topUpId,
      );
    } catch (err) {
      // Two requests for one top-up at once: the other one started it.
      if (!/ALREADY_EXISTS/.test((err as Error).message)) throw err;
    }
  }

  /**
   * The reconciler's pass over top-ups: schedules the PENDING ones whose
   * workflow was never scheduled (the service died between the commit and
   * the schedule). Nothing was paid for them yet. Returns their ids.
   */
  async scheduleMissing(em: EntityManager, olderThanMs: number): Promise<string[]> {
    const scheduled: string[] = [];
    for (const topUp of await pendingTopUps(em, olderThanMs, 100)) {
      if (await this.client.getWorkflowState(topUp.topUpId, false)) continue;
      await this.start(topUp, { repeat: false });
      scheduled.push(topUp.topUpId);
    }
    return scheduled;
  }
}
