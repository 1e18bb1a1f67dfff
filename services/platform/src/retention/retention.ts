import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import { Counter } from 'prom-client';
import type { BaseConfig } from '../config/load-config.ts';
import type { Logger } from '../logger.ts';
import { metricsRegistry } from '../observability/metrics.ts';
import { runPeriodically } from '../timers/periodic.ts';

/**
 * What a service keeps only for a while: a row of `table` goes once its
 * `column` (a timestamp, null while the row is still in use) is older than
 * `keepHours`. Each rule's column needs an index, named `<table>_<column>`
 * (partial: `where <column> is not null`), so that a sweep reads only what it
 * deletes.
 */
export interface RetentionRule {
  table: string;
  column: string;
  keepHours: number;
}

export const retentionDeleted = new Counter({
  name: 'retention_deleted_rows_total',
  help: 'Rows the retention sweep deleted because they were older than their retention, by table.',
  labelNames: ['table'] as const,
  registers: [metricsRegistry],
});

/**
 * The platform's tables (platform.migrations.ts): a consumer's inbox entry,
 * an outbox row once published, a dead letter once re-driven. Never a row
 * still in use: an unpublished event, a dead letter waiting for an operator.
 */
export const platformRetention = (config: BaseConfig): RetentionRule[] => [
  { table: 'inbox', column: 'processed_at', keepHours: config.RETENTION_INBOX_HOURS },
  { table: 'outbox', column: 'published_at', keepHours: config.RETENTION_OUTBOX_HOURS },
  { table: 'dead_letters', column: 'redriven_at', keepHours: config.RETENTION_DEAD_LETTERS_HOURS },
];

/**
 * One pass: each rule's expired rows deleted, `batchSize` at a time (each
 * batch its own short statement, so a large backlog after a long pause
 * neither holds locks long nor bloats one transaction). Several replicas may
 * sweep at once: a row two of them pick is deleted by one. Returns the rows
 * deleted per table.
 */
export async function sweepRetention(
  em: EntityManager,
  rules: RetentionRule[],
  { now = new Date(), batchSize = 1000 }: { now?: Date; batchSize?: number } = {},
): Promise<Record<string, number>> {
  const db = em.fork().getKysely();
  const deleted: Record<string, number> = {};
  for (const { table, column, keepHours } of rules) {
    const cutoff = new Date(now.getTime() - keepHours * 3_600_000);
    deleted[table] = 0;
    for (;;) {
      const { numAffectedRows } = await sql`
        delete from ${sql.table(table)} where ctid = any(array(
          select ctid from ${sql.table(table)} where ${sql.ref(column)} < ${cutoff} limit ${batchSize}
        ))`.execute(db);
      const n = Number(numAffectedRows ?? 0);
      deleted[table] += n;
      retentionDeleted.inc({ table }, n);
      if (n < batchSize) break;
    }
  }
  return deleted;
}

/** The sweep every RETENTION_SWEEP_MS, from the service's start; logs what it deleted. */
export function startRetentionSweeps(
  em: EntityManager,
  rules: RetentionRule[],
  config: Pick<BaseConfig, 'RETENTION_SWEEP_MS'>,
  log: Logger,
): { stop(): Promise<void> } {
  return runPeriodically(
    async () => {
      const deleted = await sweepRetention(em, rules);
      if (Object.values(deleted).some((n) => n > 0)) log.info({ deleted }, 'expired rows deleted');
    },
    () => config.RETENTION_SWEEP_MS,
    (err) => log.warn({ err }, 'retention sweep failed; the next one tries again'),
  );
}
