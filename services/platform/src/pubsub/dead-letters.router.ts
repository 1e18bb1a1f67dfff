import Router from '@koa/router';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { BusinessRuleError, NotFoundError } from '../errors/app-error.ts';
import type { ReceivedEvent } from '../events/cloud-event.ts';
import { parseParams, parseQuery } from '../http/validate.ts';
import type { ApiOperation } from '../openapi/api-operation.ts';
import type { DeliverEvent } from './subscriptions.ts';

interface DeadLetterRow {
  id: string;
  topic: string;
  event_id: string;
  event_type: string | null;
  event: ReceivedEvent<Record<string, unknown>>;
  received_at: string;
  redriven_at: string | null;
}

const present = (row: DeadLetterRow) => ({
  id: row.id,
  topic: row.topic,
  eventId: row.event_id,
  eventType: row.event_type,
  event: row.event,
  receivedAt: row.received_at,
  redrivenAt: row.redriven_at,
});

const listQuery = z.object({ pending: z.stringbool().optional() });
const idParams = z.object({ id: z.uuid() });

export const deadLetterOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/ops/dead-letters',
    summary: 'The dead letters this service received (`pending=true`: not re-driven yet)',
    query: listQuery,
    responses: { 200: { description: '`{items}`' } },
  },
  {
    method: 'post',
    path: '/ops/dead-letters/:id/redrive',
    summary:
      'Hands a dead letter to this service’s own handlers again (through the inbox); 409 when it still fails',
    params: idParams,
    responses: { 202: { description: 'The dead letter, re-driven' } },
    problems: [404, 409],
  },
];

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
export function deadLettersRouter(em: EntityManager, deliver: DeliverEvent): Router {
  const router = new Router({ prefix: '/ops/dead-letters' });

  router.get('/', async (ctx) => {
    const query = parseQuery(ctx, listQuery);
    const rows = await em
      .fork()
      .execute<DeadLetterRow[]>(
        `select * from dead_letters ${query.pending ? 'where redriven_at is null' : ''} order by received_at limit 500`,
      );
    ctx.body = { items: rows.map(present) };
  });

  router.post('/:id/redrive', async (ctx) => {
    const { id } = parseParams(ctx, idParams);
    const [found] = await em.fork().execute<DeadLetterRow[]>('select * from dead_letters where id = ?', [id]);
    if (!found) throw new NotFoundError('dead letter', id);
    if (found.redriven_at === null) {
      const outcome = await deliver(found.topic, found.event);
      if (outcome.status !== 'SUCCESS') throw new RedriveFailedError(id, outcome.status, outcome.reason);
      await em
        .fork()
        .execute('update dead_letters set redriven_at = now() where id = ? and redriven_at is null', [id]);
    }
    const [updated] = await em
      .fork()
      .execute<DeadLetterRow[]>('select * from dead_letters where id = ?', [id]);
    ctx.status = 202;
    ctx.body = present(updated!);
  });
  return router;
}
