/**
 * Per-key token buckets in memory: each key (a user, or an address for
 * anonymous callers) gets `burst` requests at once and `perSecond` more each
 * second. One gateway replica counts only what it serves, so N replicas let a
 * user through up to N times the rate: the limit protects the services from a
 * runaway client, it is not a quota.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(perSecond: number, burst: number, now: () => number = () => performance.now()) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.now = now;
  }

  /** Takes one token; 0 when allowed, else the seconds until one is there. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      if (this.buckets.size > 10_000) this.forgetFull(now);
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perSecond);
  }

  /** Drops the buckets that have filled up again: they are the same as no bucket. */
  private forgetFull(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
  }
}
