// /draw-admin end to end: the real bot process against the fake Discord. Who may use it, what each
// subcommand answers (always privately, in the admin's language), and what bans, quotas and purges do to
// /draw and to buttons. One bot serves every case; the cases build on each other in order.
import { PermissionFlagsBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { EVERYONE_PERMISSIONS, FakeDiscord, type FakeInteraction, type SeenMessage } from '../support/fake-discord.ts';
import { ALICE, BOB, customIdOf, isDelivered, simulatorEnv } from './support.ts';

let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess;

const MOD = '100000000000000003';
const OWNER = '100000000000000004';
const MANAGE_SERVER = (BigInt(EVERYONE_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString();
const EPHEMERAL = 64;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  db = await createTestDatabase();
  bot = await startBot(simulatorEnv(discord, db, 150, { BOT_OWNER_IDS: `${OWNER}` }));
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

type Options = Record<string, string | number | boolean>;

/** /draw-admin as a server admin (Manage Server) unless told otherwise. */
function admin(subcommand: string, options: Options = {}, as: { userId?: string; locale?: string; memberPermissions?: string; unchecked?: boolean } = {}) {
  return discord.slashCommand({
    name: 'draw-admin',
    subcommand,
    options,
    userId: as.userId ?? MOD,
    locale: as.locale ?? 'en-US',
    memberPermissions: as.memberPermissions ?? MANAGE_SERVER,
    unchecked: as.unchecked,
  });
}

/** The private answer of a /draw-admin call: deferred ephemerally, then edited with the text. */
async function privateAnswer(interaction: FakeInteraction): Promise<string> {
  const callback = await interaction.waitForCallback();
  expect(callback).toMatchObject({ type: 5, data: { flags: EPHEMERAL } });
  const message = await interaction.waitForMessage((m) => m.content.length > 0);
  expect(message.flags & EPHEMERAL).toBe(EPHEMERAL);
  return message.content;
}

/** A refusal: an immediate private reply. */
async function refusal(interaction: FakeInteraction): Promise<string> {
  const callback = await interaction.waitForCallback();
  expect(callback).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
  return String(callback.data!.content);
}

const draw = (prompt: string, userId = ALICE, locale = 'en-US') => discord.slashCommand({ name: 'draw', options: { prompt }, userId, locale });
const finished = (i: FakeInteraction) => i.waitForMessage(isDelivered, 20_000);
/** Accepted: deferred, and stored (the job's first progress edit comes from the stored task). */
async function accepted(i: FakeInteraction): Promise<void> {
  expect((await i.waitForCallback()).type).toBe(5);
  await i.waitForMessage((m) => m.content.length > 0, 20_000);
}

describe('/draw-admin', () => {
  it('is registered for Manage Server only, localized, with its subcommands', async () => {
    const cmd = await discord.waitForCommand('draw-admin', { guildId: discord.guildId });
    expect(cmd.default_member_permissions).toBe(String(PermissionFlagsBits.ManageGuild));
    expect(cmd.name_localizations).toEqual({ 'zh-CN': '画图管理' });
    expect(cmd.options!.map((o) => [o.name, o.type, (o.name_localizations as Record<string, string>)['zh-CN']])).toEqual([
      ['purge', 1, '清理'],
      ['stats', 1, '统计'],
      ['ban', 1, '封禁'],
      ['unban', 1, '解封'],
      ['quota', 1, '配额'],
      ['video', 1, '视频'],
    ]);
  });

  it('refuses a member without Manage Server, in their language, and changes nothing', async () => {
    // Discord hides the command from them, but a server admin can re-allow it for anyone: the bot checks too.
    const asMember = { userId: ALICE, memberPermissions: EVERYONE_PERMISSIONS, unchecked: true };
    expect(await refusal(await admin('quota', { limit: 1 }, asMember))).toBe('You need the **Manage Server** permission to use this command.');
    expect(await refusal(await admin('ban', { user: BOB }, { ...asMember, locale: 'zh-CN' }))).toBe('你需要 **管理服务器** 权限才能使用此命令。');
    expect(await refusal(await admin('purge', { days: 0 }, asMember))).toMatch(/Manage Server/);
    expect(await privateAnswer(await admin('quota'))).toBe("This server has no daily limit. Jobs today: 0.\nEach member's daily limit here: 100 per UTC day (the bot's default).");
  });

  it('keeps every-server actions for the bot owners', async () => {
    expect(await refusal(await admin('stats', { 'all-servers': true }))).toBe("Only the bot's owners can act on all servers.");
    expect(await refusal(await admin('purge', { 'all-servers': true, 'dry-run': true }, { locale: 'zh-CN' }))).toBe('只有机器人所有者才能对所有服务器进行操作。');
    // An owner needs no server permission at all.
    const asOwner = { userId: OWNER, memberPermissions: EVERYONE_PERMISSIONS, unchecked: true };
    expect(await privateAnswer(await admin('stats', { 'all-servers': true }, asOwner))).toMatch(/^📊 \*\*Jobs on all servers\*\*/);
  });

  it('a daily quota refuses /draw beyond it, saying the limit and when it resets', async () => {
    expect(await privateAnswer(await admin('quota', { limit: 2 }))).toBe('✅ This server may now start 2 jobs per day (UTC). Used today: 0.');
    for (const prompt of ['quota one', 'quota two']) await accepted(await draw(prompt));
    const refused = await refusal(await draw('quota three'));
    const reset = Math.floor(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1) / 1000);
    expect(refused).toBe(`This server has reached its daily limit: 2 of 2 jobs today. It resets <t:${reset}:R> (midnight UTC).`);
    expect(await refusal(await draw('quota three', BOB, 'zh-CN'))).toMatch(/^本服务器今天的任务额度已用完：已用 2 \/ 2 个，将于 <t:\d+:R>/);
    expect(await privateAnswer(await admin('quota'))).toMatch(/^This server may start 2 jobs per day \(UTC\)\. Used today: 2\. Resets <t:\d+:R>\.\nEach member's daily limit here: 100 per UTC day \(the bot's default\)\.$/);
    expect(await privateAnswer(await admin('quota', { limit: 0 }))).toBe('✅ This server no longer has a daily limit. Jobs today: 2.');
    await accepted(await draw('quota lifted'));
  });

  let grid: SeenMessage;
  it('a ban stops /draw and buttons for that user until it is lifted', async () => {
    grid = await finished(await draw('a banned cat'));
    expect(await privateAnswer(await admin('ban', { user: BOB, reason: 'spam' }))).toBe(`🚫 <@${BOB}> can no longer start jobs in this server.`);
    expect(await refusal(await draw('let me draw', BOB))).toBe('You are not allowed to start drawing jobs here.');
    const click = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U1'), userId: BOB, locale: 'zh-CN' });
    expect(await refusal(click)).toBe('你不能在这里发起画图任务。');
    // Others are not affected.
    await accepted(await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U1'), userId: ALICE }));
    expect(await privateAnswer(await admin('unban', { user: BOB }))).toBe(`✅ <@${BOB}> can start jobs in this server again.`);
    await accepted(await draw('drawing again', BOB));
  });

  it('an owner bans on every server; a server admin cannot lift that', async () => {
    const asOwner = { userId: OWNER, memberPermissions: EVERYONE_PERMISSIONS, unchecked: true };
    expect(await privateAnswer(await admin('ban', { user: BOB, 'all-servers': true }, asOwner))).toBe(`🚫 <@${BOB}> can no longer start jobs on all servers.`);
    expect(await refusal(await draw('again?', BOB))).toMatch(/not allowed/);
    expect(await privateAnswer(await admin('unban', { user: BOB }))).toBe(`<@${BOB}> was not banned in this server.`);
    expect(await refusal(await admin('unban', { user: BOB, 'all-servers': true }))).toMatch(/owners/);
    expect(await privateAnswer(await admin('unban', { user: BOB, 'all-servers': true }, asOwner))).toBe(`✅ <@${BOB}> can start jobs on all servers again.`);
  });

  it('stats shows jobs by status, the queue and each relay account', async () => {
    // Let every job started so far finish, so the numbers are settled.
    await bot.waitForLog(() => bot.logs.filter((l) => l.msg === 'result delivered').length >= 6, 20_000);
    const text = await privateAnswer(await admin('stats'));
    const lines = text.split('\n');
    expect(lines[0]).toBe('📊 **Jobs in this server** (kept for 30 days)');
    expect(lines[1]).toBe('Queued 0 · Submitted 0 · Running 0 · Succeeded 6 · Failed 0 · Cancelled 0');
    expect(lines[2]).toBe('**Queue (all servers):** 0 waiting, 0 in progress');
    expect(lines[3]).toBe('**Relay accounts**');
    expect(lines[4]).toMatch(/^• `simulator`: 100% succeeded \(6 of 6\), median time \d+\.\d s$/);
    const zh = await privateAnswer(await admin('stats', {}, { locale: 'zh-CN' }));
    expect(zh.split('\n')[1]).toBe('排队 0 · 已提交 0 · 进行中 0 · 成功 6 · 失败 0 · 已取消 0');
  });

  it('purge: a dry run changes nothing; a purge deletes, and the purged job’s buttons answer “expired”', async () => {
    const dry = await privateAnswer(await admin('purge', { days: 0, 'dry-run': true }));
    expect(dry).toMatch(/^🔍 Dry run\. Finished jobs in this server created before <t:\d+:f>: \*\*6\*\* would be deleted\. Nothing was changed\.$/);
    // Still there: its buttons still start jobs.
    const v1 = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V1'), userId: ALICE });
    await finished(v1);
    await bot.waitForLog(() => bot.logs.filter((l) => l.msg === 'result delivered').length >= 7, 20_000);

    const done = await privateAnswer(await admin('purge', { days: 0 }));
    expect(done).toMatch(/^🧹 Finished jobs in this server created before <t:\d+:f>: \*\*7\*\* deleted \(batches: 1\)\.$/);
    // The log line travels by another pipe than the reply: wait for it.
    await bot.waitForLog((l) => l.msg === 'purge finished' && l.dryRun === false);
    expect(bot.logs.filter((l) => l.msg === 'purge finished').map(({ by, guildId, days, dryRun, count }) => ({ by, guildId, days, dryRun, count }))).toEqual([
      { by: MOD, guildId: discord.guildId, days: 0, dryRun: true, count: 6 },
      { by: MOD, guildId: discord.guildId, days: 0, dryRun: false, count: 7 },
    ]);

    const en = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U3'), userId: ALICE });
    expect(await refusal(en)).toBe('This job has expired or was removed. Start a new one with /draw.');
    const zh = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V2'), userId: BOB, locale: 'zh-CN' });
    expect(await refusal(zh)).toBe('这个任务已过期或已被删除。请用 /draw 重新开始。');
    expect(await privateAnswer(await admin('stats'))).toMatch(/Succeeded 0 · Failed 0/);
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
