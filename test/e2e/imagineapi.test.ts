// /draw end to end on ImagineAPI: the real bot process against the fake Discord and the fake ImagineAPI.
// ImagineAPI's webhook is account-wide (set in its dashboard): polled, or pushed to /upstream/account/<secret>; U1–U4 come from the grid's
// own `upscaled_urls`, 🔄 draws the prompt again, and there are no V buttons.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakeImagineApi } from '../support/fake-imagineapi.ts';
import { ALICE, BOB, buttonFaces, customIdOf, imageInfo, isDelivered as isDone, relayEnv, slashDraw } from './support.ts';

let discord: FakeDiscord;
let db: TestDatabase;
let upstream: FakeImagineApi;
let bot: BotProcess;
let env: Record<string, string>;

const GRID = [['U1', 'U2', 'U3', 'U4', '🔄']];

beforeAll(async () => {
  [discord, db, upstream] = await Promise.all([FakeDiscord.start(), createTestDatabase(), FakeImagineApi.start({ stepMs: 150 })]);
  env = relayEnv(discord, db, { provider: 'imagineapi', baseUrl: upstream.url, apiKey: upstream.apiKey }, { POLL_INTERVAL_MS: '100' });
  bot = await startBot(env);
});

afterAll(async () => {
  await bot?.stop();
  await Promise.all([db?.destroy(), discord?.close(), upstream?.close()]);
});

const draw = (prompt: string, userId = ALICE) => slashDraw(discord, prompt, userId);
const creates = () => upstream.requests.filter((r) => r.method === 'POST').length;

describe('/draw on ImagineAPI (polled)', () => {
  let grid: SeenMessage;

  it('draws: progress, then the grid with U1–U4 and 🔄 only', async () => {
    // The grid keeps drawing until its progress has been shown (edits are throttled to one a second),
    // with the relay's preview image.
    upstream.pacePrompts(/^a lighthouse/);
    const interaction = await draw('a lighthouse at dusk --ar 9:21');
    expect((await interaction.waitForCallback()).type).toBe(5);
    const progress = await interaction.waitForMessage((m) => /\(\d+%\)$/.test(m.content) && m.attachments[0]?.filename.startsWith('preview') === true, 20_000);
    expect(progress.content).toMatch(/^\*\*a lighthouse at dusk --ar 9:21\*\* - <@100000000000000001> \(\d+%\)$/);
    upstream.release();
    grid = await interaction.waitForMessage(isDone, 20_000);
    expect(grid.content).toBe(`**a lighthouse at dusk --ar 9:21** - <@${ALICE}>`);
    expect(buttonFaces(grid)).toEqual(GRID);
    expect((await imageInfo(grid)).format).toBe('png');
    expect(upstream.requests.find((r) => r.method === 'POST')?.body).toMatchObject({ prompt: 'a lighthouse at dusk --ar 9:21' });
  });

  it('U2 shows the second of the upscaled images, without asking ImagineAPI for anything', async () => {
    const before = creates();
    const click = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U2'), userId: BOB });
    const single = await click.waitForMessage(isDone, 20_000);
    expect(single.content).toBe(`**a lighthouse at dusk --ar 9:21** - Image #2 <@${BOB}>`);
    expect(single.components).toEqual([]);
    expect(creates()).toBe(before);
    // The very image ImagineAPI returned as the second of `upscaled_urls`.
    const firstId = String(bot.logs.find((l) => l.msg === 'task submitted')!.upstreamId);
    const expected = Buffer.from(await (await fetch(upstream.image(firstId)!.upscaled_urls![1]!)).arrayBuffer());
    expect((await imageInfo(single)).bytes.equals(expected)).toBe(true);
  });

  it('🔄 draws the same prompt again as a new grid', async () => {
    const before = creates();
    const click = await discord.clickButton({ message: grid, customId: customIdOf(grid, '🔄'), userId: ALICE });
    const again = await click.waitForMessage(isDone, 20_000);
    expect(again.content).toBe(`**a lighthouse at dusk --ar 9:21** - Reroll by <@${ALICE}>`);
    expect(buttonFaces(again)).toEqual(GRID);
    expect(creates()).toBe(before + 1);
    expect(upstream.requests.filter((r) => r.method === 'POST').at(-1)!.body).toMatchObject({ prompt: 'a lighthouse at dusk --ar 9:21' });
  });

  it('a job ImagineAPI fails ends with its reason', async () => {
    upstream.failPrompts(/cursed/, 'Banned prompt detected: cursed');
    const failed = await (await draw('a cursed painting')).waitForMessage(isDone, 20_000);
    expect(failed.content).toBe(`❌ **a cursed painting** - <@${ALICE}>\nThe job failed: Midjourney refused the prompt: it contains a word Midjourney bans. Rephrase the prompt without it and /draw again. The image service said: “Banned prompt detected: cursed”`);
  });

  it('rides out a short 5xx streak, retrying with backoff', async () => {
    upstream.inject('5xx', 2);
    const done = await (await draw('a stormy sea')).waitForMessage(isDone, 25_000);
    expect(buttonFaces(done)).toEqual(GRID);
    expect(bot.logs.filter((l) => l.msg === 'upstream busy; retrying').length).toBeGreaterThanOrEqual(2);
  });

  it('a rejected key tells the user politely and the operator precisely', async () => {
    upstream.inject('auth', 1);
    const failed = await (await draw('a quiet forest')).waitForMessage(isDone, 20_000);
    expect(failed.content).toBe(`❌ **a quiet forest** - <@${ALICE}>\nThe job failed: the image service account needs attention from the bot's operator. Please try again later.`);
    // The log line may reach us just after the Discord message.
    await bot.waitForLog((l) => l.msg === 'upstream account problem: the operator must act' && l.kind === 'auth', 5_000);
  });

});

