// /draw end to end on PiAPI: the real bot process against the fake Discord and the fake PiAPI, once polled
// (no PUBLIC_URL) and once pushed (PUBLIC_URL set, polling too slow to matter: only webhooks finish jobs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakePiapi } from '../support/fake-piapi.ts';
import { useRelaySession } from './relay-session.ts';
import { AFTER_UPSCALE, ALICE, BOB, GRID, buttonFaces, customIdOf, imageInfo, isDelivered as isDone, slashDraw } from './support.ts';

let discord: FakeDiscord;
let upstream: FakePiapi;

beforeAll(async () => {
  [discord, upstream] = await Promise.all([FakeDiscord.start(), FakePiapi.start({ stepMs: 150 })]);
});

afterAll(async () => {
  await Promise.all([discord?.close(), upstream?.close()]);
});

const relay = () => ({ provider: 'piapi', baseUrl: upstream.url, apiKey: upstream.apiKey, discord });

const draw = (prompt: string, userId = ALICE) => slashDraw(discord, prompt, userId);

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
  const s = useRelaySession(() => ({ ...relay(), mode: 'polled' }));

  it('draws, upscales and varies', async () => {
    await drawUpscaleVary('a paper boat');
    expect(upstream.requests.some((r) => r.method === 'POST' && (r.body as { config?: unknown }).config)).toBe(false);
  });

  it('a job PiAPI fails ends with its reason', async () => {
    upstream.failPrompts(/forbidden fruit/, 'Banned prompt detected: fruit');
    const failed = await (await draw('a forbidden fruit')).waitForMessage(isDone, 20_000);
    expect(failed.content).toBe(`❌ **a forbidden fruit** - <@${ALICE}>\nThe job failed: Midjourney refused the prompt: it contains a word Midjourney bans. Rephrase the prompt without it and /draw again. The image service said: “Banned prompt detected: fruit”`);
  });

  it('no credits left: a polite word for the user, the detail for the operator', async () => {
    upstream.inject('no_credits');
    const failed = await (await draw('a golden coin')).waitForMessage(isDone, 20_000);
    expect(failed.content).toMatch(/The job failed: the image service account needs attention from the bot's operator/);
    // The log line may reach us just after the Discord message.
    await s.bot.waitForLog((l) => l.msg === 'upstream account problem: the operator must act' && l.kind === 'balance', 5_000);
  });

  it('a full queue and a 5xx are retried with backoff before the job goes on', async () => {
    upstream.inject('queue_full');
    upstream.inject('5xx');
    const done = await (await draw('a patient heron')).waitForMessage(isDone, 25_000);
    expect(buttonFaces(done)).toEqual(GRID);
    expect(s.bot.logs.filter((l) => l.msg === 'upstream busy; retrying').map((l) => l.kind)).toEqual(expect.arrayContaining(['queue_full', 'unavailable']));
  });
});

describe('/draw on PiAPI, pushed', () => {
  // Polling once a minute: within this test only the webhooks can finish a job.
  const s = useRelaySession(() => {
    upstream.replayPushes = true;
    return { ...relay(), mode: 'pushed' };
  });

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
    await s.bot.waitForLog((l) => l.msg === 'callback received' && l.outcome === 'ignored', 5_000);
    // grid, U3, V2 and Vary (Strong): each result arrived by push (logged once the push's work is done).
    const taskIds = s.bot.logs.filter((l) => l.msg === 'task submitted').map((l) => l.taskId);
    expect(taskIds).toHaveLength(4);
    for (const taskId of taskIds) {
      await s.bot.waitForLog((l) => l.msg === 'callback received' && l.taskId === taskId && l.outcome === 'applied' && l.status === 'succeeded', 5_000);
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
