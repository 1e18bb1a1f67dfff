import { defineCounter, defineScrapedGauge, type EntityManager } from '@shop/platform';
import { countByStatus } from './order.repository.ts';

/**
 * The saga's progress as Prometheus sees it: every step state recorded
 * (`running` is a step started, once per attempt; `failed`, `compensating`,
 * `compensated`, `done`, `skipped`), every order ended, and the orders by
 * status read at scrape time (`NEEDS_ATTENTION` is the one to alert on).
 */
export const sagaStepStates = defineCounter({
  name: 'saga_step_states_total',
  help: 'Saga step states recorded, by step and state (running = a step started, once per attempt).',
  labelNames: ['step', 'state'] as const,
});

export const ordersEnded = defineCounter({
  name: 'orders_ended_total',
  help: 'Orders that reached an ending, by status (COMPLETED, FAILED, NEEDS_ATTENTION).',
  labelNames: ['status'] as const,
});

const STATUSES = ['PENDING', 'COMPLETED', 'FAILED', 'NEEDS_ATTENTION'];

/** One query per scrape over the orders table (a count per status). */
export function defineOrderGauges(em: EntityManager): void {
  defineScrapedGauge({
    name: 'orders',
    help: 'Orders by status, read at scrape time.',
    labelNames: ['status'],
    always: STATUSES.map((status) => ({ status })),
    read: async () =>
      (await countByStatus(em)).map((r) => ({ labels: { status: r.status }, value: r.count })),
  });
}