describe('/draw on ImagineAPI with PUBLIC_URL set', () => {
  it('still polls (its webhook is account-wide), and the flow works the same', async () => {
    await bot.stop();
    const port = await freePort();
    bot = await startBot({ ...env, HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    const before = upstream.requests.length;
    const grid = await (await draw('a windmill')).waitForMessage(isDone, 20_000);
    expect(buttonFaces(grid)).toEqual(GRID);
    const single = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U4'), userId: BOB })).waitForMessage(isDone, 20_000);
    expect(single.content).toBe(`**a windmill** - Image #4 <@${BOB}>`);
    // Nothing about callbacks went upstream: there is no per-job webhook to give.
    const sent = upstream.requests.slice(before).filter((r) => r.method === 'POST').map((r) => r.body);
    expect(sent).toEqual([{ prompt: 'a windmill', ref: expect.any(String) }]);
    expect(bot.logs.some((l) => l.msg === 'callback received')).toBe(false);
  });

});

describe('/draw on ImagineAPI pushed through its account-wide webhook', () => {
  const SECRET = 'a-long-operator-chosen-secret-0123';
  let hookUrl: string;
  let answers: number[];

  it('finishes jobs from the pushes alone (polling once a minute), U2 included', async () => {
    await bot.stop();
    const port = await freePort();
    bot = await startBot({ ...env, HTTP_PORT: String(port), UPSTREAM_WEBHOOK_SECRET: SECRET, POLL_INTERVAL_MS: '60000' });
    hookUrl = `http://127.0.0.1:${port}/upstream/account/${SECRET}`;
    // What the operator types into ImagineAPI's dashboard.
    answers = upstream.setWebhook(hookUrl);
    // Kept drawing until a pushed progress update has been shown (edits are throttled to one a second).
    upstream.pacePrompts(/^a harbour/);
    const interaction = await draw('a harbour at dawn');
    await interaction.waitForMessage((m) => /\(\d+%\)$/.test(m.content), 20_000);
    upstream.release();
    const grid = await interaction.waitForMessage(isDone, 20_000);
    expect(grid.content).toBe(`**a harbour at dawn** - <@${ALICE}>`);
    expect(buttonFaces(grid)).toEqual(GRID);
    await bot.waitForLog((l) => l.msg === 'callback received' && l.outcome === 'applied' && l.status === 'succeeded');
    const single = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U2'), userId: BOB })).waitForMessage(isDone, 20_000);
    expect(single.content).toBe(`**a harbour at dawn** - Image #2 <@${BOB}>`);
    expect(answers.every((status) => status === 200)).toBe(true);
  });

  it('refuses a wrong secret and acknowledges jobs it does not know', async () => {
    const wrong = await fetch(hookUrl.replace(SECRET, `${SECRET.slice(0, -1)}x`), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(wrong.status).toBe(404);
    const stranger = await fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'images.items.update', payload: { id: 'not-ours', status: 'completed', url: 'http://127.0.0.1:1/x.png', upscaled_urls: [] } }),
    });
    expect(stranger.status).toBe(200);
    expect(await stranger.json()).toEqual({ ok: true, outcome: 'ignored' });
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
