// Bans, quotas and stats, on real PostgreSQL (see test/support/global-setup.ts); two instances also keep their
// memory of bans and quotas in step through LISTEN/NOTIFY.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Quotas } from '../../src/admin/quotas.ts';
import { AdminRepo } from '../../src/admin/repo.ts';
import type { Database } from '../../src/db/client.ts';
import { postgresNotifications } from '../../src/db/notify.ts';
import { createLogger } from '../../src/log.ts';
import { limitRefusal, nextUtcMidnight, type Who } from '../../src/tasks/accept.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedTasks } from '../support/seed.ts';

let testDb: TestDatabase;
let database: Database;
let admin: AdminRepo;
let quotas: Quotas;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await testDb.open();
  admin = new AdminRepo(database.db);
  await admin.start();
  // Only the server quota is under test here: no per-user quota, no queue limit in the way.
  quotas = new Quotas(database.db, admin, { USER_DAILY_QUOTA: 0, GUILD_DAILY_QUOTA: 0, USER_MAX_QUEUED: 1000 });
});

/** The limits a /draw (`draw`) or a button (`button`) is held to here, judged on the database's counts. */
async function jobRefusal(who: Who, kind: 'draw' | 'button', now = new Date()) {
  const limits = quotas.jobLimits(who.guildId, { daily: kind === 'draw', queue: true });
  return limitRefusal(await quotas.count(who, limits, now), limits, now);
}
afterAll(async () => {
  await database?.close();
  await testDb?.destroy();
});

describe('bans', () => {
  it('bans in one server or everywhere, idempotently, and lifts each separately', async () => {
    await admin.ban('g1', 'u1', 'mod', 'spam');
    await admin.ban('g1', 'u1', 'mod2');
    await admin.ban(null, 'u2', 'owner');
    await admin.ban(null, 'u2', 'owner');
    expect(await admin.isBanned('g1', 'u1')).toBe(true);
    expect(await admin.isBanned('g2', 'u1')).toBe(false);
    expect(await admin.isBanned('g2', 'u2')).toBe(true);
    expect(await admin.isBanned(null, 'u2')).toBe(true);
    expect(await admin.unban('g2', 'u2')).toBe(false); // a bot-wide ban is not lifted per server
    expect(await admin.unban(null, 'u2')).toBe(true);
    expect(await admin.unban(null, 'u2')).toBe(false);
    expect(await admin.isBanned('g2', 'u2')).toBe(false);
    expect(await admin.unban('g1', 'u1')).toBe(true);
    expect(await admin.isBanned('g1', 'u1')).toBe(false);
  });
});

