// `npm run start:cluster`: the bot as several processes on one machine sharing the shards (src/cluster.ts), against
// the fake Discord and one PostgreSQL database. Four shards dealt to two processes; each guild's /draw is served
// by the session of its shard; a process that dies is started again; SIGTERM stops them all.
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launcherArgs, spawnBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, guildIdOnShard, shardOf } from '../support/fake-discord.ts';
import { printLogsOnFailure, waitForResults } from './queue-support.ts';
import { ALICE, simulatorEnv } from './support.ts';

const launcher = (processes: number) => ({ args: launcherArgs('src/cluster.ts', '--processes', String(processes)) });

/** The processes whose parent is `pid` (from /proc). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

describe('the launcher without PostgreSQL', () => {
  it('refuses to start several processes without DATABASE_URL (each would start its own embedded server), saying why', async () => {
    const discord = await FakeDiscord.start();
    try {
      const bot = spawnBot({ DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, DATA_DIR: '/nonexistent' }, launcher(2));
      expect(await bot.exited).toBe(1);
      expect(bot.stderr.join('')).toMatch(/DATABASE_URL is not set — several processes need a PostgreSQL database/);
    } finally {
      await discord.close();
    }
  });
});

describe('two processes, four shards, one database', () => {
  let discord: FakeDiscord;
  let db: TestDatabase;
  let bot: BotProcess;
  const guilds: string[] = [];

  beforeAll(async () => {
    discord = await FakeDiscord.start({ shards: 4 });
    for (let shard = 0; shard < 4; shard++) {
      guilds[shard] = shardOf(discord.guildId, 4) === shard ? discord.guildId : discord.addGuild({ id: guildIdOnShard(shard, 4) }).guildId;
    }
    db = await createTestDatabase();
    bot = spawnBot(simulatorEnv(discord, db, 100, { SHARD_COUNT: '4', LOG_LEVEL: 'info', DISCORD_GUILD_ID: '' }), launcher(2));
    await bot.waitForLog((l) => l.msg === 'all bot processes ready', 60_000);
    // Registered globally (four guilds): the fake needs them before the first /draw.
    await discord.waitForCommand('draw');
  }, 70_000);
  afterAll(async () => {
    await bot?.kill();
    await db?.destroy();
    await discord?.close();
  });
  printLogsOnFailure(() => [bot]);

  it('deals the shards to two bot processes, and each guild is served by its shard', async () => {
    expect(bot.logs.find((l) => l.msg === 'starting bot processes')).toMatchObject({ processes: 2, shardCount: 4, shards: [[0, 2], [1, 3]] });
    expect(children(bot.child.pid!)).toHaveLength(2);
    expect(discord.sessions.map((s) => s.shard.join('/')).sort()).toEqual(['0/4', '1/4', '2/4', '3/4']);
    const prompts = guilds.map((_, shard) => `cluster shard ${shard}`);
    const sent = await Promise.all(guilds.map((guildId, shard) => discord.slashCommand({ name: 'draw', options: { prompt: prompts[shard]! }, userId: ALICE, locale: 'en-US', guildId })));
    await waitForResults(discord, prompts, 30_000);
    sent.forEach((interaction, shard) => expect(interaction.deliveredTo.map((s) => s.shard[0])).toEqual([shard]));
  }, 40_000);

  it('starts a process that died again, and its shards come back', async () => {
    const [victim] = children(bot.child.pid!);
    process.kill(victim!, 'SIGKILL');
    await bot.waitForLog((l) => l.msg === 'a bot process exited; starting it again', 10_000);
    await expect.poll(() => children(bot.child.pid!).filter((pid) => pid !== victim).length, { timeout: 30_000 }).toBe(2);
    await expect.poll(() => bot.logs.filter((l) => l.msg === 'bot ready').length, { timeout: 30_000 }).toBe(3);
    await expect.poll(() => discord.sessions.map((s) => s.shard.join('/')).sort(), { timeout: 30_000 }).toEqual(['0/4', '1/4', '2/4', '3/4']);
    const prompts = guilds.map((_, shard) => `after restart ${shard}`);
    await Promise.all(guilds.map((guildId, shard) => discord.slashCommand({ name: 'draw', options: { prompt: prompts[shard]! }, userId: ALICE, locale: 'en-US', guildId })));
    await waitForResults(discord, prompts, 30_000);
  }, 70_000);

  it('stops every process on SIGTERM and exits 0', async () => {
    const pids = children(bot.child.pid!);
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    discord.assertNoViolations();
  }, 20_000);
});
