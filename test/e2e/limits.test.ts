// Quotas and limits end to end, with /info: the real bot on a simulator account that runs one job at a time,
// so slowly (a minute per step) that every job after the first stays queued for the whole file. Limits are
// small through the environment (3 jobs per user per day, 2 waiting per user); admins change them per server
// with /draw-admin quota. Every refusal is private, in the user's language, with the limit, the use and (for
// daily quotas) when it resets. One bot for the whole file; the cases build on each other in order.
import { PermissionFlagsBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeBaidu } from '../support/fake-baidu.ts';
import { EVERYONE_PERMISSIONS, FakeDiscord, type FakeInteraction } from '../support/fake-discord.ts';
import { ALICE, BOB, simulatorEnv } from './support.ts';

let discord: FakeDiscord;
let baidu: FakeBaidu;
let db: TestDatabase;
let bot: BotProcess;

const CAROL = '100000000000000003';
const DAVE = '100000000000000004';
const ERIN = '100000000000000005';
const MOD = '100000000000000006';
const MANAGE_SERVER = (BigInt(EVERYONE_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString();
const EPHEMERAL = 64;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  baidu = await FakeBaidu.start({ dictionary: { 一只猫: 'A cat', 一只狗: 'A dog' } });
  db = await createTestDatabase();
  bot = await startBot(
    simulatorEnv(discord, db, 60_000, {
      UPSTREAM_ACCOUNTS: JSON.stringify([{ provider: 'simulator', concurrency: 1 }]),
      USER_DAILY_QUOTA: '3',
      USER_MAX_QUEUED: '2',
      CLEANUP_CRON: 'off',
      ...baidu.env,
    }),
  );
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await baidu?.close();
  await discord?.close();
});

const reset = () => Math.floor(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1) / 1000);

const draw = (prompt: string, userId: string, locale = 'en-US') => discord.slashCommand({ name: 'draw', options: { prompt }, userId, locale });
const info = (userId: string, locale = 'en-US') => discord.slashCommand({ name: 'info', userId, locale });
const quota = (options: Record<string, number> = {}) =>
  discord.slashCommand({ name: 'draw-admin', subcommand: 'quota', options, userId: MOD, locale: 'en-US', memberPermissions: MANAGE_SERVER });

/** Accepted: deferred publicly, and the job stored. */
async function accepted(i: FakeInteraction, prompt: string): Promise<void> {
  expect((await i.waitForCallback()).type).toBe(5);
  await bot.waitForLog((l) => l.msg === 'task accepted' && l.prompt === prompt);
}

/** Refused before anything was started: an immediate private reply. */
async function refused(i: FakeInteraction): Promise<string> {
  const callback = await i.waitForCallback();
  expect(callback).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
  return String(callback.data!.content);
}

/** An ephemeral immediate reply (/info), or a deferred ephemeral one edited with the text (/draw-admin). */
async function privately(i: FakeInteraction): Promise<string> {
  const message = await i.waitForMessage((m) => m.content.length > 0);
  expect(message.flags & EPHEMERAL).toBe(EPHEMERAL);
  return message.content;
}

