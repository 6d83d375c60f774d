// Two bot processes on one PostgreSQL database, as shards 0 and 1 of 2: Discord sends each the interactions
// of its own guilds, both dispatchers compete for one relay account of concurrency 2, and still every job is
// submitted once and its result shown once; the account's limit holds across both. The cleanup, scheduled
// every second on both, runs on one of them at a time (a PostgreSQL advisory lock).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess, type LogLine } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, guildIdOnShard, shardOf, type FakeInteraction } from '../support/fake-discord.ts';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { ALICE, BOB, CAROL, DAVE, printLogsOnFailure, queueEnv, resultUploads, timesSubmitted, waitForResults } from './queue-support.ts';

let discord: FakeDiscord;
let relay: FakeTtApi;
let db: TestDatabase;
let other: { guildId: string; channelId: string };
const bots: BotProcess[] = [];
const dirs: string[] = [];
const startFailures: string[] = [];

beforeAll(async () => {
  discord = await FakeDiscord.start({ shards: 2 });
  // The fake's own guild is on shard 0 of 2; this one is on shard 1.
  other = discord.addGuild({ id: guildIdOnShard(1, 2), name: 'Shard One Server' });
  relay = await FakeTtApi.start({ stepMs: 200 });
  // Not migrated: the two bots started together both find it empty and must not collide migrating it.
  db = await createTestDatabase({ empty: true });
  const env = queueEnv(discord, db, [{ relay, concurrency: 2 }], { SHARD_COUNT: '2', CLEANUP_CRON: '* * * * * *' });
  const instance = async (shard: number) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), `mjbot-shard${shard}-`));
    dirs.push(dir);
    return startBot({ ...env, SHARD_IDS: String(shard), DATA_DIR: dir });
  };
  // Started together, as an orchestrator starts replicas: both find an empty database to migrate.
  const started = await Promise.allSettled([instance(0), instance(1)]);
  for (const [shard, result] of started.entries()) {
    if (result.status === 'fulfilled') bots[shard] = result.value;
    else {
      const text = String(result.reason);
      const cause = /"PostgresError","message":("(?:[^"\\]|\\.)*")/.exec(text)?.[1];
      startFailures.push(`shard ${shard}: ${cause ? (JSON.parse(cause) as string) : text.slice(0, 1500)}`);
      // Reported by the first test; a second start (the database is migrated by now) lets the others run.
      bots[shard] = await instance(shard);
    }
  }
});
afterAll(async () => {
  for (const bot of bots) await bot.stop();
  await db?.destroy();
  await relay?.close();
  await discord?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

printLogsOnFailure(() => bots);

describe('two instances, shards 0 and 1 of 2, on one database', () => {
  it('both start when started at the same moment on a fresh database', () => {
    expect(startFailures.join('\n')).toBe('');
  });

  it('each gets the interactions of its shard; every job is submitted once and delivered once', async () => {
    expect(shardOf(discord.guildId, 2)).toBe(0);
    expect(shardOf(other.guildId, 2)).toBe(1);
    expect(discord.sessions.map((s) => s.shard.join('/')).sort()).toEqual(['0/2', '1/2']);

    const users = [ALICE, BOB, CAROL, DAVE];
    const jobs: Array<{ prompt: string; guildId: string; interaction: Promise<FakeInteraction> }> = [];
    for (const [g, guildId] of [discord.guildId, other.guildId].entries()) {
      for (const [i, userId] of users.entries()) {
        const prompt = `shard ${g} job ${i + 1}`;
        jobs.push({ prompt, guildId, interaction: discord.slashCommand({ name: 'draw', options: { prompt }, userId, locale: 'en-US', guildId }) });
      }
    }
    const prompts = jobs.map((j) => j.prompt);
    await waitForResults(discord, prompts, 40_000);

    for (const job of jobs) {
      const interaction = await job.interaction;
      // Delivered to exactly one session: the one of the guild's shard.
      expect(interaction.deliveredTo.map((s) => s.shard[0]), job.prompt).toEqual([shardOf(job.guildId, 2)]);
      expect(timesSubmitted([relay], job.prompt), job.prompt).toBe(1);
      expect(resultUploads(discord, job.prompt), job.prompt).toHaveLength(1);
    }
    // One account, two dispatchers: its concurrency still holds.
    expect(relay.maxInFlight).toBeLessThanOrEqual(2);
    discord.assertNoViolations();
  }, 60_000);

  it('runs the scheduled cleanup on one instance at a time', async () => {
    // 100,000 finished jobs past the retention: the run that purges them takes a while, holding the lock.
    const database = await db.open();
    try {
      await database.db.execute(sql`
        insert into tasks (id, channel_id, user_id, action, prompt, prompt_upstream, provider, status, created_at, finished_at)
        select gen_random_uuid(), '1', '1', 'imagine', 'old', 'old', 'ttapi', 'succeeded', now() - interval '40 days', now() - interval '40 days'
        from generate_series(1, 100000)`);
    } finally {
      await database.close();
    }
    const since = Date.now();
    const purged = (l: LogLine) => l.msg === 'cleanup finished' && Number(l.deleted) > 0 && Number(l.time) >= since;
    const [a, b] = bots as [BotProcess, BotProcess];
    const winner = await Promise.race([a.waitForLog(purged, 20_000).then(() => a), b.waitForLog(purged, 20_000).then(() => b)]);
    const loser = winner === a ? b : a;
    const bigEnd = Number(winner.logs.find(purged)!.time);
    // A second on, every run that could have overlapped the purge has ended and been logged, on both.
    await Promise.all(bots.map((bot) => bot.waitForLog((l) => l.msg.startsWith('cleanup') && Number(l.time) > bigEnd + 1_000, 10_000)));

    const runs = (bot: BotProcess) =>
      bot.logs.filter((l) => l.msg === 'cleanup finished' && Number(l.time) >= since).map((l) => ({ start: Number(l.time) - Number(l.durationMs), end: Number(l.time), deleted: Number(l.deleted) }));
    const big = runs(winner).find((r) => r.deleted > 0)!;
    // Every job purged in that one run, and no other run deleted anything.
    expect([...runs(winner), ...runs(loser)].reduce((n, r) => n + r.deleted, 0)).toBe(100_000);
    expect(big.deleted).toBe(100_000);
    // While it ran, the other instance's turn was skipped, and none of the other's runs overlapped it.
    const skipped = loser.logs.filter((l) => l.msg === 'cleanup skipped: another instance is running it' && Number(l.time) >= big.start && Number(l.time) <= big.end);
    expect(skipped.length).toBeGreaterThan(0);
    for (const r of runs(loser)) expect(r.end <= big.start || r.start >= big.end, JSON.stringify({ r, big })).toBe(true);
  }, 45_000);
});

// The bot honours SHARD_IDS, so another shard's guild is not its business.
describe('one instance running only shard 0 of 2', () => {
  let solo: BotProcess | undefined;
  let fake: FakeDiscord | undefined;
  let soloDb: TestDatabase | undefined;
  afterAll(async () => {
    await solo?.stop();
    await soloDb?.destroy();
    await fake?.close();
  });
  printLogsOnFailure(() => [solo]);

  it('identifies as shard [0, 2] and hears only its own guilds', async () => {
    fake = await FakeDiscord.start({ shards: 2 });
    const away = fake.addGuild({ id: guildIdOnShard(1, 2) });
    soloDb = await createTestDatabase();
    const tt = await FakeTtApi.start({ stepMs: 100 });
    try {
      solo = await startBot(queueEnv(fake, soloDb, [{ relay: tt, concurrency: 2 }], { SHARD_COUNT: '2', SHARD_IDS: '0' }));
      expect(fake.sessions.map((s) => s.shard)).toEqual([[0, 2]]);
      const mine = await fake.slashCommand({ name: 'draw', options: { prompt: 'on my shard' }, userId: ALICE, locale: 'en-US' });
      await waitForResults(fake, ['on my shard'], 20_000);
      expect(mine.deliveredTo.map((s) => s.shard)).toEqual([[0, 2]]);
      const lost = await fake.slashCommand({ name: 'draw', options: { prompt: 'on the other shard' }, userId: ALICE, locale: 'en-US', guildId: away.guildId });
      expect(lost.deliveredTo).toEqual([]);
      expect(fake.violations.map((v) => v.path)).toEqual(['INTERACTION_CREATE']);
    } finally {
      await tt.close();
    }
  });
});

