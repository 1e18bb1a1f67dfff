import { defineScrapedGauge, type EntityManager } from '@shop/platform';
import { countTopUpsByStatus, type TopUpStatus } from './top-ups.ts';

const STATUSES: TopUpStatus[] = ['PENDING', 'COMPLETED', 'FAILED', 'NEEDS_ATTENTION'];

/** Top-ups by status, read at scrape time: `NEEDS_ATTENTION` (paid, points refused) is the one to alert on. */
export function defineTopUpGauges(em: EntityManager): void {
  defineScrapedGauge({
    name: 'top_ups',
    help: 'Top-ups by status, read at scrape time (NEEDS_ATTENTION: paid, and the points refused).',
    labelNames: ['status'],
    always: STATUSES.map((status) => ({ status })),
    read: async () =>
      (await countTopUpsByStatus(em)).map((r) => ({ labels: { status: r.status }, value: r.count })),
  });
}
