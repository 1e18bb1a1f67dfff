import { defineScrapedGauge, type EntityManager } from '@shop/platform';

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
        await em
          .fork()
          .execute<{ status: string; reason: string; n: number }[]>(
            "select status, coalesce(reason, '') as reason, count(*)::int as n from issue_requests group by status, reason",
          )
      ).map((r) => ({ labels: { status: r.status, reason: r.reason }, value: r.n })),
  });
}
