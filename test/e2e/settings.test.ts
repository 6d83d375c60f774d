// /settings end to end: the real bot on a TTApi account that serves the fast and turbo modes only. Each user's
// defaults are shown and changed privately in their language; a mode no account serves is refused; the mode
// reaches TTApi's request body and the default ratio joins prompts that set none, while the headline keeps the
// prompt as typed. Last, the daily quota: buttons on a result are not blocked by it, but count. One bot for the
// whole file; the cases build on each other in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type FakeInteraction } from '../support/fake-discord.ts';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { ALICE, BOB, customIdOf, discordEnv, isDelivered } from './support.ts';

let discord: FakeDiscord;
let tt: FakeTtApi;
let db: TestDatabase;
let bot: BotProcess;

const EPHEMERAL = 64;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  tt = await FakeTtApi.start({ stepMs: 100 });
  db = await createTestDatabase();
  bot = await startBot({
    ...discordEnv(discord),
    UPSTREAM_ACCOUNTS: JSON.stringify([{ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, modes: ['fast', 'turbo'] }]),
    POLL_INTERVAL_MS: '100',
    PROGRESS_EDIT_INTERVAL_MS: '1000',
    CLEANUP_CRON: 'off',
    // Small enough for the last case to reach it with the jobs the others made.
    USER_DAILY_QUOTA: '5',
    ...db.env,
  });
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await tt?.close();
  await discord?.close();
});

const settings = (options: Record<string, string> = {}, userId = ALICE, locale = 'en-US') => discord.slashCommand({ name: 'settings', options, userId, locale });

/** The private answer: an immediate ephemeral reply. */
async function privately(interaction: FakeInteraction): Promise<string> {
  const callback = await interaction.waitForCallback();
  expect(callback).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
  return String(callback.data!.content);
}

/** /draw, waited until its result; returns the headline and the body TTApi received for it. */
async function draw(prompt: string, userId = ALICE) {
  const before = tt.requests.length;
  const interaction = await discord.slashCommand({ name: 'draw', options: { prompt }, userId, locale: 'en-US' });
  const final = await interaction.waitForMessage(isDelivered, 20_000);
  const sent = tt.requests.slice(before).find((r) => r.path === '/midjourney/v1/imagine');
  return { headline: final.content, body: sent?.body as Record<string, unknown> };
}

const DEFAULTS_EN = "⚙️ **Your defaults for new jobs**\nSpeed mode: the relay's default\nAspect ratio: none added (1:1 unless your prompt says otherwise)\nModel version: the relay's default\nRemix: off";
const CAROL = '100000000000000003';

