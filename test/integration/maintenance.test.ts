// The maintenance service with the real delivery path: stuck jobs are failed once and their users told, in
// their language, through the fake Discord (in this process); the scheduled cleanup purges and honours the lock.
import { REST } from '@discordjs/rest';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { tasks } from '../../src/db/schema.ts';
import { Messenger } from '../../src/messages/messenger.ts';
import { createLogger } from '../../src/log.ts';
import { CLEANUP_LOCK_KEY, Maintenance } from '../../src/maintenance/service.ts';
import { Delivery } from '../../src/tasks/delivery.ts';
import { Lifecycle, QUEUE_TIMEOUT_REASON, STALLED_REASON, TOO_LONG_REASON } from '../../src/tasks/lifecycle.ts';
import { TaskRepo } from '../../src/tasks/repo.ts';
import { Accounts } from '../../src/upstream/accounts.ts';
import { SimulatorProvider } from '../../src/upstream/simulator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { countTasks, seedTasks } from '../support/seed.ts';

const MINUTE = 60_000;
let discord: FakeDiscord;
let testDb: TestDatabase;
let database: Database;
let delivery: Delivery;
let life: Lifecycle;
const log = createLogger('silent');
const options = { retentionDays: 30, cleanupCron: 'off', jobTimeoutMinutes: 10, jobMaxMinutes: 45, queueTimeoutMinutes: 60 };

beforeAll(async () => {
  discord = await FakeDiscord.start();
  testDb = await createTestDatabase();
  database = await testDb.open();
  const rest = new REST({ api: discord.apiUrl }).setToken(discord.token);
  life = new Lifecycle(database.db);
  const accounts = new Accounts([{ id: 'simulator', provider: new SimulatorProvider(10), concurrency: 10, weight: 1 }]);
  delivery = new Delivery(life, new TaskRepo(database.db), new Messenger(rest, rest, () => discord.applicationId), accounts, log, { owner: 1n, progressIntervalMs: 1000, giveUpMinutes: 60 });
  delivery.start();
});
afterAll(async () => {
  await delivery?.stop();
  await database?.close();
  await testDb?.destroy();
  await discord?.close();
});
beforeEach(async () => {
  await database.db.delete(tasks);
});

const ago = (ms: number) => new Date(Date.now() - ms);

async function insert(patch: Partial<typeof tasks.$inferInsert> & { prompt: string }) {
  const [row] = await database.db
    .insert(tasks)
    .values({ id: crypto.randomUUID(), channelId: discord.channelId, guildId: discord.guildId, userId: '100000000000000003', action: 'imagine', promptUpstream: patch.prompt, provider: 'simulator', ...patch })
    .returning();
  return row!;
}

/** One of each: stuck ones and ones that must be left alone. */
async function seedStuckMix() {
  return {
    stalledRunning: await insert({ prompt: 'stalled running', status: 'running', upstreamId: 'lost-1', createdAt: ago(30 * MINUTE), startedAt: ago(30 * MINUTE), lastSeenAt: ago(11 * MINUTE) }),
    stalledSubmitted: await insert({ prompt: 'stalled submitted', status: 'submitted', locale: 'zh-CN', createdAt: ago(20 * MINUTE), startedAt: ago(20 * MINUTE) }),
    oldQueued: await insert({ prompt: 'old queued', status: 'queued', createdAt: ago(61 * MINUTE) }),
    // Lively, but past the absolute cap (JOB_MAX_MINUTES).
    endless: await insert({ prompt: 'endless', status: 'running', upstreamId: 'ok-3', createdAt: ago(50 * MINUTE), startedAt: ago(50 * MINUTE), runningSince: ago(46 * MINUTE), lastSeenAt: ago(MINUTE) }),
    fresh: await insert({ prompt: 'fresh running', status: 'running', upstreamId: 'ok-1', createdAt: ago(30 * MINUTE), startedAt: ago(30 * MINUTE), runningSince: ago(30 * MINUTE), lastSeenAt: ago(MINUTE) }),
    waiting: await insert({ prompt: 'waiting', status: 'queued', createdAt: ago(30 * MINUTE) }),
    // Its result is stored: the outbox owns it (retries, then gives up by itself). Not due yet in this test.
    delivering: await insert({ prompt: 'delivering', status: 'running', upstreamId: 'ok-2', imageUrls: ['x'], resultAt: ago(20 * MINUTE), deliveryDue: new Date(Date.now() + 60 * MINUTE), createdAt: ago(30 * MINUTE), startedAt: ago(30 * MINUTE), lastSeenAt: ago(20 * MINUTE) }),
    done: await insert({ prompt: 'done', status: 'succeeded', createdAt: ago(30 * MINUTE), startedAt: ago(30 * MINUTE), finishedAt: ago(29 * MINUTE) }),
  };
}

