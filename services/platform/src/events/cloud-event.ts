import { v7 } from 'uuid';

/**
 * What a service publishes: a CloudEvent whose data carries ids, not whole
 * objects (consumers read what they need). `subject` is the aggregate id and
 * the Kafka partition key, so one aggregate's events stay in order.
 */
export interface DomainEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  source: string;
  subject: string;
  topic: string;
  time: string;
  data: T;
  /**
   * The trace the event was written in (W3C), kept with it in the outbox so
   * that its publish, and through Dapr its consumers, join that trace.
   */
  traceparent?: string;
}

/** What a subscriber receives from Dapr: a CloudEvent envelope. */
export interface ReceivedEvent<T = unknown> {
  id: string;
  type: string;
  source: string;
  subject?: string;
  topic?: string;
  time?: string;
  data: T;
  traceparent?: string;
}

/**
 * UUID v7 (RFC 9562): time-ordered, so outbox rows and event ids sort by
 * creation; `uuid` keeps the ids of one millisecond in order with a counter.
 */
export const uuidv7 = (): string => v7();

export function newEvent<T extends Record<string, unknown>>(fields: {
  topic: string;
  type: string;
  source: string;
  subject: string;
  data: T;
}): DomainEvent<T> {
  return { id: uuidv7(), time: new Date().toISOString(), ...fields };
}
