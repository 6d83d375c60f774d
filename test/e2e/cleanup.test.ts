// Housekeeping end to end: `npm run purge` from the shell, then the real bot's scheduled cleanup (every second
// here) failing stuck jobs — the users are told in the channel — and purging tasks past the retention.
import { spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasks } from '../../src/db/schema.ts';
import { ROOT, startBot, type BotProcess, type LogLine } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { countTasks, seedTasks } from '../support/seed.ts';
import { discordEnv } from './support.ts';

let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess | undefined;

const CAROL = '100000000000000005';
const MINUTE = 60_000;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  db = await createTestDatabase();
  const database = await db.open();
  try {
    await seedTasks(database.db, { count: 1_200, status: 'succeeded', age: '40 days', guildId: discord.guildId });
    await seedTasks(database.db, { count: 10, status: 'succeeded', age: '2 hours', guildId: discord.guildId });
    const stuck = { channelId: discord.channelId, guildId: discord.guildId, userId: CAROL, action: 'imagine', provider: 'simulator' };
    const ago = (ms: number) => new Date(Date.now() - ms);
    await database.db.insert(tasks).values([
      // The relay lost this one: it never reports on it again.
      { ...stuck, id: crypto.randomUUID(), prompt: 'a lost job', promptUpstream: 'a lost job', status: 'running', upstreamId: 'relay-lost-1', progress: 38, createdAt: ago(30 * MINUTE), startedAt: ago(30 * MINUTE), lastProgressAt: ago(25 * MINUTE) },
      { ...stuck, id: crypto.randomUUID(), prompt: 'a forgotten job', promptUpstream: 'a forgotten job', locale: 'zh-CN', status: 'queued', createdAt: ago(3 * 60 * MINUTE) },
    ]);
  } finally {
    await database.close();
  }
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

/** `npm run purge -- …` as an operator types it, with only the database settings in the environment. */
function npmPurge(args: string[]): Promise<{ code: number | null; logs: LogLine[]; stderr: string }> {
  const child = spawn('npm', ['run', 'purge', '--', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: '1', ...db.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      // npm prints its own banner lines; the purge logs JSON lines.
      const logs = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
      resolve({ code, logs, stderr });
    }),
  );
}

async function taskCount(): Promise<number> {
  const database = await db.open();
  try {
    return await countTasks(database.db);
  } finally {
    await database.close();
  }
}

describe('npm run purge', () => {
  it('--dry-run reports what would go and deletes nothing', async () => {
    const { code, logs, stderr } = await npmPurge(['--days', '1', '--dry-run']);
    expect(code, stderr).toBe(0);
    expect(logs.find((l) => l.msg === 'purge finished')).toMatchObject({ dryRun: true, days: 1, count: 1_200, batches: 2, guildId: 'all' });
    expect(await taskCount()).toBe(1_212);
  });

  it('refuses a bad argument with the usage', async () => {
    const { code, stderr } = await npmPurge(['--days', 'soon']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/--days must be a whole number of days[\s\S]*Usage: npm run purge -- \[--days N\] \[--dry-run\]/);
  });
});

describe('scheduled cleanup in the bot', () => {
  it('fails stuck jobs, telling their users, and purges tasks past the retention', async () => {
    bot = await startBot({
      ...discordEnv(discord),
      // One poll at start only: the relay leaving the lost job out of 3 polls in a row would fail it before the
      // cleanup could (as "no longer known"); here the cleanup's stall check is what is tested.
      POLL_INTERVAL_MS: '60000',
      CLEANUP_CRON: '* * * * * *',
      TASK_RETENTION_DAYS: '30',
      JOB_TIMEOUT_MINUTES: '10',
      QUEUE_TIMEOUT_MINUTES: '60',
      ...db.env,
    });
    // Before the engine starts, the job queued for three hours is failed rather than started.
    expect(bot.logs.find((l) => l.msg === 'stuck jobs failed')).toMatchObject({ stalled: 0, queued: 1 });
    expect(bot.logs.some((l) => l.msg === 'task submitted')).toBe(false);
    const forgotten = await discord.waitForMessage((m) => m.content.startsWith('❌ **a forgotten job**'));
    expect(forgotten.content).toBe(`❌ **a forgotten job** - <@${CAROL}>\n任务失败：任务在队列中等待太久，已被取消。请稍后再试。`);

    const run = await bot.waitForLog((l) => l.msg === 'cleanup finished', 10_000);
    expect(run).toMatchObject({ deleted: 1_200, batches: 2, retentionDays: 30, failedStalled: 1, failedQueued: 0 });
    const lost = await discord.waitForMessage((m) => m.content.startsWith('❌ **a lost job**'));
    expect(lost.content).toBe(`❌ **a lost job** - <@${CAROL}>\nThe job failed: it made no progress for too long and was stopped. It does not count toward your daily quota — please try again.`);
    const post = await discord.waitForCall((c) => c.method === 'POST' && c.path === `/channels/${discord.channelId}/messages` && JSON.stringify(c.body).includes('a lost job'));
    expect(post.body).toMatchObject({ allowed_mentions: { users: [CAROL] } });

    // Later runs find nothing more to do.
    const next = await bot.waitForLog((l) => l.msg === 'cleanup finished' && l !== run, 10_000);
    expect(next).toMatchObject({ deleted: 0, failedStalled: 0, failedQueued: 0 });
    await bot.stop();
    bot = undefined;
    discord.assertNoViolations();
  });

  it('left the recent tasks and the two failed ones, which a purge of finished jobs then takes', async () => {
    const database = await db.open();
    try {
      const rows = await database.db.select({ status: tasks.status, n: sql<number>`count(*)::int` }).from(tasks).groupBy(tasks.status).orderBy(tasks.status);
      expect(rows).toEqual([
        { status: 'failed', n: 2 },
        { status: 'succeeded', n: 10 },
      ]);
    } finally {
      await database.close();
    }
    const { code, logs } = await npmPurge(['--days', '0']);
    expect(code).toBe(0);
    expect(logs.find((l) => l.msg === 'purge finished')).toMatchObject({ dryRun: false, count: 12, batches: 1 });
    expect(await taskCount()).toBe(0);
  });
});
