// Video on the simulator, end to end: /draw → U1 → Animate (High motion) → four MP4 clips uploaded as files
// (read back by ffmpeg's decoder, not only their length) with U1–U4 → a pick → Extend → a longer clip, re-encoded
// when Discord refuses it as too large.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { PermissionFlagsBits } from 'discord.js';
import { EVERYONE_PERMISSIONS, FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { ALICE, BOB, SIMULATOR_AFTER_UPSCALE, buttonFaces, clipsOf, customIdOf, isFinal, isVideoDelivered, simulatorEnv, privately } from './support.ts';

const MOD = '100000000000000009';
const MANAGE_SERVER = (BigInt(EVERYONE_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString();
const EPHEMERAL = 64;

let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  db = await createTestDatabase();
  bot = await startBot(simulatorEnv(discord, db, 500));
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

describe('video on the simulator', () => {
  let upscaled: SeenMessage;
  let batch: SeenMessage;
  let picked: SeenMessage;

  it('an upscale offers Animate (Low motion) / Animate (High motion)', async () => {
    const draw = await discord.slashCommand({ name: 'draw', options: { prompt: 'a lighthouse at dusk' }, userId: ALICE, locale: 'en-US' });
    const grid = await draw.waitForMessage(isFinal, 20_000);
    const u1 = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U1'), userId: ALICE });
    upscaled = await u1.waitForMessage(isFinal, 20_000);
    expect(buttonFaces(upscaled)).toEqual(SIMULATOR_AFTER_UPSCALE);
  });

  it('Animate (High motion) uploads a batch of four playable clips with U1–U4', async () => {
    const click = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Animate (High motion)'), userId: BOB });
    expect((await click.waitForCallback()).type).toBe(5);
    batch = await click.waitForMessage(isVideoDelivered, 60_000);
    expect(batch.content).toBe('**a lighthouse at dusk** - Animate by <@100000000000000002>');
    // Progress as for images, on the way.
    expect(click.edits().some((e) => /\(\d+%\)$/.test(e.message.content))).toBe(true);
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    for (const c of clips) expect(c.seconds).toBeGreaterThan(1);
    // Four different clips, not one copied.
    expect(new Set(clips.map((c) => c.bytes.toString('base64'))).size).toBe(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    discord.assertNoViolations();
  });

  it('a pick shows that one clip with Extend (Low/High motion)', async () => {
    const click = await discord.clickButton({ message: batch, customId: customIdOf(batch, 'U2'), userId: ALICE });
    picked = await click.waitForMessage(isVideoDelivered, 60_000);
    expect(picked.content).toBe('**a lighthouse at dusk** - Video #2 <@100000000000000001>');
    const [clip] = await clipsOf(picked);
    expect(picked.attachments).toHaveLength(1);
    const [original] = await clipsOf({ ...batch, attachments: [batch.attachments[1]!] });
    expect(clip!.bytes.equals(original!.bytes)).toBe(true);
    expect(buttonFaces(picked)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);
  });

  it('Extend makes a longer clip, re-encoded smaller when Discord refuses it as too large', async () => {
    const [before] = await clipsOf(picked);
    // A server whose limit dropped below the clip after the click told 10 MiB: Discord answers 413 (the fake's limit
    // is read per request). The limit a click tells is fitted without a 413 (test/e2e/faults.test.ts).
    const limit = Math.floor(before!.bytes.length * 0.9);
    Object.assign(discord, { uploadLimitBytes: limit, advertisedUploadLimitBytes: 10 * 1024 * 1024 });
    try {
      const click = await discord.clickButton({ message: picked, customId: customIdOf(picked, 'Extend (High motion)'), userId: ALICE });
      const extended = await click.waitForMessage(isVideoDelivered, 60_000);
      expect(extended.content).toBe('**a lighthouse at dusk** - Extend by <@100000000000000001>');
      const [after] = await clipsOf(extended);
      expect(after!.seconds).toBeGreaterThan(before!.seconds + 0.5);
      expect(after!.bytes.length).toBeLessThanOrEqual(limit);
      expect(bot.logs.some((l) => l.msg === 'Discord refused the clips as too large; sending them smaller')).toBe(true);
      expect(buttonFaces(extended)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);
    } finally {
      Object.assign(discord, { uploadLimitBytes: 10 * 1024 * 1024, advertisedUploadLimitBytes: undefined });
    }
  });

  it('speaks Chinese to a zh-CN user', async () => {
    const click = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Animate (Low motion)'), userId: ALICE, locale: 'zh-CN' });
    const done = await click.waitForMessage(isVideoDelivered, 60_000);
    expect(done.content).toBe('**a lighthouse at dusk** - <@100000000000000001> 的动画');
    expect(done.attachments).toHaveLength(4);
  });

  it('Manual (Low motion) opens a form prefilled with the prompt; a bad motion prompt is refused, a good one animates', async () => {
    const opened = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Manual (Low motion)'), userId: ALICE });
    const modal = await opened.waitForCallback();
    expect(modal.type).toBe(9);
    expect(JSON.stringify(modal.data)).toContain('"value":"a lighthouse at dusk"');
    const bad = await discord.submitModal({ from: opened, values: { motion: 'waves --ar 0:0' }, userId: ALICE });
    expect((await bad.waitForCallback()).data).toMatchObject({ flags: EPHEMERAL, content: expect.stringMatching(/^`--ar 0:0` is not an aspect ratio/) });
    const good = await discord.submitModal({ from: opened, values: { motion: 'waves crash on the rocks' }, userId: ALICE });
    const done = await good.waitForMessage(isVideoDelivered, 60_000);
    expect(done.content).toBe('**waves crash on the rocks** - Animate by <@100000000000000001>');
    expect(await clipsOf(done)).toHaveLength(4);
    expect(buttonFaces(done)).toEqual([['U1', 'U2', 'U3', 'U4']]);
  });

  it('counts each video job VIDEO_QUOTA_WEIGHT (8) jobs toward the daily quota, and /info says so', async () => {
    // Bob started one video job (Animate) and nothing else.
    const lines = (await privately(await discord.slashCommand({ name: 'info', userId: BOB, locale: 'en-US' }))).split('\n');
    expect(lines[1]).toMatch(/^\*\*You today \(this server\):\*\* 8 of 100 jobs/);
    expect(lines).toContain('**Video:** on · each video job counts as 8 jobs toward the daily quotas');
  });

  it('/draw-admin video enabled:false turns Animate and Extend off in the server, privately refused; on again', async () => {
    const admin = (options: Record<string, boolean>) =>
      discord.slashCommand({ name: 'draw-admin', subcommand: 'video', options, userId: MOD, locale: 'en-US', memberPermissions: MANAGE_SERVER });
    expect(await privately(await admin({ enabled: false }))).toBe('Video (Animate, Extend, /animate) is off in this server: its buttons and /animate start nothing.');
    const click = await discord.clickButton({ message: picked, customId: customIdOf(picked, 'Extend (High motion)'), userId: ALICE });
    const callback = await click.waitForCallback();
    expect(callback).toMatchObject({ type: 4, data: { flags: EPHEMERAL, content: 'Video is turned off on this server.' } });
    const zh = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Animate (Low motion)'), userId: ALICE, locale: 'zh-CN' });
    expect((await zh.waitForCallback()).data).toMatchObject({ content: '本服务器已关闭视频功能。' });
    expect((await privately(await discord.slashCommand({ name: 'info', userId: ALICE, locale: 'en-US' }))).split('\n')).toContain('**Video:** off in this server');
    expect(await privately(await admin({}))).toBe('Video (Animate, Extend, /animate) is off in this server: its buttons and /animate start nothing.');
    expect(await privately(await admin({ enabled: true }))).toBe('Video (Animate, Extend) is on in this server. Each video job counts as 8 jobs toward the daily quotas.');
    const again = await discord.clickButton({ message: picked, customId: customIdOf(picked, 'Extend (High motion)'), userId: ALICE });
    expect((await again.waitForCallback()).type).toBe(5);
    await again.waitForMessage(isVideoDelivered, 60_000);
  });
});
