// /animate on the simulator, end to end: the user's uploaded picture → a batch of four clips of that picture
// (its colours read back from the decoded frames) with U1–U4 → a pick → Extend; an end image the clips fade
// into; loop (the last frame is the first); the job counted as a video job; and every bad input refused privately
// before anything is stored (not an image, loop with an end image, a banned word, video off in the server).
import { PermissionFlagsBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { EVERYONE_PERMISSIONS, FakeDiscord } from '../support/fake-discord.ts';
import { frameColour, near, pdf, png, refusal, slash, split } from './image-inputs.ts';
import { ALICE, BOB, buttonFaces, clipsOf, customIdOf, isVideoDelivered, simulatorEnv, privately } from './support.ts';

const MOD = '100000000000000009';
const MANAGE_SERVER = (BigInt(EVERYONE_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString();
const ORANGE: [number, number, number] = [200, 80, 40];
const BLUE: [number, number, number] = [30, 60, 220];

let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  db = await createTestDatabase();
  bot = await startBot(simulatorEnv(discord, db, 150));
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

const submitted = () => bot.logs.filter((l) => l.msg === 'task submitted').length;

describe('/animate on the simulator', () => {
  it('is registered with its zh-CN name and options', async () => {
    const command = await discord.waitForCommand('animate', { guildId: discord.guildId });
    expect(command.name_localizations).toEqual({ 'zh-CN': '动画' });
    const options = command.options as Array<{ name: string; type: number; required?: boolean; name_localizations?: Record<string, string> }>;
    expect(options.map((o) => [o.name, o.type, o.required ?? false])).toEqual([
      ['image', 11, true], ['prompt', 3, false], ['motion', 3, false], ['end-image', 11, false], ['loop', 5, false],
    ]);
    expect(options.map((o) => o.name_localizations?.['zh-CN'])).toEqual(['图片', '提示词', '运动', '尾帧图片', '循环']);
    discord.assertNoViolations();
  });

  it('animates the uploaded picture into four clips with U1–U4; a pick shows one clip with Extend, which extends it', async () => {
    const interaction = await slash(discord, 'animate', { image: await png('sunset.png', ...ORANGE), prompt: 'the sun slowly sets', motion: 'high' }, { userId: BOB });
    expect((await interaction.waitForCallback()).type).toBe(5);
    const batch = await interaction.waitForMessage(isVideoDelivered, 60_000);
    expect(batch.content).toBe(`**the sun slowly sets** - Animate by <@${BOB}>`);
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    for (const c of clips) {
      expect(c.seconds).toBeGreaterThan(1);
      // The clip shows the picture the user uploaded, not a drawing of its own.
      expect(near(await frameColour(c.bytes, 'first'), ORANGE)).toBe(true);
    }
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);

    const pick = await discord.clickButton({ message: batch, customId: customIdOf(batch, 'U3'), userId: ALICE });
    const picked = await pick.waitForMessage(isVideoDelivered, 60_000);
    expect(picked.content).toBe(`**the sun slowly sets** - Video #3 <@${ALICE}>`);
    const [one] = await clipsOf(picked);
    const [third] = await clipsOf({ ...batch, attachments: [batch.attachments[2]!] });
    expect(one!.bytes.equals(third!.bytes)).toBe(true);
    expect(buttonFaces(picked)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);

    const extend = await discord.clickButton({ message: picked, customId: customIdOf(picked, 'Extend (Low motion)'), userId: ALICE });
    const extended = await extend.waitForMessage(isVideoDelivered, 60_000);
    const [longer] = await clipsOf(extended);
    expect(longer!.seconds).toBeGreaterThan(one!.seconds + 0.5);
    expect(near(await frameColour(longer!.bytes, 'first'), ORANGE)).toBe(true);
    discord.assertNoViolations();
  });

  it('without a prompt names the file; an end image is the last frame of every clip', async () => {
    const interaction = await slash(discord, 'animate', { image: await png('start.png', ...ORANGE), 'end-image': await png('end.png', ...BLUE) });
    const batch = await interaction.waitForMessage(isVideoDelivered, 60_000);
    expect(batch.content).toBe(`**start.png** - Animate by <@${ALICE}>`);
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    for (const c of clips) {
      expect(near(await frameColour(c.bytes, 'first'), ORANGE)).toBe(true);
      expect(near(await frameColour(c.bytes, 'last'), BLUE)).toBe(true);
    }
  });

  it('loop ends each clip on its first frame; without loop the last frame has moved on', async () => {
    const picture = await split('halves.png', [230, 30, 30], [30, 30, 230]);
    const looped = await (await slash(discord, 'animate', { image: picture, motion: 'high', loop: true })).waitForMessage(isVideoDelivered, 60_000);
    const plain = await (await slash(discord, 'animate', { image: picture, motion: 'high' })).waitForMessage(isVideoDelivered, 60_000);
    const [loopClip] = await clipsOf(looped);
    const [plainClip] = await clipsOf(plain);
    expect(near(await frameColour(loopClip!.bytes, 'first'), await frameColour(loopClip!.bytes, 'last'), 6)).toBe(true);
    expect(near(await frameColour(plainClip!.bytes, 'first'), await frameColour(plainClip!.bytes, 'last'), 12)).toBe(false);
  });

  it('counts the job VIDEO_QUOTA_WEIGHT (8) jobs toward the daily quota', async () => {
    // Bob started one /animate and nothing else (the pick and Extend were Alice's).
    const lines = (await privately(await discord.slashCommand({ name: 'info', userId: BOB, locale: 'en-US' }))).split('\n');
    expect(lines[1]).toMatch(/^\*\*You today \(this server\):\*\* 8 of 100 jobs/);
  });

  it('refuses privately, in the user\'s language, what it cannot animate; nothing is stored', async () => {
    const before = submitted();
    expect(await refusal(await slash(discord, 'animate', { image: pdf() }))).toBe('**notes.pdf** is not an image I can use: attach PNG, JPEG, WebP or GIF files.');
    expect(await refusal(await slash(discord, 'animate', { image: await png('a.png'), 'end-image': pdf() }))).toMatch(/^\*\*notes\.pdf\*\* is not an image/);
    expect(await refusal(await slash(discord, '动画', { image: await png('a.png'), 'end-image': await png('b.png'), loop: true }, { locale: 'zh-CN' }))).toBe(
      '循环视频以首帧结束：循环和尾帧图片只能二选一。',
    );
    expect(await refusal(await slash(discord, 'animate', { image: await png('a.png'), prompt: 'a nude dancer' }))).toContain('nude');
    expect(await refusal(await slash(discord, 'animate', { image: await png('a.png'), prompt: 'waves --ar 0:0' }))).toMatch(/^`--ar 0:0` is not an aspect ratio/);
    // Nothing was stored: a job that follows is the only one submitted since.
    await (await slash(discord, 'animate', { image: await png('a.png') })).waitForMessage(isVideoDelivered, 60_000);
    expect(submitted()).toBe(before + 1);
    discord.assertNoViolations();
  });

  it('is refused where the server turned video off (/draw-admin video), and works again when it is on', async () => {
    const admin = (options: Record<string, boolean>) =>
      discord.slashCommand({ name: 'draw-admin', subcommand: 'video', options, userId: MOD, locale: 'en-US', memberPermissions: MANAGE_SERVER });
    expect(await privately(await admin({ enabled: false }))).toBe('Video (Animate, Extend, /animate) is off in this server: its buttons and /animate start nothing.');
    expect(await refusal(await slash(discord, 'animate', { image: await png('a.png') }))).toBe('Video is turned off on this server.');
    expect(await refusal(await slash(discord, '动画', { image: await png('a.png') }, { locale: 'zh-CN' }))).toBe('本服务器已关闭视频功能。');
    await privately(await admin({ enabled: true }));
    const again = await slash(discord, 'animate', { image: await png('a.png') });
    expect((await again.waitForCallback()).type).toBe(5);
    await again.waitForMessage(isVideoDelivered, 60_000);
  });
});
