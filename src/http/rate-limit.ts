// A token bucket per client address, for the public webhook routes: relays send a few requests per job, so a
// client far beyond that is a flood or someone guessing secrets, and gets 429 instead of database lookups.
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    /** Requests allowed in a burst. */
    private readonly burst: number,
    /** Tokens added back per second. */
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `cost` tokens for `key`; false when it has too few (the request should be refused). */
  take(key: string, cost = 1): boolean {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    // Full buckets carry no information: forget them so the map stays as small as the set of busy clients.
    if (this.buckets.size > 10_000) for (const [k, v] of this.buckets) if (v.tokens >= this.burst) this.buckets.delete(k);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }
}
