// /draw end to end on PiAPI: the real bot process against the fake Discord and the fake PiAPI, once polled
// (no PUBLIC_URL) and once pushed (PUBLIC_URL set, polling too slow to matter: only webhooks finish jobs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakePiapi } from '../support/fake-piapi.ts';
import { buttonFaces, customIdOf, imageInfo } from './support.ts';

let discord: FakeDiscord;
let db: TestDatabase;
let upstream: FakePiapi;

const ALICE = '100000000000000001';
const BOB = '100000000000000002';
const GRID = [
  ['U1', 'U2', 'U3', 'U4', '🔄'],
  ['V1', 'V2', 'V3', 'V4'],
];
const AFTER_UPSCALE = [
  ['Vary (Strong)', 'Vary (Subtle)'],
  ['Zoom Out 2x', 'Zoom Out 1.5x'],
  ['⬅️', '➡️', '⬆️', '⬇️'],
  ['Upscale (2x)', 'Upscale (4x)'],
];

const isDone = (m: SeenMessage) => m.content.startsWith('❌') || m.attachments.some((a) => /^(grid|image)_/.test(a.filename));

beforeAll(async () => {
  [discord, db, upstream] = await Promise.all([FakeDiscord.start(), createTestDatabase(), FakePiapi.start({ stepMs: 150 })]);
});

afterAll(async () => {
  await Promise.all([db?.destroy(), discord?.close(), upstream?.close()]);
});

function botEnv(extra: Record<string, string>): Record<string, string> {
  return {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_GUILD_ID: discord.guildId,
    UPSTREAM_PROVIDER: 'piapi',
    UPSTREAM_BASE_URL: upstream.url,
    UPSTREAM_API_KEY: upstream.apiKey,
    PROGRESS_EDIT_INTERVAL_MS: '1000',
    ...db.env,
    ...extra,
  };
}

const draw = (prompt: string, userId = ALICE) => discord.slashCommand({ name: 'draw', options: { prompt }, userId, locale: 'en-US' });

/** imagine → U → V: the flow every mode must carry to the end. */
async function drawUpscaleVary(prompt: string) {
  // The grid keeps drawing until its progress has been shown (edits are throttled to one a second),
  // with the relay's preview image.
  upstream.pacePrompts(new RegExp(`^${prompt}$`));
  const interaction = await draw(prompt);
  expect((await interaction.waitForCallback()).type).toBe(5);
  const progress = await interaction.waitForMessage((m) => /\(\d+%\)$/.test(m.content) && m.attachments[0]?.filename.startsWith('preview') === true, 20_000);
  expect(progress.content).toMatch(new RegExp(`^\\*\\*${prompt}\\*\\* - <@${ALICE}> \\(\\d+%\\)$`));
  upstream.release();
  const grid = await interaction.waitForMessage(isDone, 20_000);
  expect(grid.content).toBe(`**${prompt}** - <@${ALICE}>`);
  expect(buttonFaces(grid)).toEqual(GRID);

  const u3 = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U3'), userId: BOB })).waitForMessage(isDone, 20_000);
  expect(u3.content).toBe(`**${prompt}** - Image #3 <@${BOB}>`);
  expect(buttonFaces(u3)).toEqual(AFTER_UPSCALE);
  expect((await imageInfo(u3)).width).toBe(96);

  const v2 = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V2'), userId: ALICE })).waitForMessage(isDone, 20_000);
  expect(v2.content).toBe(`**${prompt}** - Variations by <@${ALICE}>`);
  expect(buttonFaces(v2)).toEqual(GRID);

  const strong = await (await discord.clickButton({ message: u3, customId: customIdOf(u3, 'Vary (Strong)'), userId: ALICE })).waitForMessage(isDone, 20_000);
  expect(buttonFaces(strong)).toEqual(GRID);
  const sent = upstream.requests.filter((r) => r.method === 'POST').slice(-3).map((r) => r.body as { task_type: string; input: Record<string, string> });
  expect(sent.map((b) => [b.task_type, b.input.index])).toEqual([['upscale', '3'], ['variation', '2'], ['variation', 'high_variation']]);
}

