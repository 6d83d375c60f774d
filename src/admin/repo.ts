// What /draw-admin changes and reads, and what the job guard checks: bans, each server's daily quotas, and
// the stats.
import { and, eq, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { guildSettings, userBans } from '../db/schema.ts';
import { inFlightByAccount, queueTotals } from '../tasks/usage.ts';
import { jobStats, type JobStats } from './stats.ts';

/** A ban's reach: one server, or every server (`null`, bot owners only). */
export type BanScope = string | null;

/** A server's own daily limits as stored: null where the bot's default applies. */
export interface QuotaOverrides {
  guild: number | null;
  perUser: number | null;
}

const sameScope = (guildId: BanScope) => (guildId === null ? isNull(userBans.guildId) : eq(userBans.guildId, guildId));

export class AdminRepo {
  constructor(private readonly db: Db) {}

  /** Bans a user (again: the reason and author are updated). */
  async ban(guildId: BanScope, userId: string, bannedBy: string, reason?: string): Promise<void> {
    await this.db
      .insert(userBans)
      .values({ guildId, userId, bannedBy, reason: reason ?? null })
      .onConflictDoUpdate({ target: [userBans.guildId, userBans.userId], set: { bannedBy, reason: reason ?? null, createdAt: sql`now()` } });
  }

  /** True when there was a ban to lift. */
  async unban(guildId: BanScope, userId: string): Promise<boolean> {
    const rows = await this.db.delete(userBans).where(and(sameScope(guildId), eq(userBans.userId, userId))).returning({ id: userBans.id });
    return rows.length > 0;
  }

  /** Banned in this server or everywhere. */
  async isBanned(guildId: string | null, userId: string): Promise<boolean> {
    const scope = guildId === null ? isNull(userBans.guildId) : or(eq(userBans.guildId, guildId), isNull(userBans.guildId));
    const [row] = await this.db.select({ id: userBans.id }).from(userBans).where(and(eq(userBans.userId, userId), scope)).limit(1);
    return row !== undefined;
  }

  /** The server's own daily limits (null: the bot's default applies; 0: unlimited). */
  async quotaOverrides(guildId: string): Promise<QuotaOverrides> {
    const [row] = await this.db
      .select({ guild: guildSettings.dailyQuota, perUser: guildSettings.userDailyQuota })
      .from(guildSettings)
      .where(eq(guildSettings.guildId, guildId));
    return { guild: row?.guild ?? null, perUser: row?.perUser ?? null };
  }

  /** Sets the server's daily quota for all its jobs together; null goes back to the bot's default. */
  async setDailyQuota(guildId: string, quota: number | null, updatedBy: string): Promise<void> {
    await this.db
      .insert(guildSettings)
      .values({ guildId, dailyQuota: quota, updatedBy })
      .onConflictDoUpdate({ target: guildSettings.guildId, set: { dailyQuota: quota, updatedBy, updatedAt: sql`now()` } });
  }

  /** Sets each member's daily quota in the server (0: unlimited); null goes back to the bot's default. */
  async setUserDailyQuota(guildId: string, quota: number | null, updatedBy: string): Promise<void> {
    await this.db
      .insert(guildSettings)
      .values({ guildId, userDailyQuota: quota, updatedBy })
      .onConflictDoUpdate({ target: guildSettings.guildId, set: { userDailyQuota: quota, updatedBy, updatedAt: sql`now()` } });
  }

  /** The shared queue now, and the jobs at each relay account (by account id). */
  async liveQueue(): Promise<{ queue: { waiting: number; inProgress: number }; inFlight: Map<string, number> }> {
    const [queue, inFlight] = await Promise.all([queueTotals(this.db), inFlightByAccount(this.db)]);
    return { queue, inFlight };
  }

  /** See jobStats: one server's jobs, or every server's. */
  stats(guildId?: string): Promise<JobStats> {
    return jobStats(this.db, guildId);
  }
}
