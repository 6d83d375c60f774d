// The /draw session end to end: the real bot process against the fake Discord, simulator upstream.
// One bot serves every case here; the fake validates every request body against Discord's schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { SIMULATOR_AFTER_UPSCALE as AFTER_UPSCALE, ALICE, BOB, GRID, buttonFaces, customIdOf, imageInfo, isFinal, simulatorEnv } from './support.ts';

let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess;
let env: Record<string, string>;


beforeAll(async () => {
  discord = await FakeDiscord.start();
  db = await createTestDatabase();
  // Steps of 400 ms: the job runs 1.6 s, so a progress edit fits after the 1 s throttle even on a busy machine.
  env = simulatorEnv(discord, db, 400);
  bot = await startBot(env);
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

const submittedCount = () => bot.logs.filter((l) => l.msg === 'task submitted').length;
const submittedPrompts = () => bot.logs.filter((l) => l.msg === 'task submitted').map((l) => l.prompt);

async function draw(prompt: string, opts: { userId?: string; locale?: string } = {}) {
  return discord.slashCommand({ name: 'draw', options: { prompt }, userId: opts.userId ?? ALICE, locale: opts.locale ?? 'en-US' });
}

describe('/draw on the simulator', () => {
  it('registers /draw in the guild with its zh-CN localizations', async () => {
    const cmd = await discord.waitForCommand('draw', { guildId: discord.guildId });
    expect(cmd.name_localizations).toEqual({ 'zh-CN': '画图' });
    expect(cmd.description_localizations).toMatchObject({ 'zh-CN': expect.stringContaining('图片') });
    expect(cmd.options).toEqual([
      expect.objectContaining({ name: 'prompt', type: 3, required: true, name_localizations: { 'zh-CN': '提示词' } }),
      // Optional image prompts (see images.test.ts).
      expect.objectContaining({ name: 'image', type: 11, name_localizations: { 'zh-CN': '图片' } }),
      ...[2, 3, 4, 5].map((n) => expect.objectContaining({ name: `image${n}`, type: 11, name_localizations: { 'zh-CN': `图片${n}` } })),
      // Optional reference images (see references.test.ts).
      ...[['sref', '风格参考'], ['oref', '全能参考'], ['cref', '角色参考']].map(([name, zh]) => expect.objectContaining({ name, type: 11, name_localizations: { 'zh-CN': zh } })),
    ]);
    discord.assertNoViolations();
  });

  let grid: Awaited<ReturnType<typeof finishedMessage>>;
  async function finishedMessage(interaction: Awaited<ReturnType<typeof draw>>) {
    return interaction.waitForMessage(isFinal, 20_000);
  }

  it('defers, shows progress with a preview, then uploads the grid with U1–U4 · 🔄 · V1–V4', async () => {
    const interaction = await draw('a cute cat --ar 16:9');
    const callback = await interaction.waitForCallback();
    expect(callback.type).toBe(5);
    grid = await finishedMessage(interaction);

    const progress = interaction.edits().filter((e) => /\(\d+%\)$/.test(e.message.content));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]!.message.content).toMatch(/^\*\*a cute cat --ar 16:9\*\* - <@100000000000000001> \(\d+%\)$/);
    expect(progress.some((e) => e.message.attachments.length === 1 && e.message.attachments[0]!.filename.startsWith('preview'))).toBe(true);
    // Throttled: progress edits at least a second apart.
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(950);

    expect(grid.content).toBe('**a cute cat --ar 16:9** - <@100000000000000001>');
    expect(buttonFaces(grid)).toEqual(GRID);
    const image = await imageInfo(grid);
    expect(image.format).toBe('png');
    expect(image.width / image.height).toBeCloseTo(16 / 9, 1);
    expect(grid.attachments).toHaveLength(1);
  });

  let upscaled: Awaited<ReturnType<typeof finishedMessage>>;
  it('U2, clicked by someone else, posts image #2 as theirs with the post-upscale tools', async () => {
    const click = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U2'), userId: BOB });
    expect((await click.waitForCallback()).type).toBe(5);
    upscaled = await finishedMessage(click);
    expect(upscaled.content).toBe('**a cute cat --ar 16:9** - Image #2 <@100000000000000002>');
    expect(buttonFaces(upscaled)).toEqual(AFTER_UPSCALE);
    const image = await imageInfo(upscaled);
    expect(image.width).toBeGreaterThan(image.height);
    // The grid itself is left as it was.
    expect(discord.message(grid.id)!.components).toEqual(grid.components);
  });

  it('Zoom Out 2x posts a new grid, and so on', async () => {
    const click = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Zoom Out 2x'), userId: ALICE });
    const zoomed = await finishedMessage(click);
    expect(zoomed.content).toBe('**a cute cat --ar 16:9** - Zoom Out by <@100000000000000001>');
    expect(buttonFaces(zoomed)).toEqual(GRID);
    const v3 = await discord.clickButton({ message: zoomed, customId: customIdOf(zoomed, 'V3'), userId: BOB });
    const varied = await finishedMessage(v3);
    expect(varied.content).toBe('**a cute cat --ar 16:9** - Variations by <@100000000000000002>');
    expect(buttonFaces(varied)).toEqual(GRID);
    const [a, b] = await Promise.all([imageInfo(zoomed), imageInfo(varied)]);
    expect(a.bytes.equals(b.bytes)).toBe(false);
  });

  it('answers a zh-CN user in Chinese, buttons included', async () => {
    const interaction = await draw('a red fox', { locale: 'zh-CN' });
    const result = await finishedMessage(interaction);
    expect(interaction.edits().some((e) => /（\d+%）$/.test(e.message.content))).toBe(true);
    const u1 = await discord.clickButton({ message: result, customId: customIdOf(result, 'U1'), userId: BOB, locale: 'zh-CN' });
    const single = await finishedMessage(u1);
    expect(single.content).toBe('**a red fox** - 第 1 张 <@100000000000000002>');
    expect(buttonFaces(single)[0]).toEqual(['强烈变化', '细微变化']);
  });

  it.each([
    ['en-US', '   ', /^Please describe the image you want/],
    ['zh-CN', '   ', /^请描述你想要的图片/],
    ['en-US', 'x'.repeat(1501), /^Your prompt is 1501 characters long; the limit is 1500\./],
    ['zh-CN', 'x'.repeat(1501), /^你的提示词有 1501 个字符，上限是 1500。/],
    ['en-US', 'a cat --ar 0:0', /^`--ar 0:0` is not an aspect ratio: use two whole numbers above 0, like `--ar 16:9`\. Nothing was started\.$/],
    ['en-US', 'a cat --v 99', /^`--v 99` is not a value Midjourney accepts: use one of 1, 2, 3, 4, 5, 5\.0, 5\.1, 5\.2, 6, 6\.0, 6\.1, 7, 8, 8\.0, 8\.1\./],
    ['zh-CN', 'a cat --chaos 101', /^`--chaos 101` 超出范围：请使用 0 到 100 之间的数字。/],
    ['en-US', 'a cat --sizzle 3', /^`--sizzle` is not a Midjourney parameter I know/],
  ])('refuses a bad prompt privately in %s and starts nothing', async (locale, prompt, message) => {
    const before = submittedCount();
    // `unchecked`: a modified client or a raw API call can send what the Discord app would not.
    const interaction = await discord.slashCommand({ name: 'draw', options: { prompt }, userId: ALICE, locale, unchecked: true });
    const callback = await interaction.waitForCallback();
    expect(callback.type).toBe(4);
    expect(callback.data).toMatchObject({ flags: 64, content: expect.stringMatching(message) });
    await new Promise((r) => setTimeout(r, 400)); // several engine ticks
    expect(submittedCount()).toBe(before);
    expect(interaction.edits()).toEqual([]);
  });

  it('answers an unknown or forged button with a private, localized message', async () => {
    const forged = await discord.clickButton({ message: grid, customId: 'mj:00000000-0000-4000-8000-000000000000:upscale:1', locale: 'zh-CN', unchecked: true });
    expect((await forged.waitForCallback()).data).toMatchObject({ flags: 64, content: expect.stringMatching(/已过期/) });
    const junk = await discord.clickButton({ message: grid, customId: 'MJ::JOB::upsample::1::abc', unchecked: true });
    expect((await junk.waitForCallback()).data).toMatchObject({ flags: 64, content: expect.stringMatching(/does not belong/) });
  });

  it('posts the result to the channel, mentioning the user, when the interaction token has expired', async () => {
    const interaction = await draw('a slow owl');
    await interaction.waitForCallback();
    interaction.expireToken();
    const posted = await discord.waitForMessage((m) => m.content.startsWith('**a slow owl**') && m.components.length > 0, 20_000);
    expect(posted.content).toBe('**a slow owl** - <@100000000000000001>');
    expect(posted.id).not.toBe(interaction.original()?.id);
    const call = await discord.waitForCall((c) => c.method === 'POST' && c.path === `/channels/${discord.channelId}/messages`);
    expect(call.headers.authorization).toBe(`Bot ${discord.token}`);
    expect(call.body).toMatchObject({ allowed_mentions: { users: [ALICE] } });
  });

  it('rides out a Discord 429 on an edit (Retry-After honoured) and still delivers', async () => {
    discord.inject({ method: 'PATCH', path: /^\/webhooks\/.*\/messages\/@original$/, status: 429, retryAfter: 0.5, times: 2 });
    const interaction = await draw('a patient heron');
    const result = await interaction.waitForMessage(isFinal, 20_000);
    expect(result.content).toBe('**a patient heron** - <@100000000000000001>');
    const limited = discord.calls.filter((c) => c.injected && c.status === 429);
    expect(limited).toHaveLength(2);
  });

  it('rides out a 429 and a 502 on the deferral itself (its lean path retries as discord.js would) and delivers once', async () => {
    discord.inject({ method: 'POST', path: /\/callback$/, status: 429, retryAfter: 0.3, times: 1 });
    discord.inject({ method: 'POST', path: /\/callback$/, status: 502, times: 1 });
    const interaction = await draw('a stubborn kestrel');
    expect((await interaction.waitForCallback()).type).toBe(5);
    const result = await interaction.waitForMessage(isFinal, 20_000);
    expect(result.content).toBe('**a stubborn kestrel** - <@100000000000000001>');
    const tries = discord.calls.filter((c) => c.method === 'POST' && /\/callback$/.test(c.path) && c.injected);
    expect(tries.map((c) => c.status)).toEqual([429, 502]);
  });

  it('does not start a job whose interaction Discord no longer knows (10062 on defer)', async () => {
    const before = submittedCount();
    discord.inject({ method: 'POST', path: /\/callback$/, status: 404, code: 10062, times: 1 });
    const interaction = await draw('a vanished wren');
    await bot.waitForLog((l) => l.msg === 'interaction failed' && JSON.stringify(l).includes('10062'));
    await new Promise((r) => setTimeout(r, 400));
    expect(submittedCount()).toBe(before);
    expect(interaction.messages()).toEqual([]);
  });

  it('without Baidu credentials, sends a Chinese prompt as typed (parameters normalised) and says so privately', async () => {
    expect(bot.logs.some((l) => l.level === 40 && /BAIDU_APP_ID and BAIDU_SECRET are not set/.test(l.msg))).toBe(true);
    const interaction = await draw('一只可爱的猫 --ar 16：9', { locale: 'zh-CN' });
    expect((await interaction.waitForCallback()).type).toBe(5);
    const notice = await interaction.waitForMessage((m) => (m.flags & 64) !== 0);
    expect(notice.content).toMatch(/^你的提示词包含中文，但本机器人未配置翻译/);
    const result = await finishedMessage(interaction);
    expect(result.content).toBe('**一只可爱的猫 --ar 16：9** - <@100000000000000001>\n🌐 实际发送：一只可爱的猫 --ar 16:9');
    expect(submittedPrompts()).toContain('一只可爱的猫 --ar 16:9');
  });

  it('keeps buttons working after a restart', async () => {
    await bot.stop();
    expect(bot.logs.some((l) => l.msg === 'shutting down')).toBe(true);
    bot = await startBot(env);
    const click = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V1'), userId: BOB });
    const varied = await finishedMessage(click);
    expect(varied.content).toBe('**a cute cat --ar 16:9** - Variations by <@100000000000000002>');
    expect(buttonFaces(varied)).toEqual(GRID);
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
