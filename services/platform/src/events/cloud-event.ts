import { randomUUID } from 'node:crypto';

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

let lastMs = 0;
let sequence = 0;

/**
 * UUID v7: time-ordered, so outbox rows and event ids sort by creation. Ids
 * made in the same millisecond by this process stay in order through a 12-bit
 * counter in the rand_a field (RFC 9562, section 6.2, method 1).
 */
export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs += 1;
    sequence = 0;
  }
  const bytes = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes.writeUInt16BE(0x7000 | sequence, 6);
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function newEvent<T extends Record<string, unknown>>(fields: {
  topic: string;
  type: string;
  source: string;
  subject: string;
  data: T;
}): DomainEvent<T> {
  return { id: uuidv7(), time: new Date().toISOString(), ...fields };
}
