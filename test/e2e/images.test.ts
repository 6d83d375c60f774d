// Image inputs on the simulator end to end: /draw with attached image prompts, /blend, /describe and its
// 1️⃣–4️⃣ buttons, and every bad input refused privately before anything is stored. One bot for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { imageOptions, oversized, pdf, png, refusal, slash, suggestedPrompts } from './image-inputs.ts';
import { ALICE, BOB, GRID, buttonFaces, customIdOf, imageInfo, isFinal, simulatorEnv } from './support.ts';

let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess;
let env: Record<string, string>;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  db = await createTestDatabase();
  env = simulatorEnv(discord, db, 150);
  bot = await startBot(env);
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

const submitted = () => bot.logs.filter((l) => l.msg === 'task submitted').length;

describe('image inputs on the simulator', () => {
  it('registers /blend and /describe with zh-CN localizations, and image options on /draw', async () => {
    const blend = await discord.waitForCommand('blend', { guildId: discord.guildId });
    expect(blend.name_localizations).toEqual({ 'zh-CN': '混合' });
    expect((blend.options as Array<{ name: string; type: number; required?: boolean }>).map((o) => [o.name, o.type, o.required ?? false])).toEqual([
      ['image1', 11, true], ['image2', 11, true], ['dimensions', 3, false], ['image3', 11, false], ['image4', 11, false], ['image5', 11, false],
    ]);
    const describeCmd = await discord.waitForCommand('describe', { guildId: discord.guildId });
    expect(describeCmd.name_localizations).toEqual({ 'zh-CN': '描述' });
    const draw = await discord.waitForCommand('draw', { guildId: discord.guildId });
    expect((draw.options as Array<{ name: string }>).map((o) => o.name)).toEqual(['prompt', 'image', 'image2', 'image3', 'image4', 'image5', 'sref', 'oref', 'cref']);
    discord.assertNoViolations();
  });

  it('/draw takes attached images as image prompts, with --iw kept', async () => {
    const interaction = await slash(discord, 'draw', { prompt: 'a castle in the clouds --iw 1.5', ...imageOptions([await png('ref.png')], 'draw') });
    expect((await interaction.waitForCallback()).type).toBe(5);
    const grid = await interaction.waitForMessage(isFinal, 20_000);
    expect(grid.content).toBe(`**a castle in the clouds --iw 1.5** - <@${ALICE}>`);
    expect(buttonFaces(grid)).toEqual(GRID);
    discord.assertNoViolations();
  });

  it('/blend makes a grid of the chosen shape with the usual buttons, which work', async () => {
    const uploads = [await png('a.png'), await png('b.png', 20, 90, 200), await png('c.png', 30, 200, 30)];
    const interaction = await slash(discord, 'blend', { ...imageOptions(uploads, 'blend'), dimensions: 'portrait' });
    expect((await interaction.waitForCallback()).type).toBe(5);
    const grid = await interaction.waitForMessage(isFinal, 20_000);
    expect(grid.content).toBe(`**a.png b.png c.png --ar 2:3** - Blend by <@${ALICE}>`);
    expect(buttonFaces(grid)).toEqual(GRID);
    const image = await imageInfo(grid);
    expect(image.width / image.height).toBeCloseTo(2 / 3, 1);

    const click = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U3'), userId: BOB });
    const upscaled = await click.waitForMessage(isFinal, 20_000);
    expect(upscaled.content).toBe(`**a.png b.png c.png --ar 2:3** - Image #3 <@${BOB}>`);
    discord.assertNoViolations();
  });

  it('/describe lists four prompts with 1️⃣–4️⃣; a click draws that prompt for whoever clicked', async () => {
    const interaction = await slash(discord, 'describe', { image: await png('photo.png') });
    expect((await interaction.waitForCallback()).type).toBe(5);
    const described = await interaction.waitForMessage(isFinal, 20_000);
    expect(described.content).toMatch(new RegExp(`^\\*\\*photo.png\\*\\* - Describe by <@${ALICE}>\\n`));
    const prompts = suggestedPrompts(described.content);
    expect(prompts).toHaveLength(4);
    expect(buttonFaces(described)).toEqual([['1️⃣', '2️⃣', '3️⃣', '4️⃣']]);
    expect(described.attachments).toEqual([]);

    const click = await discord.clickButton({ message: described, customId: customIdOf(described, '2️⃣'), userId: BOB });
    expect((await click.waitForCallback()).type).toBe(5);
    const grid = await click.waitForMessage(isFinal, 20_000);
    expect(grid.content).toBe(`**${prompts[1]}** - <@${BOB}>`);
    expect(buttonFaces(grid)).toEqual(GRID);
    discord.assertNoViolations();
  });

  it('keeps the 1️⃣–4️⃣ buttons working after a restart (the prompts are on the row)', async () => {
    const interaction = await slash(discord, 'describe', { image: await png('before-restart.png') });
    const described = await interaction.waitForMessage(isFinal, 20_000);
    const prompts = suggestedPrompts(described.content);
    await bot.stop();
    bot = await startBot(env);
    const click = await discord.clickButton({ message: described, customId: customIdOf(described, '4️⃣'), userId: BOB });
    const grid = await click.waitForMessage(isFinal, 20_000);
    expect(grid.content).toBe(`**${prompts[3]}** - <@${BOB}>`);
    discord.assertNoViolations();
  });

  it('answers /describe in Chinese for a zh-CN user', async () => {
    const interaction = await slash(discord, '描述', { image: await png('图.png') }, { locale: 'zh-CN' });
    const described = await interaction.waitForMessage(isFinal, 20_000);
    expect(described.content).toContain('推荐的提示词');
    discord.assertNoViolations();
  });

  describe('refuses bad input privately, before storing anything', () => {
    it('one image for /blend', async () => {
      const before = submitted();
      const text = await refusal(await slash(discord, 'blend', { image1: await png('only.png') }, { unchecked: true }));
      expect(text).toBe('/blend needs at least 2 images (up to 5).');
      expect(submitted()).toBe(before);
    });

    it('six images for /draw (five attached and one linked)', async () => {
      const uploads = await Promise.all([1, 2, 3, 4, 5].map((i) => png(`p${i}.png`, i * 40)));
      const text = await refusal(await slash(discord, 'draw', { prompt: 'https://example.com/six.png a cat', ...imageOptions(uploads, 'draw') }));
      expect(text).toBe('That is 6 images; a job takes at most 5 (attached and linked together).');
    });

    it('a PDF', async () => {
      expect(await refusal(await slash(discord, 'describe', { image: pdf() }))).toBe(
        '**notes.pdf** is not an image I can use: attach PNG, JPEG, WebP or GIF files.',
      );
      expect(await refusal(await slash(discord, 'blend', { image1: await png('x.png'), image2: pdf() }))).toMatch(/notes\.pdf/);
    });

    it('an oversized file', async () => {
      expect(await refusal(await slash(discord, 'draw', { prompt: 'a big one', image: oversized() }))).toBe(
        '**huge.png** is too large (8.0 MB); each image may be at most 8 MB.',
      );
      discord.assertNoViolations();
    });
  });
});
