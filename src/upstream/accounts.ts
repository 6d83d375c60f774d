// The relay accounts the bot may use (UPSTREAM_ACCOUNTS, or the single UPSTREAM_* account) and how healthy
// each one is. An account that keeps failing is paused for a while, so its queued jobs go to the others.
import type { AccountConfig, Config } from '../config.ts';
import type { SpeedMode } from '../db/schema.ts';
import type { Capabilities, Provider } from './provider.ts';
import { UpstreamAccountError } from './provider.ts';

export interface Account {
  id: string;
  provider: Provider;
  /** Jobs at the relay at once, across every instance of the bot. */
  concurrency: number;
  /** Share of new jobs when several accounts have room (2 gets twice the jobs of 1). */
  weight: number;
  /** Speed modes served; undefined: every mode. */
  modes?: readonly SpeedMode[];
}

export type AccountState =
  | { state: 'ok'; failures: number }
  | { state: 'paused'; until: Date; reason: UpstreamAccountError['kind'] };

/** Consecutive transient failures (5xx, unreachable, rate limits) before an account is paused. */
export const FAILURE_STREAK = 3;
/** First pause after a streak; doubles on each further streak, up to the maximum. */
const STREAK_PAUSE_MS = 60_000;
const MAX_PAUSE_MS = 15 * 60_000;
/** Bad key or no balance: nothing changes until the operator acts, so look again only every few minutes. */
const ACCOUNT_PAUSE_MS = 10 * 60_000;

interface Health {
  failures: number;
  pauses: number;
  pausedUntil?: number;
  reason?: UpstreamAccountError['kind'];
}

export class Accounts {
  private readonly byId: Map<string, Account>;
  private readonly health = new Map<string, Health>();

  constructor(
    readonly list: readonly Account[],
    private readonly now: () => number = Date.now,
  ) {
    this.byId = new Map(list.map((a) => [a.id, a]));
  }

  get(id: string | null | undefined): Account | undefined {
    return id ? this.byId.get(id) : undefined;
  }

  /** The first account: whose provider answers for tasks stored before accounts existed. */
  get primary(): Account {
    return this.list[0]!;
  }

  /** The provider a task's job lives on (its account's; the primary one for a task not yet placed). */
  providerFor(task: { account: string | null }): Provider {
    return (this.get(task.account) ?? this.primary).provider;
  }

  /** What some account can do: commands offer a feature when any account can run it (the dispatcher routes it there). */
  can(feature: keyof Pick<Capabilities, 'blend' | 'describe' | 'imagePrompts' | 'shorten' | 'animateImages'>): boolean {
    return this.list.some((a) => Boolean(a.provider.capabilities[feature]));
  }

  /** Whether some account can animate an uploaded image without a motion prompt (else /animate asks for one). */
  animatesWithoutPrompt(): boolean {
    return this.list.some((a) => a.provider.capabilities.animateImages && !a.provider.capabilities.animateNeedsPrompt);
  }

  /** Whether some account serves this speed mode. */
  serves(mode: SpeedMode): boolean {
    return this.list.some((a) => !a.modes || a.modes.includes(mode));
  }

  state(id: string): AccountState {
    const h = this.health.get(id);
    if (h?.pausedUntil && h.pausedUntil > this.now()) return { state: 'paused', until: new Date(h.pausedUntil), reason: h.reason! };
    return { state: 'ok', failures: h?.failures ?? 0 };
  }

  usable(id: string): boolean {
    return this.state(id).state === 'ok';
  }

  recordSuccess(id: string): void {
    this.health.set(id, { failures: 0, pauses: 0 });
  }

  /** Counts a failure; returns when the account's pause ends if this failure paused it (several accounts only). */
  recordFailure(id: string, err: UpstreamAccountError): Date | undefined {
    const h = this.health.get(id) ?? { failures: 0, pauses: 0 };
    h.failures += 1;
    this.health.set(id, h);
    // With one account there is nowhere to move jobs: each job retries and fails on its own instead.
    if (this.list.length < 2) return undefined;
    let pauseMs: number | undefined;
    if (!err.transient) pauseMs = ACCOUNT_PAUSE_MS;
    else if (h.failures >= FAILURE_STREAK) pauseMs = Math.min(MAX_PAUSE_MS, STREAK_PAUSE_MS * 2 ** h.pauses);
    if (pauseMs === undefined) return undefined;
    h.pauses += 1;
    h.failures = 0;
    h.reason = err.kind;
    h.pausedUntil = this.now() + pauseMs;
    return new Date(h.pausedUntil);
  }
}

/** Account ids default to the provider id, numbered when one provider has several accounts. */
export function accountIds(specs: readonly Pick<AccountConfig, 'id' | 'provider'>[]): string[] {
  const seen = new Map<string, number>();
  return specs.map((spec) => {
    if (spec.id) return spec.id;
    const n = (seen.get(spec.provider) ?? 0) + 1;
    seen.set(spec.provider, n);
    const many = specs.filter((s) => !s.id && s.provider === spec.provider).length > 1;
    return many ? `${spec.provider}-${n}` : spec.provider;
  });
}

/** UPSTREAM_ACCOUNTS as given, or the single account the UPSTREAM_* variables describe. */
export function accountSpecs(config: Config): AccountConfig[] {
  if (config.UPSTREAM_ACCOUNTS) return config.UPSTREAM_ACCOUNTS;
  return [{ provider: config.UPSTREAM_PROVIDER, baseUrl: config.UPSTREAM_BASE_URL, apiKey: config.UPSTREAM_API_KEY, weight: 1 }];
}