const statusOf = async (id: string) => (await database.db.select({ s: tasks.status, r: tasks.failReason }).from(tasks).where(eq(tasks.id, id)))[0];

describe('stuck jobs', () => {
  it('claims stalled and over-queued jobs exactly once, marking them failed with their reason', async () => {
    const t = await seedStuckMix();
    const cutoffs = { stalledBefore: ago(10 * MINUTE), queuedBefore: ago(60 * MINUTE), runningBefore: ago(45 * MINUTE) };
    const claimed = await life.failStuck(cutoffs);
    expect(claimed.map((c: { prompt: string; status: string; failReason: string | null }) => [c.prompt, c.status, c.failReason]).sort()).toEqual([
      ['endless', 'failed', TOO_LONG_REASON],
      ['old queued', 'failed', QUEUE_TIMEOUT_REASON],
      ['stalled running', 'failed', STALLED_REASON],
      ['stalled submitted', 'failed', STALLED_REASON],
    ]);
    expect(await life.failStuck(cutoffs)).toEqual([]);
    for (const task of [t.fresh, t.waiting, t.delivering, t.done]) expect((await statusOf(task.id))!.s).toBe(task.status);
  });

  it('at start-up fails only over-queued jobs: running ones get a poll first', async () => {
    const t = await seedStuckMix();
    const maintenance = new Maintenance(database, life, () => delivery.kick(), log, options);
    expect(await maintenance.failStuck({ queuedOnly: true })).toEqual({ stalled: 0, tooLong: 0, queued: 1 });
    expect((await statusOf(t.oldQueued.id))!.s).toBe('failed');
    expect((await statusOf(t.stalledRunning.id))!.s).toBe('running');
  });

  it('tells each user, in their language, that the job was stopped', async () => {
    const t = await seedStuckMix();
    const maintenance = new Maintenance(database, life, () => delivery.kick(), log, options);
    expect(await maintenance.failStuck()).toEqual({ stalled: 2, tooLong: 1, queued: 1 });
    await delivery.idle();
    const posted = (prompt: string) => discord.waitForMessage((m) => m.content.startsWith(`❌ **${prompt}**`));
    expect((await posted('stalled running')).content).toBe('❌ **stalled running** - <@100000000000000003>\nThe job failed: it made no progress for too long and was stopped. It does not count toward your daily quota — please try again.');
    expect((await posted('stalled submitted')).content).toMatch(/任务失败：任务长时间没有进展，已被停止。/);
    expect((await posted('old queued')).content).toMatch(/waited too long in the queue/);
    expect((await posted('endless')).content).toMatch(/ran longer than the time limit for one job/);
    expect(await statusOf(t.stalledSubmitted.id)).toEqual({ s: 'failed', r: STALLED_REASON });
    discord.assertNoViolations();
  });
});

describe('scheduled cleanup', () => {
  it('fails stuck jobs, then purges tasks past the retention', async () => {
    await seedStuckMix();
    await seedTasks(database.db, { count: 1_500, status: 'succeeded', age: '31 days', guildId: discord.guildId });
    const report = await new Maintenance(database, life, () => delivery.kick(), log, options).cleanup();
    expect(report).toMatchObject({ stuck: { stalled: 2, tooLong: 1, queued: 1 }, purge: { count: 1_500, batches: 2, dryRun: false } });
    await delivery.idle();
    expect(await countTasks(database.db)).toBe(8);
  });

  it('is skipped while another instance holds the lock', async () => {
    await seedTasks(database.db, { count: 10, status: 'succeeded', age: '31 days' });
    const other = await testDb.open();
    try {
      const held = await other.withSessionLock(CLEANUP_LOCK_KEY, () => new Maintenance(database, life, () => delivery.kick(), log, options).cleanup());
      expect(held).toEqual({ locked: true, value: undefined });
      expect(await countTasks(database.db)).toBe(10);
    } finally {
      await other.close();
    }
    expect(await new Maintenance(database, life, () => delivery.kick(), log, options).cleanup()).toMatchObject({ purge: { count: 10 } });
  });
});
