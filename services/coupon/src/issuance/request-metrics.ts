import { defineScrapedGauge, type EntityManager } from '@shop/platform';
import { sql } from 'kysely';
import { db } from '../db/entities.ts';

const STATUSES = ['QUEUED', 'PROCESSING', 'COMPLETED', 'REJECTED'];

/**
 * Coupon issue requests by state (and, for REJECTED, reason), read at scrape
 * time: QUEUED and PROCESSING growing under a spike is the backlog; one query
 * per scrape, a count per state.
 */
export function defineRequestGauges(em: EntityManager): void {
  defineScrapedGauge({
    name: 'coupon_requests',
    help: 'Coupon issue requests by status and rejection reason, read at scrape time.',
    labelNames: ['status', 'reason'],
    always: STATUSES.map((status) => ({ status, reason: '' })),
    read: async () =>
      (
        await db(em.fork())
          .selectFrom('issue_requests')
          .select((eb) => [
            'status',
            eb.fn.coalesce('reason', sql.lit('')).as('reason'),
            eb.fn.countAll<string>().as('n'),
          ])
          .groupBy(['status', 'reason'])
          .execute()
      ).map((r) => ({ labels: { status: r.status, reason: r.reason }, value: Number(r.n) })),
  });
}
