// The job limits: each user's daily quota and each server's (per UTC day), and how many jobs one user may
// have waiting. Daily quotas apply to new jobs (/draw, /blend, /describe, and a /describe pick); upscales and
// other buttons on a result only count, so a grid already made can be finished. The queue limit applies to
// every job. Failed and cancelled jobs never count; a video job counts VIDEO_QUOTA_WEIGHT jobs.
//
// This module says which limits are in force (the bot's defaults, or a server's own, from memory) and reads
// the use of them for /info and /draw-admin. The check itself is one rule (limitRefusal in
// src/tasks/accept.ts), applied early from memory by the preconditions and exactly when the job is stored.
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { countUsage, nextUtcMidnight, type Counts, type JobLimits, type LimitsApplied, type Who } from '../tasks/accept.ts';
import { userQueue } from '../tasks/usage.ts';
import type { AdminRepo } from './repo.ts';

export type Limits = Pick<Config, 'USER_MAX_QUEUED' | 'USER_DAILY_QUOTA' | 'GUILD_DAILY_QUOTA'> & Partial<Pick<Config, 'VIDEO_QUOTA_WEIGHT'>>;

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

/** 0 means unlimited, in the configuration and in a server's override alike. */
const limitOf = (n: number) => (n === 0 ? null : n);

export class Quotas {
  constructor(
    private readonly db: Db,
    private readonly admin: Pick<AdminRepo, 'quotaOverrides'>,
    readonly limits: Limits,
  ) {}

  /** What a video job counts toward the daily quotas. */
  get videoWeight(): number {
    return this.limits.VIDEO_QUOTA_WEIGHT ?? 1;
  }

  /** The server's own limits where it set them, else the bot's defaults. */
  daily(guildId: string | null): DailyLimits {
    if (guildId === null) return { user: limitOf(this.limits.USER_DAILY_QUOTA), guild: null };
    const own = this.admin.quotaOverrides(guildId);
    return { user: limitOf(own.perUser ?? this.limits.USER_DAILY_QUOTA), guild: limitOf(own.guild ?? this.limits.GUILD_DAILY_QUOTA) };
  }

  /** The limits a job is held to: the daily quotas if it is a new job, the queue limit if it waits in the queue. */
  jobLimits(guildId: string | null, applied: LimitsApplied): JobLimits {
    const daily = applied.daily ? this.daily(guildId) : { user: null, guild: null };
    return { userDaily: daily.user, guildDaily: daily.guild, maxQueued: applied.queue ? this.limits.USER_MAX_QUEUED : null };
  }

  /** What counts toward `limits` right now, read from the database in one statement (not under the locks). */
  async count(who: Who, limits: JobLimits, now = new Date()): Promise<Counts> {
    const guilds = limits.guildDaily !== null && who.guildId !== null ? [who.guildId] : [];
    const counted = await countUsage(this.db, [who], guilds, now, this.videoWeight);
    const counts: Counts = {
      userToday: [...counted.userToday.values()][0] ?? 0,
      waiting: counted.waiting.get(who.userId) ?? 0,
    };
    if (guilds.length > 0) counts.guildToday = counted.guildToday.get(who.guildId!) ?? 0;
    return counts;
  }

  /** For /info and /draw-admin: today's use of both quotas, the limits, and the user's jobs now. */
  async usage(who: Who, now = new Date()): Promise<Usage> {
    const limits = this.daily(who.guildId);
    const reset = nextUtcMidnight(now);
    const [counted, queue] = await Promise.all([
      countUsage(this.db, [who], who.guildId === null ? [] : [who.guildId], now, this.videoWeight),
      userQueue(this.db, who.userId),
    ]);
    return {
      user: { used: [...counted.userToday.values()][0] ?? 0, limit: limits.user },
      guild: { used: who.guildId === null ? 0 : (counted.guildToday.get(who.guildId) ?? 0), limit: limits.guild },
      reset,
      queue,
    };
  }
}
