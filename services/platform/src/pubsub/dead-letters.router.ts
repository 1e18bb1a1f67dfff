import Router from '@koa/router';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { NotFoundError } from '../errors/app-error.ts';
import type { DomainEvent, ReceivedEvent } from '../events/cloud-event.ts';
import { parseParams, parseQuery } from '../http/validate.ts';
import type { ApiOperation } from '../openapi/api-operation.ts';
import { addToOutbox } from '../outbox/outbox.ts';

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
    summary: 'Re-publishes a dead letter through the outbox, with its event id',
    params: idParams,
    responses: { 200: { description: 'The dead letter, re-driven' } },
  },
];

/**
 * Operator endpoints for the dead letters a service received: list them, and
 * re-drive one (it goes back to its topic through the outbox, with its event
 * id, once the cause is fixed).
 */
export function deadLettersRouter(em: EntityManager, onRedriven: () => void): Router {
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
    const row = await em.fork().transactional(async (tx) => {
      const [found] = await tx.execute<DeadLetterRow[]>(
        'select * from dead_letters where id = ? for update',
        [id],
      );
      if (!found) throw new NotFoundError('dead letter', id);
      if (found.redriven_at === null) {
        const e = found.event;
        const event: DomainEvent = {
          id: e.id,
          type: e.type,
          source: e.source,
          subject: e.subject ?? e.id,
          time: e.time ?? new Date().toISOString(),
          topic: found.topic,
          data: e.data,
        };
        await addToOutbox(tx, event);
        await tx.execute('update dead_letters set redriven_at = now() where id = ?', [id]);
      }
      const [updated] = await tx.execute<DeadLetterRow[]>('select * from dead_letters where id = ?', [id]);
      return updated!;
    });
    onRedriven();
    ctx.status = 202;
    ctx.body = present(row);
  });
  return router;
}
