/**
 * How many server-sent event streams each user holds open through this
 * gateway replica: a stream holds a connection here and a poll behind it for
 * as long as the client stays, so one user may not hold more than `max`.
 */
export class OpenStreams {
  private readonly open = new Map<string, number>();
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Takes a place for the user's new stream; false when they hold `max` already. */
  take(userId: string): boolean {
    const held = this.open.get(userId) ?? 0;
    if (held >= this.max) return false;
    this.open.set(userId, held + 1);
    return true;
  }

  release(userId: string): void {
    const held = (this.open.get(userId) ?? 1) - 1;
    if (held > 0) this.open.set(userId, held);
    else this.open.delete(userId);
  }
}