describe('several instances', () => {
  // Each instance answers bans and quotas from memory: what one changes, the others must hear at once.
  it('hear of each other’s bans and quotas (LISTEN/NOTIFY), and reload after reconnecting', async () => {
    const log = createLogger('silent');
    const other = await testDb.open();
    const notifications = postgresNotifications(testDb.env.DATABASE_URL!, log);
    try {
      const elsewhere = new AdminRepo(other.db);
      const changed: string[] = [];
      elsewhere.onGuildChange((g) => changed.push(g));
      await elsewhere.start(notifications, log);
      await admin.ban(null, 'n1', 'owner');
      await admin.ban('gn', 'n2', 'mod');
      await admin.setDailyQuota('gn', 5, 'mod');
      await admin.setUserDailyQuota('gn', 2, 'mod');
      await expect.poll(() => elsewhere.isBanned('g-any', 'n1')).toBe(true);
      await expect.poll(() => elsewhere.quotaOverrides('gn')).toEqual({ guild: 5, perUser: 2, videoOff: false });
      expect(elsewhere.isBanned('gn', 'n2')).toBe(true);
      expect(elsewhere.isBanned('g-other', 'n2')).toBe(false);
      expect(changed).toContain('gn');
      await admin.unban(null, 'n1');
      await admin.setDailyQuota('gn', null, 'mod');
      await expect.poll(() => elsewhere.isBanned('g-any', 'n1')).toBe(false);
      await expect.poll(() => elsewhere.quotaOverrides('gn')).toEqual({ guild: null, perUser: 2, videoOff: false });
      // The listening connection dropped (a database restart): changes made meanwhile are read again.
      await other.db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'listen %' and pid <> pg_backend_pid()`);
      await admin.ban('gn', 'n3', 'mod');
      await expect.poll(() => elsewhere.isBanned('gn', 'n3'), { timeout: 10_000 }).toBe(true);
      await admin.unban('gn', 'n2');
      await admin.unban('gn', 'n3');
      await admin.setUserDailyQuota('gn', null, 'mod');
    } finally {
      await notifications.close();
      await other.close();
    }
  });
});

describe('daily quota', () => {
  it('counts today’s jobs of the server (not failed ones) and refuses /draw, not buttons, at the limit', async () => {
    const now = new Date();
    const dayStart = new Date(nextUtcMidnight(now).getTime() - 86_400_000);
    // Seconds into the UTC day, so seeded "today" rows never fall into yesterday.
    const secondsToday = Math.floor((now.getTime() - dayStart.getTime()) / 1000);
    const today = `${Math.max(0, secondsToday - 5)} seconds`;
    await seedTasks(database.db, { count: 2, status: 'succeeded', age: today, guildId: 'gq' });
    await seedTasks(database.db, { count: 1, status: 'running', age: today, guildId: 'gq' });
    await seedTasks(database.db, { count: 4, status: 'failed', age: today, guildId: 'gq' });
    await seedTasks(database.db, { count: 5, status: 'succeeded', age: `${secondsToday + 60} seconds`, guildId: 'gq' });
    await seedTasks(database.db, { count: 5, status: 'succeeded', age: today, guildId: 'other' });
    expect((await quotas.usage({ guildId: 'gq', userId: 'u9' }, now)).guild).toEqual({ used: 3, limit: null });

    const who = { guildId: 'gq', userId: 'u9' };
    expect(await admin.quotaOverrides('gq')).toEqual({ guild: null, perUser: null });
    expect(await jobRefusal(who, 'draw')).toBeUndefined();
    await admin.setDailyQuota('gq', 4, 'mod');
    expect(await jobRefusal(who, 'draw')).toBeUndefined();
    await admin.setDailyQuota('gq', 3, 'mod');
    expect(await admin.quotaOverrides('gq')).toEqual({ guild: 3, perUser: null, videoOff: false });
    expect(await jobRefusal(who, 'draw', now)).toEqual({
      key: 'admin:errors.quotaReached',
      vars: { limit: 3, used: 3, reset: Math.floor(nextUtcMidnight(now).getTime() / 1000) },
    });
    expect(await jobRefusal(who, 'button')).toBeUndefined();
    await admin.setDailyQuota('gq', null, 'mod');
    expect(await jobRefusal(who, 'draw')).toBeUndefined();
  });

  it('resets at the next UTC midnight', () => {
    expect(nextUtcMidnight(new Date('2026-03-01T23:59:59Z')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(nextUtcMidnight(new Date('2026-12-31T00:00:00Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });
});

describe('stats', () => {
  it('counts by status, per account success rate and median time, and the global queue', async () => {
    await seedTasks(database.db, { count: 3, status: 'succeeded', age: '1 hour', guildId: 'gs', account: 'acct-a', durationSeconds: 10 });
    await seedTasks(database.db, { count: 2, status: 'succeeded', age: '1 hour', guildId: 'gs', account: 'acct-a', durationSeconds: 40 });
    await seedTasks(database.db, { count: 1, status: 'failed', age: '1 hour', guildId: 'gs', account: 'acct-a' });
    await seedTasks(database.db, { count: 2, status: 'failed', age: '1 hour', guildId: 'gs', account: 'acct-b' });
    await seedTasks(database.db, { count: 2, status: 'queued', age: '1 minute', guildId: 'gs' });
    await seedTasks(database.db, { count: 1, status: 'running', age: '1 minute', guildId: 'gs', account: 'acct-b' });
    await seedTasks(database.db, { count: 4, status: 'queued', age: '1 minute', guildId: 'gs-other' });

    const stats = await admin.stats('gs');
    expect(stats.byStatus).toEqual({ queued: 2, claimed: 0, submitted: 0, running: 1, succeeded: 5, failed: 3, cancelled: 0 });
    expect(stats.accounts).toEqual([
      { account: 'acct-a', succeeded: 5, failed: 1, medianSeconds: 10 },
      { account: 'acct-b', succeeded: 0, failed: 2, medianSeconds: null },
    ]);
    expect(stats.queue.waiting).toBeGreaterThanOrEqual(6);
    const all = await admin.stats();
    expect(all.byStatus.queued).toBeGreaterThanOrEqual(6);
    expect(all.queue).toEqual(stats.queue);
  });
});
