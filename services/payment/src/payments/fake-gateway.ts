/**
 * A stand-in for a card gateway. It never fails on its own; tests and local
 * runs ask for a failure per request (see `parseFault`), and only when the
 * service runs with FAKE_GATEWAY_FAULTS=true.
 */
export type GatewayFault =
  | { kind: 'fail' }
  | { kind: 'fail-capture' }
  | { kind: 'timeout' }
  | { kind: 'slow'; ms: number };

export const FAULT_HEADER = 'x-fake-gateway';

/** `fail` (authorisation declined), `fail-capture`, `timeout` or `slow:<ms>`; anything else means no fault. */
export function parseFault(value: string | undefined): GatewayFault | undefined {
  if (value === 'fail' || value === 'fail-capture' || value === 'timeout') return { kind: value };
  const slow = /^slow:(\d{1,6})$/.exec(value ?? '');
  return slow ? { kind: 'slow', ms: Number(slow[1]) } : undefined;
}

export interface GatewayOptions {
  /** How long a `timeout` fault holds the answer back: longer than any caller waits. */
  timeoutMs: number;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeGateway {
  private readonly options: GatewayOptions;

  constructor(options: GatewayOptions) {
    this.options = options;
  }

  /** Authorises an amount; resolves to a decline reason, or undefined when approved. */
  async authorize(fault: GatewayFault | undefined): Promise<string | undefined> {
    if (fault?.kind === 'slow') await sleep(fault.ms);
    if (fault?.kind === 'fail') return 'card declined by the issuer (simulated)';
    return undefined;
  }

  /** Captures an authorised payment; resolves to a failure reason, or undefined when captured. */
  async capture(fault: GatewayFault | undefined): Promise<string | undefined> {
    return fault?.kind === 'fail-capture' ? 'capture refused by the acquirer (simulated)' : undefined;
  }

  /**
   * For a `timeout` fault the payment has been made, but the answer comes too
   * late: the caller's request times out and it must ask for the state.
   */
  async holdAnswer(fault: GatewayFault | undefined): Promise<void> {
    if (fault?.kind === 'timeout') await sleep(this.options.timeoutMs);
  }
}