describe('/settings', () => {
  it('is registered with localized names, options and choices', async () => {
    const cmd = await discord.waitForCommand('settings', { guildId: discord.guildId });
    expect(cmd.name_localizations).toEqual({ 'zh-CN': '设置' });
    const [mode, aspect] = cmd.options as Array<{ name: string; name_localizations: Record<string, string>; choices: Array<{ name: string; value: string; name_localizations?: Record<string, string> }> }>;
    expect([mode!.name, mode!.name_localizations['zh-CN'], aspect!.name, aspect!.name_localizations['zh-CN']]).toEqual(['mode', '模式', 'aspect', '比例']);
    expect(mode!.choices.map((c) => c.value)).toEqual(['default', 'fast', 'relax', 'turbo']);
    expect(mode!.choices[2]!.name_localizations).toEqual({ 'zh-CN': '慢速 (relax)' });
    expect(aspect!.choices.map((c) => c.value)).toEqual(['default', '1:1', '2:3', '3:2', '4:5', '5:4', '9:16', '16:9', '21:9']);
    expect((await discord.waitForCommand('info', { guildId: discord.guildId })).name_localizations).toEqual({ 'zh-CN': '信息' });
  });

  it('registers the version option: the relay\'s default, V8.1, V7 and Niji 7', async () => {
    const cmd = await discord.waitForCommand('settings', { guildId: discord.guildId });
    const version = (cmd.options as Array<{ name: string; name_localizations: Record<string, string>; choices: Array<{ name: string; value: string; name_localizations?: Record<string, string> }> }>)[2]!;
    expect([version.name, version.name_localizations['zh-CN']]).toEqual(['version', '版本']);
    expect(version.choices.map((c) => [c.name, c.value])).toEqual([["Default (the relay's)", 'default'], ['V8.1', '8.1'], ['V7', '7'], ['Niji 7', 'niji 7']]);
    expect(version.choices[0]!.name_localizations).toEqual({ 'zh-CN': '默认（由中转决定）' });
  });

  it('shows the defaults privately, in the user’s language', async () => {
    expect(await privately(await settings())).toBe(DEFAULTS_EN);
    expect(await privately(await settings({}, ALICE, 'zh-CN'))).toBe('⚙️ **你的新任务默认设置**\n速度模式：中转的默认模式\n画面比例：不添加（提示词未指定时为 1:1）\n模型版本：中转的默认版本\nRemix：关闭');
  });

  it('refuses a mode no relay account serves, and changes nothing', async () => {
    expect(await privately(await settings({ mode: 'relax', aspect: '16:9' }))).toBe(
      "This bot's relay accounts do not run jobs in **Relax** mode. Available: Fast, Turbo. Nothing was changed.",
    );
    expect(await privately(await settings({ mode: 'relax' }, ALICE, 'zh-CN'))).toBe('本机器人的中转账号不支持 **慢速 (relax)** 模式。可用：快速 (fast), 极速 (turbo)。设置未更改。');
    expect(await privately(await settings())).toBe(DEFAULTS_EN);
  });

  it('saves a mode and a ratio, and shows them in either language', async () => {
    expect(await privately(await settings({ mode: 'turbo', aspect: '16:9' }))).toBe(
      '✅ Saved.\n⚙️ **Your defaults for new jobs**\nSpeed mode: Turbo\nAspect ratio: 16:9\nModel version: the relay\'s default\nRemix: off\n`--ar 16:9` is added to your /draw prompts that set no ratio.',
    );
    expect(await privately(await settings({}, ALICE, 'zh-CN'))).toBe(
      '⚙️ **你的新任务默认设置**\n速度模式：极速 (turbo)\n画面比例：16:9\n模型版本：中转的默认版本\nRemix：关闭\n未指定比例的 /draw 提示词会自动加上 `--ar 16:9`。',
    );
  });

  it('sends the mode to the relay and adds the ratio only where the prompt sets none', async () => {
    const fox = await draw('a red fox in snow');
    // The headline keeps what was typed; the line under it shows what went upstream, as for any changed prompt.
    expect(fox.headline).toBe(`**a red fox in snow** - <@${ALICE}>\n🌐 Sent as: a red fox in snow --ar 16:9`);
    expect(fox.body).toMatchObject({ prompt: 'a red fox in snow --ar 16:9', mode: 'turbo' });

    const tall = await draw('a lighthouse --ar 2:3');
    expect(tall.headline).toBe(`**a lighthouse --ar 2:3** - <@${ALICE}>`);
    expect(tall.body).toMatchObject({ prompt: 'a lighthouse --ar 2:3', mode: 'turbo' });
    const aspect = await draw('a tower --aspect 9:16 --v 6');
    expect(aspect.body).toMatchObject({ prompt: 'a tower --aspect 9:16 --v 6', mode: 'turbo' });

    // Another user's jobs are untouched by Alice's settings.
    const plain = await draw('a blue whale', BOB);
    expect(plain.body.prompt).toBe('a blue whale');
    expect(plain.body.mode).toBe('fast'); // TTApi's default, sent by the adapter
  });

  it('changes one setting at a time, and goes back to the defaults', async () => {
    expect(await privately(await settings({ aspect: '21:9' }))).toMatch(/Speed mode: Turbo\nAspect ratio: 21:9\n/);
    expect(await privately(await settings({ mode: 'default' }))).toMatch(/Speed mode: the relay's default\nAspect ratio: 21:9\n/);
    expect(await privately(await settings({ aspect: 'default' }))).toBe(`✅ Saved.\n${DEFAULTS_EN}`);
    const after = await draw('a green frog');
    expect(after.body).toMatchObject({ prompt: 'a green frog', mode: 'fast' });
  });

  it('a result can still be upscaled once the daily quota is used up, and the upscale counts', async () => {
    // Alice's fifth job today: the quota is used up with it.
    const grid = await (await discord.slashCommand({ name: 'draw', options: { prompt: 'a last cat' }, userId: ALICE, locale: 'en-US' })).waitForMessage(isDelivered, 20_000);
    const refusal = await (await discord.slashCommand({ name: 'draw', options: { prompt: 'one more cat' }, userId: ALICE, locale: 'en-US' })).waitForCallback();
    expect(refusal).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
    expect(String(refusal.data!.content)).toMatch(/^You have reached your daily limit in this server: 5 of 5 jobs today\. It resets <t:\d+:R> \(midnight UTC\)\.$/);
    const upscale = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U1'), userId: ALICE });
    expect((await upscale.waitForMessage(isDelivered, 20_000)).content).toBe(`**a last cat** - Image #1 <@${ALICE}>`);
    expect((await privately(await discord.slashCommand({ name: 'info', userId: ALICE, locale: 'en-US' }))).split('\n')[1]).toMatch(
      /^\*\*You today \(this server\):\*\* 6 of 5 jobs · resets <t:\d+:R>$/,
    );
  });

  it('adds the chosen version to prompts that name none, shows it, and goes back to the relay\'s', async () => {
    expect(await privately(await settings({ version: 'niji 7' }, CAROL))).toBe(
      "✅ Saved.\n⚙️ **Your defaults for new jobs**\nSpeed mode: the relay's default\nAspect ratio: none added (1:1 unless your prompt says otherwise)\nModel version: Niji 7\nRemix: off\n`--niji 7` is added to your /draw prompts that name no version.",
    );
    const crane = await draw('a paper crane', CAROL);
    expect(crane.headline).toBe(`**a paper crane** - <@${CAROL}>\n🌐 Sent as: a paper crane --niji 7`);
    expect(crane.body.prompt).toBe('a paper crane --niji 7');
    // A prompt that names its version keeps it.
    expect((await draw('a paper boat --v 7', CAROL)).body.prompt).toBe('a paper boat --v 7');

    expect(await privately(await settings({ version: '8.1' }, CAROL, 'zh-CN'))).toMatch(/\n模型版本：V8\.1\nRemix：关闭\n未指定版本的 \/draw 提示词会自动加上 `--v 8\.1`。$/);
    expect((await draw('a paper lantern', CAROL)).body.prompt).toBe('a paper lantern --v 8.1');

    expect(await privately(await settings({ version: 'default' }, CAROL))).toBe(`✅ Saved.\n${DEFAULTS_EN}`);
    expect((await draw('a paper kite', CAROL)).body.prompt).toBe('a paper kite');
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