describe('/draw on PiAPI, polled', () => {
  let bot: BotProcess;
  beforeAll(async () => {
    bot = await startBot(botEnv({ POLL_INTERVAL_MS: '100' }));
  });
  afterAll(() => bot?.stop());

  it('draws, upscales and varies', async () => {
    await drawUpscaleVary('a paper boat');
    expect(upstream.requests.some((r) => r.method === 'POST' && (r.body as { config?: unknown }).config)).toBe(false);
  });

  it('a job PiAPI fails ends with its reason', async () => {
    upstream.failPrompts(/forbidden fruit/, 'Banned prompt detected: fruit');
    const failed = await (await draw('a forbidden fruit')).waitForMessage(isDone, 20_000);
    expect(failed.content).toBe(`❌ **a forbidden fruit** - <@${ALICE}>\nThe job failed: the image service reported: Banned prompt detected: fruit`);
  });

  it('no credits left: a polite word for the user, the detail for the operator', async () => {
    upstream.inject('no_credits');
    const failed = await (await draw('a golden coin')).waitForMessage(isDone, 20_000);
    expect(failed.content).toMatch(/The job failed: the image service account needs attention from the bot's operator/);
    // The log line may reach us just after the Discord message.
    await bot.waitForLog((l) => l.msg === 'upstream account problem: the operator must act' && l.kind === 'balance', 5_000);
  });

  it('a full queue and a 5xx are retried with backoff before the job goes on', async () => {
    upstream.inject('queue_full');
    upstream.inject('5xx');
    const done = await (await draw('a patient heron')).waitForMessage(isDone, 25_000);
    expect(buttonFaces(done)).toEqual(GRID);
    expect(bot.logs.filter((l) => l.msg === 'upstream busy; retrying').map((l) => l.kind)).toEqual(expect.arrayContaining(['queue_full', 'unavailable']));
  });
});

describe('/draw on PiAPI, pushed', () => {
  let bot: BotProcess;
  beforeAll(async () => {
    const port = await freePort();
    upstream.replayPushes = true;
    // Polling once a minute: within this test only the webhooks can finish a job.
    bot = await startBot(botEnv({ POLL_INTERVAL_MS: '60000', HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }));
  });
  afterAll(() => bot?.stop());

  it('draws, upscales and varies, every job finished by its webhook', async () => {
    const pushesBefore = upstream.pushAnswers.length;
    await drawUpscaleVary('a glass whale');
    const hooks = upstream.requests.filter((r) => r.method === 'POST').slice(-4).map((r) => (r.body as { config?: { webhook_config?: { endpoint: string; secret: string } } }).config?.webhook_config);
    for (const hook of hooks) {
      expect(hook?.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/upstream\/callback\/[0-9a-f-]{36}\/.+/);
      expect(hook?.endpoint.endsWith(`/${hook.secret}`)).toBe(true);
    }
    // Duplicates and late progress were answered 200 (and ignored), so PiAPI has no reason to resend.
    expect(upstream.pushAnswers.slice(pushesBefore).filter((s) => s !== 200)).toEqual([]);
    await bot.waitForLog((l) => l.msg === 'callback received' && l.outcome === 'ignored', 5_000);
    // grid, U3, V2 and Vary (Strong): each result arrived by push (logged once the push's work is done).
    const taskIds = bot.logs.filter((l) => l.msg === 'task submitted').map((l) => l.taskId);
    expect(taskIds).toHaveLength(4);
    for (const taskId of taskIds) {
      await bot.waitForLog((l) => l.msg === 'callback received' && l.taskId === taskId && l.outcome === 'applied' && l.status === 'succeeded', 5_000);
    }
  });

  it('a failed job pushed by PiAPI ends with its reason', async () => {
    upstream.failPrompts(/haunted/, 'Job failed: Midjourney refused the prompt');
    const failed = await (await draw('a haunted house')).waitForMessage(isDone, 20_000);
    expect(failed.content).toBe(`❌ **a haunted house** - <@${ALICE}>\nThe job failed: the image service reported: Job failed: Midjourney refused the prompt`);
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
