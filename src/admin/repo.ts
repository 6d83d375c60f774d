// What /draw-admin changes and reads, and what the job guard checks: bans, each server's daily quota, the
// count that quota is measured against, and the stats.
import { and, eq, gte, isNull, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { guildSettings, tasks, userBans } from '../db/schema.ts';
import { jobStats, type JobStats } from './stats.ts';

/** A ban's reach: one server, or every server (`null`, bot owners only). */
export type BanScope = string | null;

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

  /** Jobs per UTC day for the server, or null when unlimited. */
  async dailyQuota(guildId: string): Promise<number | null> {
    const [row] = await this.db.select({ q: guildSettings.dailyQuota }).from(guildSettings).where(eq(guildSettings.guildId, guildId));
    return row?.q ?? null;
  }

  /** Sets the server's daily quota; null removes it. */
  async setDailyQuota(guildId: string, quota: number | null, updatedBy: string): Promise<void> {
    await this.db
      .insert(guildSettings)
      .values({ guildId, dailyQuota: quota, updatedBy })
      .onConflictDoUpdate({ target: guildSettings.guildId, set: { dailyQuota: quota, updatedBy, updatedAt: sql`now()` } });
  }

  /** Jobs of the server created since `since`: every job counts (buttons too) except those that failed or were cancelled. */
  async countJobsSince(guildId: string, since: Date): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(tasks)
      .where(and(eq(tasks.guildId, guildId), gte(tasks.createdAt, since), notInArray(tasks.status, ['failed', 'cancelled'])));
    return row?.n ?? 0;
  }

  /** See jobStats: one server's jobs, or every server's. */
  stats(guildId?: string): Promise<JobStats> {
    return jobStats(this.db, guildId);
  }
}
