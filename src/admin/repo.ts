// What /draw-admin changes and reads, and what the preconditions check: bans, each server's daily quotas, and
// the stats. Bans and servers' quotas are read on every job, before the interaction is answered, so they are
// kept in memory: loaded whole at start-up (both tables stay small: one row per ban and per server that set a
// quota), changed here as they are written, and changed on every other instance by a PostgreSQL notification
// sent in the writing transaction (see src/db/notify.ts). After a lost connection they are loaded again.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { guildSettings, userBans } from '../db/schema.ts';
import type { Notifications } from '../db/notify.ts';
import type { Logger } from '../log.ts';
import { inFlightByAccount, queueTotals } from '../tasks/usage.ts';
import { jobStats, type JobStats } from './stats.ts';

/** A ban's reach: one server, or every server (`null`, bot owners only). */
export type BanScope = string | null;

/** A server's own daily limits as stored: null where the bot's default applies. */
export interface QuotaOverrides {
  guild: number | null;
  perUser: number | null;
  /** Video turned off in the server (/draw-admin video); absent or false: on. */
  videoOff?: boolean;
}

/** What instances tell each other on CHANNEL. */
type Change = { t: 'ban'; g: BanScope; u: string; on: boolean } | { t: 'guild'; g: string; guild: number | null; perUser: number | null; videoOff?: boolean };

const CHANNEL = 'mj_admin';
const NONE: QuotaOverrides = { guild: null, perUser: null };
const sameScope = (guildId: BanScope) => (guildId === null ? isNull(userBans.guildId) : eq(userBans.guildId, guildId));
const banKey = (guildId: BanScope, userId: string) => `${guildId ?? '*'}:${userId}`;

export class AdminRepo {
  private bans = new Set<string>();
  private overrides = new Map<string, QuotaOverrides>();
  private readonly guildListeners: Array<(guildId: string) => void> = [];

  constructor(private readonly db: Db) {}

  /** Loads bans and servers' quotas into memory; with `notifications`, keeps them in step with other instances. */
  async start(notifications?: Notifications, log?: Logger): Promise<void> {
    await this.load();
    await notifications?.listen(
      CHANNEL,
      (payload) => this.apply(JSON.parse(payload) as Change),
      // (Re)listening: anything changed while not listening is in the tables.
      async () => {
        await this.load().catch((err: unknown) => log?.error({ err }, 'could not reload bans and quotas'));
      },
    );
  }

  /** Reads both tables again. */
  async load(): Promise<void> {
    const [bans, settings] = await Promise.all([
      this.db.select({ guildId: userBans.guildId, userId: userBans.userId }).from(userBans),
      this.db.select({ guildId: guildSettings.guildId, guild: guildSettings.dailyQuota, perUser: guildSettings.userDailyQuota, videoOff: guildSettings.videoDisabled }).from(guildSettings),
    ]);
    const before = this.overrides;
    this.bans = new Set(bans.map((b) => banKey(b.guildId, b.userId)));
    this.overrides = new Map(settings.map((s) => [s.guildId, { guild: s.guild, perUser: s.perUser, videoOff: s.videoOff }]));
    for (const guildId of new Set([...before.keys(), ...this.overrides.keys()])) {
      const a = before.get(guildId) ?? NONE;
      const b = this.overrides.get(guildId) ?? NONE;
      if (a.guild !== b.guild || a.perUser !== b.perUser) this.guildChanged(guildId);
    }
  }

  /** Called with a server's id whenever its quotas change (here or on another instance). */
  onGuildChange(listener: (guildId: string) => void): void {
    this.guildListeners.push(listener);
  }

