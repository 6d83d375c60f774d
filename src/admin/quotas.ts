// The job limits: each user's daily quota and each server's (per UTC day), and how many jobs one user may
// have waiting. Daily quotas apply to new jobs (/draw, /blend, /describe, and a /describe pick); upscales and
// other buttons on a result only count, so a grid already made can be finished. The queue limit applies to
// every job. Failed and cancelled jobs never count.
//
// The check is exact: the task row is inserted in the same transaction that counts, under transaction-scoped
// advisory locks for the user and the server, so /draws sent at the same instant take turns instead of all
// passing a count that none of them has added to yet. On PGlite (a single session) the locks never block,
// but its transactions already run one at a time, which gives the same guarantee.
import { sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { jobsSince, userQueue } from '../tasks/usage.ts';
import type { AdminRepo } from './repo.ts';

/** `draw`: a new job, under the daily quotas; `button`: a follow-up on a result, only under the queue limit. */
export type JobKind = 'draw' | 'button';

export interface Refusal {
  key: string;
  vars?: Record<string, unknown>;
}

/** A job refused by the limits after the interaction was deferred; TaskService.accept throws it. */
export class JobRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(`job refused: ${refusal.key}`);
  }
}

export type Limits = Pick<Config, 'USER_MAX_QUEUED' | 'USER_DAILY_QUOTA' | 'GUILD_DAILY_QUOTA'>;

export interface Who {
  guildId: string | null;
  userId: string;
}

/** The daily quotas in force in one server; null: unlimited. */
export interface DailyLimits {
  user: number | null;
  guild: number | null;
}

/** Today's use of the daily quotas and when they reset, and the user's jobs in the queue now. */
export interface Usage {
  user: { used: number; limit: number | null };
  guild: { used: number; limit: number | null };
  reset: Date;
  queue: { waiting: number; inProgress: number };
}

// Advisory lock namespaces (the two-key form: a separate key space from the single bigint locks elsewhere).
const USER_LOCK = 0x6d6a_0001;
const GUILD_LOCK = 0x6d6a_0002;

/** The start of the next UTC day: when daily quotas reset. */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

const unix = (d: Date) => Math.floor(d.getTime() / 1000);
/** 0 means unlimited, in the configuration and in a server's override alike. */
const limitOf = (n: number) => (n === 0 ? null : n);

export class Quotas {
  constructor(
    private readonly db: Db,
    private readonly admin: Pick<AdminRepo, 'quotaOverrides'>,
    readonly limits: Limits,
  ) {}

  /** The server's own limits where it set them, else the bot's defaults. */
  async daily(guildId: string | null): Promise<DailyLimits> {
    if (guildId === null) return { user: limitOf(this.limits.USER_DAILY_QUOTA), guild: null };
    const own = await this.admin.quotaOverrides(guildId);
    return { user: limitOf(own.perUser ?? this.limits.USER_DAILY_QUOTA), guild: limitOf(own.guild ?? this.limits.GUILD_DAILY_QUOTA) };
  }

  async usage(who: Who, now = new Date()): Promise<Usage> {
    const limits = await this.daily(who.guildId);
    const reset = nextUtcMidnight(now);
    const since = new Date(reset.getTime() - 86_400_000);
    const [user, guild, queue] = await Promise.all([
      jobsSince(this.db, who, since),
      jobsSince(this.db, { guildId: who.guildId }, since),
      userQueue(this.db, who.userId),
    ]);
    return { user: { used: user, limit: limits.user }, guild: { used: guild, limit: limits.guild }, reset, queue };
  }

  /** Why this job may not start now, or undefined. Counted on `db`: the pool for the early check, or a locked transaction. */
  async refusal(who: Who, kind: JobKind, now = new Date(), db: Db = this.db, limits?: DailyLimits): Promise<Refusal | undefined> {
    if (kind === 'draw') {
      const daily = limits ?? (await this.daily(who.guildId));
      const reset = nextUtcMidnight(now);
      const since = new Date(reset.getTime() - 86_400_000);
      if (daily.user !== null) {
        const used = await jobsSince(db, who, since);
        if (used >= daily.user) return { key: 'queue:errors.userQuota', vars: { limit: daily.user, used, reset: unix(reset) } };
      }
      if (daily.guild !== null) {
        const used = await jobsSince(db, { guildId: who.guildId }, since);
        if (used >= daily.guild) return { key: 'admin:errors.quotaReached', vars: { limit: daily.guild, used, reset: unix(reset) } };
      }
    }
    const { waiting } = await userQueue(db, who.userId);
    if (waiting >= this.limits.USER_MAX_QUEUED) return { key: 'queue:errors.queueFull', vars: { limit: this.limits.USER_MAX_QUEUED, waiting } };
    return undefined;
  }

  /**
   * Checks the limits and, if they allow the job, runs `insert` in the same transaction. The user's lock (and
   * the server's, when a server quota applies) is held until commit, so the next job of the same user or
   * server counts this one. Locks are always taken user first, then server: no deadlocks.
   */
  async insertWithinLimits<T>(who: Who, kind: JobKind, insert: (tx: Db) => Promise<T>, now = new Date()): Promise<{ ok: true; value: T } | { ok: false; refusal: Refusal }> {
    const daily = kind === 'draw' ? await this.daily(who.guildId) : undefined;
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${USER_LOCK}::int, hashtext(${who.userId}))`);
      if (daily?.guild != null) await tx.execute(sql`select pg_advisory_xact_lock(${GUILD_LOCK}::int, hashtext(${who.guildId}))`);
      const refusal = await this.refusal(who, kind, now, tx, daily);
      if (refusal) return { ok: false, refusal } as const;
      return { ok: true, value: await insert(tx) } as const;
    });
  }
}
