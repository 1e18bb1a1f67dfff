import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A stand-in for a card gateway. It never fails on its own; tests and local
 * runs ask for a failure per request (see `parseFault`), and only when the
 * service runs with FAKE_GATEWAY_FAULTS=true.
 */
export type GatewayFault =
  | { kind: 'fail' }
  | { kind: 'fail-capture' }
  | { kind: 'timeout' }
  | { kind: 'no-answer' }
  | { kind: 'slow'; ms: number };

export const FAULT_HEADER = 'x-fake-gateway';

const FAULTS = ['fail', 'fail-capture', 'timeout', 'no-answer'] as const;

/**
 * `fail` (authorisation declined), `fail-capture`, `timeout` (the answer comes
 * too late), `no-answer` (authorised, but the answer is lost) or `slow:<ms>`;
 * anything else means no fault.
 */
export function parseFault(value: string | undefined): GatewayFault | undefined {
  const kind = FAULTS.find((f) => f === value);
  if (kind) return { kind };
  const slow = /^slow:(\d{1,6})$/.exec(value ?? '');
  return slow ? { kind: 'slow', ms: Number(slow[1]) } : undefined;
}

/**
 * What the gateway answered, by code: `declined` (the issuer refused),
 * `voided` (the order's authorisation was voided), `capture-refused`, or
 * `no-answer` (the request may have been taken: ask again, it is idempotent).
 */
export type GatewayErrorCode = 'declined' | 'voided' | 'capture-refused' | 'no-answer';

/** A gateway refusal or failure; callers branch on `code`, never on the wording. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;

  constructor(code: GatewayErrorCode, message: string) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
  }
}

export interface GatewayOptions {
  /** How long a `timeout` fault holds the answer back: longer than any caller waits. */
  timeoutMs: number;
}

interface Authorization {
  id: string;
  state: 'AUTHORIZED' | 'DECLINED' | 'CAPTURED' | 'VOIDED';
}

/**
 * Idempotent per order id, as real gateways are per idempotency key: asking
 * again for an order answers the first outcome and charges nothing more. It
 * keeps that in memory, so per process (it is a fake).
 */
export class FakeGateway {
  private readonly options: GatewayOptions;
  private readonly authorizations = new Map<string, Authorization>();

  constructor(options: GatewayOptions) {
    this.options = options;
  }

  /** Authorises the order's amount once; resolves to the authorisation id. */
  async authorize(orderId: string, fault: GatewayFault | undefined): Promise<string> {
    if (fault?.kind === 'slow') await sleep(fault.ms);
    let auth = this.authorizations.get(orderId);
    if (!auth) {
      auth = { id: randomUUID(), state: fault?.kind === 'fail' ? 'DECLINED' : 'AUTHORIZED' };
      this.authorizations.set(orderId, auth);
      if (fault?.kind === 'no-answer')
        throw new GatewayError(
          'no-answer',
          'the gateway took the request but its answer was lost (simulated)',
        );
    }
    if (auth.state === 'DECLINED')
      throw new GatewayError('declined', 'card declined by the issuer (simulated)');
    if (auth.state === 'VOIDED')
      throw new GatewayError('voided', 'the authorisation of this order was voided');
    return auth.id;
  }

  /** Captures an authorised payment. */
  async capture(orderId: string, fault: GatewayFault | undefined): Promise<void> {
    if (fault?.kind === 'fail-capture')
      throw new GatewayError('capture-refused', 'capture refused by the acquirer (simulated)');
    const auth = this.authorizations.get(orderId);
    if (auth?.state === 'VOIDED')
      throw new GatewayError('capture-refused', 'the authorisation of this order was voided');
    if (auth) auth.state = 'CAPTURED';
  }

  /**
   * Voids the order's authorisation, also one not made yet, so that a late
   * authorisation is refused. A captured payment is left as it is (a refund
   * is another operation; the payment service refuses to cancel it).
   */
  async void(orderId: string): Promise<void> {
    const auth = this.authorizations.get(orderId);
    if (auth?.state === 'CAPTURED') return;
    this.authorizations.set(orderId, { id: auth?.id ?? randomUUID(), state: 'VOIDED' });
  }

  /**
   * For a `timeout` fault the payment has been made, but the answer comes too
   * late: the caller's request times out and it must ask for the state.
   */
  async holdAnswer(fault: GatewayFault | undefined): Promise<void> {
    if (fault?.kind === 'timeout') await sleep(this.options.timeoutMs);
  }
}