describe('limits and /info', () => {
  it('/info starts empty: the quotas, no jobs, the account idle', async () => {
    expect(await privately(await info(ALICE))).toBe(
      [
        '📊 **Usage and queue**',
        `**You today (this server):** 0 of 3 jobs · resets <t:${reset()}:R>`,
        '**This server today:** 0 jobs · no daily limit',
        '**Your jobs now:** 0 waiting (at most 2), 0 in progress',
        '**Queue (all servers):** 0 waiting, 0 in progress',
        '**Video:** on · each video job counts as 8 jobs toward the daily quotas',
        '**Relay accounts**',
        '• `simulator`: ✅ working · 0/1 jobs in progress',
      ].join('\n'),
    );
  });

  it("a user's daily quota refuses their fourth /draw, with the limit, the use and the reset", async () => {
    await accepted(await draw('alice one', ALICE), 'alice one');
    await bot.waitForLog((l) => l.msg === 'task submitted' && l.prompt === 'alice one');
    await accepted(await draw('alice two', ALICE), 'alice two');
    await accepted(await draw('alice three', ALICE), 'alice three');
    expect(await refused(await draw('alice four', ALICE))).toBe(
      `You have reached your daily limit in this server: 3 of 3 jobs today. It resets <t:${reset()}:R> (midnight UTC).`,
    );
    expect(await refused(await draw('alice four', ALICE, 'zh-CN'))).toBe(
      `你今天在本服务器的任务额度已用完：已用 3 / 3 个，将于 <t:${reset()}:R>（UTC 零点）重置。`,
    );
  });

  it('/info shows the use, the waiting and running jobs, and the busy account, in either language', async () => {
    const lines = (await privately(await info(ALICE))).split('\n');
    expect(lines.slice(1)).toEqual([
      `**You today (this server):** 3 of 3 jobs · resets <t:${reset()}:R>`,
      '**This server today:** 3 jobs · no daily limit',
      '**Your jobs now:** 2 waiting (at most 2), 1 in progress',
      '**Queue (all servers):** 2 waiting, 1 in progress',
      '**Video:** on · each video job counts as 8 jobs toward the daily quotas',
      '**Relay accounts**',
      '• `simulator`: ✅ working · 1/1 jobs in progress',
    ]);
    expect(await privately(await info(ALICE, 'zh-CN'))).toBe(
      [
        '📊 **用量与队列**',
        `**你今天（本服务器）：**3 / 3 个任务 · <t:${reset()}:R>重置`,
        '**本服务器今天：**3 个任务 · 没有每日限制',
        '**你当前的任务：**2 个等待中（最多 2 个），1 个进行中',
        '**队列（所有服务器）：**2 个等待中，1 个进行中',
        '**视频：**已开启 · 每个视频任务按 8 个任务计入每日配额',
        '**中转账号**',
        '• `simulator`：✅ 正常 · 进行中 1/1 个任务',
      ].join('\n'),
    );
  });

  it('the queue limit refuses a third waiting job, before the daily quota is reached', async () => {
    await accepted(await draw('bob one', BOB, 'zh-CN'), 'bob one');
    await accepted(await draw('bob two', BOB, 'zh-CN'), 'bob two');
    expect(await refused(await draw('bob three', BOB, 'zh-CN'))).toBe('你的排队已满：2 / 2 个任务在等待。请等其中一个开始后再试。');
    expect(await refused(await draw('bob three', BOB))).toBe(
      'Your queue is full: 2 of 2 jobs waiting. Try again once one of them has started.',
    );
  });

  it('/draw-admin quota per-user overrides the default for the members of this server', async () => {
    expect(await privately(await quota({ 'per-user': 1 }))).toBe("✅ Each member's daily limit here is now 1 per UTC day.");
    await accepted(await draw('carol one', CAROL), 'carol one');
    expect(await refused(await draw('carol two', CAROL))).toBe(
      `You have reached your daily limit in this server: 1 of 1 jobs today. It resets <t:${reset()}:R> (midnight UTC).`,
    );
    expect(await privately(await quota())).toBe("This server has no daily limit. Jobs today: 6.\nEach member's daily limit here: 1 per UTC day.");

    expect(await privately(await quota({ 'per-user': 0 }))).toBe('✅ Members no longer have a daily limit of their own here.');
    await accepted(await draw('carol two', CAROL), 'carol two');
    expect((await privately(await info(CAROL))).split('\n')[1]).toBe('**You today (this server):** 2 jobs · no daily limit');
    // No daily limit any more, but Alice still has two jobs waiting: the queue limit holds.
    expect(await refused(await draw('alice four', ALICE))).toMatch(/^Your queue is full: 2 of 2 jobs waiting\./);
  });

  it("a server's daily quota refuses everyone once reached, and limit:0 goes back to the default", async () => {
    expect(await privately(await quota({ limit: 7 }))).toBe('✅ This server may now start 7 jobs per day (UTC). Used today: 7.');
    expect(await refused(await draw('dave one', DAVE))).toBe(
      `This server has reached its daily limit: 7 of 7 jobs today. It resets <t:${reset()}:R> (midnight UTC).`,
    );
    expect((await privately(await info(DAVE))).split('\n')[2]).toBe(`**This server today:** 7 of 7 jobs · resets <t:${reset()}:R>`);
    expect(await privately(await quota({ limit: 0 }))).toBe('✅ This server no longer has a daily limit. Jobs today: 7.');
    await accepted(await draw('dave one', DAVE), 'dave one');
  });

  it('two /draws at once that both pass the early check: the exact check stores one and tells the other privately', async () => {
    await quota({ 'per-user': 1 });
    // Chinese prompts wait for the translation after the early check and the public defer: hold it until both
    // have passed that check, so only the check made when the job is stored can tell them apart.
    const release = baidu.hold();
    const both = [await draw('一只猫', ERIN), await draw('一只狗', ERIN)];
    for (const i of both) expect((await i.waitForCallback()).type).toBe(5);
    release();

    const message = `You have reached your daily limit in this server: 1 of 1 jobs today. It resets <t:${reset()}:R> (midnight UTC).`;
    const refusal = await Promise.any(both.map((i) => i.waitForMessage((m) => m.content === message, 20_000).then(() => i)));
    await bot.waitForLog((l) => l.msg === 'task accepted' && l.userId === ERIN);
    // The refused one: its public "thinking…" reply is gone; only Erin's private note remains.
    await expect.poll(() => refusal.messages().map((m) => [m.content, m.flags & EPHEMERAL])).toEqual([[message, EPHEMERAL]]);
    expect((await privately(await info(ERIN))).split('\n')[1]).toBe(`**You today (this server):** 1 of 1 jobs · resets <t:${reset()}:R>`);
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
