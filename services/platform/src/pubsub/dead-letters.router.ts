import type { InferEntity } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { DeadLetterEntity } from '../db/platform.entities.ts';
import { BusinessRuleError, NotFoundError } from '../errors/app-error.ts';
import { Routes } from '../http/routes.ts';
import type { DeliverEvent } from './subscriptions.ts';

const present = (row: InferEntity<typeof DeadLetterEntity>) => ({
  id: row.id,
  topic: row.topic,
  eventId: row.eventId,
  eventType: row.eventType ?? null,
  event: row.event,
  receivedAt: row.receivedAt.toISOString(),
  redrivenAt: row.redrivenAt?.toISOString() ?? null,
});

const listQuery = z.object({ pending: z.stringbool().optional() });
const idParams = z.object({ id: z.uuid() });

/** The re-driven dead letter still fails: it stays pending, with the handler's reason. */
class RedriveFailedError extends BusinessRuleError {
  constructor(id: string, status: string, reason: string | undefined) {
    super('redrive-failed', 'The dead letter still fails', `Dead letter ${id}: ${reason ?? status}.`, {
      outcome: status,
    });
  }
}

/**
 * Operator endpoints for the dead letters a service received: list them, and
 * re-drive one once its cause is fixed. A re-drive hands the event to this
 * service's own handlers again, through the inbox (so at most once per
 * consumer); it never publishes it again, so no consumer needs the right to
 * publish to its producer's topic (components/pubsub.yaml's publishingScopes).
 */
export function deadLettersRoutes(em: EntityManager, deliver: DeliverEvent): Routes {
  return new Routes()
    .add(
      {
        method: 'get',
        path: '/ops/dead-letters',
        summary: 'The dead letters this service received (`pending=true`: not re-driven yet)',
        query: listQuery,
        responses: { 200: { description: '`{items}`' } },
      },
      async (ctx, { query }) => {
        const rows = await em.fork().find(DeadLetterEntity, query.pending ? { redrivenAt: null } : {}, {
          orderBy: { receivedAt: 'asc' },
          limit: 500,
        });
        ctx.body = { items: rows.map(present) };
      },
    )
    .add(
      {
        method: 'post',
        path: '/ops/dead-letters/:id/redrive',
        summary:
          'Hands a dead letter to this service’s own handlers again (through the inbox); 409 when it still fails',
        params: idParams,
        responses: { 202: { description: 'The dead letter, re-driven' } },
        problems: [404, 409],
      },
      async (ctx, { params }) => {
        const { id } = params;
        const tx = em.fork();
        const found = await tx.findOne(DeadLetterEntity, id);
        if (!found) throw new NotFoundError('dead letter', id);
        if (!found.redrivenAt) {
          const outcome = await deliver(found.topic, found.event);
          if (outcome.status !== 'SUCCESS') throw new RedriveFailedError(id, outcome.status, outcome.reason);
          // Of two re-drives at once, the first keeps its time (the inbox ran the handlers once).
          await tx.nativeUpdate(DeadLetterEntity, { id, redrivenAt: null }, { redrivenAt: new Date() });
        }
        ctx.status = 202;
        ctx.body = present(await tx.refreshOrFail(found));
      },
    );
}
