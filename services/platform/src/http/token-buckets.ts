/**
 * The one rate limiter: per-key token buckets in memory. Each key (a user, or
 * an address for anonymous callers) gets `burst` requests at once and
 * `perSecond` more each second. A replica counts only what it serves, so N
 * replicas let a key through up to N times the rate: the limit protects a
 * service from a runaway client, it is not a quota (the gateway's per user and
 * address, the coupon drop's per user).
 */
export class TokenBuckets {
  /** In the order keys were last seen, least recently first (a Map keeps insertion order). */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly maxKeys: number;

  /**
   * `maxKeys` bounds the table: past it, the least recently seen key is dropped
   * (it starts again with a full burst if it comes back). One drop per new key,
   * never a scan: a client that rotates keys (addresses, accounts) can neither
   * grow the table nor make each request walk it.
   */
  constructor(
    perSecond: number,
    burst: number,
    now: () => number = () => performance.now(),
    maxKeys = 10_000,
  ) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.now = now;
    this.maxKeys = maxKeys;
  }

  /** How many keys are tracked. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token; 0 when allowed, else the seconds until one is there. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    // Moved to the end: the first key is always the least recently seen.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perSecond);
  }
}