  /** Bans a user (again: the reason and author are updated). */
  async ban(guildId: BanScope, userId: string, bannedBy: string, reason?: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx
        .insert(userBans)
        .values({ guildId, userId, bannedBy, reason: reason ?? null })
        .onConflictDoUpdate({ target: [userBans.guildId, userBans.userId], set: { bannedBy, reason: reason ?? null, createdAt: sql`now()` } });
      await this.notify(tx, { t: 'ban', g: guildId, u: userId, on: true });
    });
    this.apply({ t: 'ban', g: guildId, u: userId, on: true });
  }

  /** True when there was a ban to lift. */
  async unban(guildId: BanScope, userId: string): Promise<boolean> {
    const lifted = await this.db.transaction(async (tx) => {
      const rows = await tx.delete(userBans).where(and(sameScope(guildId), eq(userBans.userId, userId))).returning({ id: userBans.id });
      if (rows.length > 0) await this.notify(tx, { t: 'ban', g: guildId, u: userId, on: false });
      return rows.length > 0;
    });
    if (lifted) this.apply({ t: 'ban', g: guildId, u: userId, on: false });
    return lifted;
  }

  /** Banned in this server or everywhere (from memory). */
  isBanned(guildId: string | null, userId: string): boolean {
    return this.bans.has(banKey(null, userId)) || (guildId !== null && this.bans.has(banKey(guildId, userId)));
  }

  /** The server's own daily limits (null: the bot's default applies; 0: unlimited), from memory. */
  quotaOverrides(guildId: string): QuotaOverrides {
    return this.overrides.get(guildId) ?? NONE;
  }

  /** Sets the server's daily quota for all its jobs together; null goes back to the bot's default. */
  async setDailyQuota(guildId: string, quota: number | null, updatedBy: string): Promise<void> {
    await this.saveGuild(guildId, { dailyQuota: quota }, updatedBy);
  }

  /** Sets each member's daily quota in the server (0: unlimited); null goes back to the bot's default. */
  async setUserDailyQuota(guildId: string, quota: number | null, updatedBy: string): Promise<void> {
    await this.saveGuild(guildId, { userDailyQuota: quota }, updatedBy);
  }

  /** Turns video (Animate, Extend) off or back on in the server. */
  async setVideoDisabled(guildId: string, disabled: boolean, updatedBy: string): Promise<void> {
    await this.saveGuild(guildId, { videoDisabled: disabled }, updatedBy);
  }

  /** Whether the server turned video off, from memory. */
  videoDisabled(guildId: string | null): boolean {
    return guildId !== null && (this.overrides.get(guildId)?.videoOff ?? false);
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

  private async saveGuild(guildId: string, set: { dailyQuota?: number | null; userDailyQuota?: number | null; videoDisabled?: boolean }, updatedBy: string): Promise<void> {
    const change = await this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(guildSettings)
        .values({ guildId, ...set, updatedBy })
        .onConflictDoUpdate({ target: guildSettings.guildId, set: { ...set, updatedBy, updatedAt: sql`now()` } })
        .returning({ guild: guildSettings.dailyQuota, perUser: guildSettings.userDailyQuota, videoOff: guildSettings.videoDisabled });
      const change: Change = { t: 'guild', g: guildId, guild: row!.guild, perUser: row!.perUser, videoOff: row!.videoOff };
      await this.notify(tx, change);
      return change;
    });
    this.apply(change);
  }

  private async notify(tx: Db, change: Change): Promise<void> {
    await tx.execute(sql`select pg_notify(${CHANNEL}, ${JSON.stringify(change)})`);
  }

  /** A change made here or by another instance (applying one twice changes nothing). */
  private apply(change: Change): void {
    if (change.t === 'ban') {
      if (change.on) this.bans.add(banKey(change.g, change.u));
      else this.bans.delete(banKey(change.g, change.u));
      return;
    }
    const before = this.overrides.get(change.g) ?? NONE;
    this.overrides.set(change.g, { guild: change.guild, perUser: change.perUser, videoOff: change.videoOff ?? false });
    if (before.guild !== change.guild || before.perUser !== change.perUser) this.guildChanged(change.g);
  }

  private guildChanged(guildId: string): void {
    for (const listener of this.guildListeners) listener(guildId);
  }
}
