import Router from '@koa/router';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from 'koa';
import type { ZodType, z } from 'zod';
import { platformDb } from '../db/platform.entities.ts';
import { type ReceivedEvent, uuidv7 } from '../events/cloud-event.ts';
import { consumeOnce } from '../inbox/inbox.ts';
import type { Logger } from '../logger.ts';
import { eventsConsumed } from '../observability/metrics.ts';
import { inSpan, SpanKind } from '../observability/tracing.ts';

/** Dapr's pub/sub delivery answers (HTTP 200 with this body). */
export type DeliveryStatus = 'SUCCESS' | 'RETRY' | 'DROP';

export interface EventHandler<S extends ZodType = ZodType, P = unknown> {
  /** The inbox consumer name: unique per handler in a service. */
  consumer: string;
  topic: string;
  eventType: string;
  /** Schema of the event's `data`; an event that does not match is dead-lettered, not retried. */
  data: S;
  /**
   * What the handler must read from elsewhere (another service), read before the
   * inbox transaction opens: no transaction is held across a network call.
   */
  prepare?(data: z.infer<S>, event: ReceivedEvent<z.infer<S>>): Promise<P>;
  handle(tx: EntityManager, data: z.infer<S>, event: ReceivedEvent<z.infer<S>>, prepared: P): Promise<void>;
}

/**
 * Thrown by a handler for an event that can never succeed (it refers to
 * something that does not exist, say): dead-lettered at once, not retried.
 */
export class PermanentEventError extends Error {}

/** Route Dapr posts a topic's events to; declared in components/subscriptions.yaml. */
export const eventRoute = (topic: string): string => `/events/${topic}`;
/**
 * Route Dapr posts this service's dead letters of a topic to: those of its
 * own subscription's dead-letter topic, `<topic>.<consumer app id>.dlq` (see
 * components/subscriptions.yaml), so a service stores only what it failed.
 */
export const deadLetterRoute = (topic: string): string => `/dead-letters/${topic}`;

const isCloudEvent = (body: unknown): body is ReceivedEvent =>
  typeof body === 'object' && body !== null && typeof (body as ReceivedEvent).id === 'string';

/** What a delivery came to, and why when it was not handled. */
export interface DeliveryOutcome {
  status: DeliveryStatus;
  reason?: string;
}

/**
 * Hands one event of a topic to this service's handlers, each through the
 * inbox (a redelivery is a no-op): SUCCESS when every matching handler applied
 * it (or had), DROP for an event that can never succeed, RETRY for a failure
 * that may pass. Used for Dapr's deliveries and for an operator's re-drive of
 * a dead letter (dead-letters.router.ts), which so never publishes anything.
 */
export type DeliverEvent = (topic: string, event: unknown) => Promise<DeliveryOutcome>;

export function eventDelivery(
  em: EntityManager,
  log: Logger,
  handlers: EventHandler[],
  /** Called after a handler committed (it may have written to the outbox). */
  onApplied: () => void = () => undefined,
): { topics: string[]; deliver: DeliverEvent } {
  const byTopic = new Map<string, EventHandler[]>();
  for (const h of handlers) byTopic.set(h.topic, [...(byTopic.get(h.topic) ?? []), h]);

  const deliver: DeliverEvent = async (topic, event) => {
    if (!isCloudEvent(event)) {
      log.warn({ topic }, 'dropping a delivery that is not a CloudEvent');
      return { status: 'DROP', reason: 'not a CloudEvent' };
    }
    const matching = (byTopic.get(topic) ?? []).filter((h) => h.eventType === event.type);
    const eventLog = log.child({ topic, eventId: event.id, eventType: event.type });
    const count = (consumer: string, outcome: 'applied' | 'duplicate' | 'dropped' | 'retry') =>
      eventsConsumed.inc({ topic, type: event.type, consumer, outcome });
    for (const handler of matching) {
      const parsed = handler.data.safeParse(event.data);
      if (!parsed.success) {
        eventLog.warn(
          { issues: parsed.error.issues },
          'event data is invalid; sending it to the dead-letter topic',
        );
        count(handler.consumer, 'dropped');
        return { status: 'DROP', reason: `its data is invalid: ${parsed.error.issues[0]?.message ?? ''}` };
      }
      try {
        const received = event as ReceivedEvent<typeof parsed.data>;
        // The delivery's request span is in the publisher's trace (Dapr carries it in the
        // event); each consumer gets its own span in it.
        const applied = await inSpan(
          `consume ${event.type}`,
          {
            kind: SpanKind.CONSUMER,
            attributes: {
              'messaging.destination.name': topic,
              'event.id': event.id,
              consumer: handler.consumer,
            },
          },
          async () => {
            const prepared = await handler.prepare?.(parsed.data, received);
            return consumeOnce(em, handler.consumer, event.id, (tx) =>
              handler.handle(tx, parsed.data, received, prepared),
            );
          },
        );
        count(handler.consumer, applied ? 'applied' : 'duplicate');
        if (applied) onApplied();
        eventLog.info(
          { consumer: handler.consumer, duplicate: !applied },
          applied ? 'event applied' : 'duplicate event ignored',
        );
      } catch (err) {
        if (err instanceof PermanentEventError) {
          count(handler.consumer, 'dropped');
          eventLog.warn(
            { err, consumer: handler.consumer },
            'event can never be handled; sending it to the dead-letter topic',
          );
          return { status: 'DROP', reason: err.message };
        }
        count(handler.consumer, 'retry');
        eventLog.error({ err, consumer: handler.consumer }, 'event handler failed; asking Dapr to retry');
        return { status: 'RETRY', reason: (err as Error).message };
      }
    }
    return { status: 'SUCCESS' };
  };
  return { topics: [...byTopic.keys()], deliver };
}

/**
 * The consuming side of events: Dapr's deliveries of each topic go to
 * `deliver` (eventDelivery), answered DROP for a message that can never
 * succeed (so Dapr moves it to the dead-letter topic at once) and RETRY for a
 * failure that may pass (Dapr retries per the Resiliency spec, then
 * dead-letters it). The service's own dead letters are stored in
 * `dead_letters` for inspection and re-drive (see dead-letters.router.ts).
 */
export function subscriptionsRouter(
  em: EntityManager,
  log: Logger,
  delivery: { topics: string[]; deliver: DeliverEvent },
): Router {
  const router = new Router();
  const answer = (ctx: Context, status: DeliveryStatus) => {
    ctx.status = 200;
    ctx.body = { status };
  };

  // Subscriptions are declarative (components/); programmatic ones would go here.
  router.get('/dapr/subscribe', (ctx) => {
    ctx.body = [];
  });

  for (const topic of delivery.topics) {
    router.post(eventRoute(topic), async (ctx) => {
      answer(ctx, (await delivery.deliver(topic, (ctx.request as { body?: unknown }).body)).status);
    });

    router.post(deadLetterRoute(topic), async (ctx) => {
      const event = (ctx.request as { body?: unknown }).body;
      if (!isCloudEvent(event)) return answer(ctx, 'SUCCESS');
      await platformDb(em.fork())
        .insertInto('dead_letters')
        .values({ id: uuidv7(), topic, event_id: event.id, event_type: event.type ?? null, event })
        .onConflict((oc) => oc.columns(['topic', 'event_id']).doNothing())
        .execute();
      log.warn({ topic, eventId: event.id, eventType: event.type }, 'dead letter stored');
      answer(ctx, 'SUCCESS');
    });
  }
  return router;
}
