// /draw through the Midjourney-node-api adapter end to end: the real bot process, the fake Discord and a
// fake relay. Once polled, once pushed (its notifyHook fires only on the final status, so with polling
// slowed down only that one call can finish a job); failures end in a clear message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakeMidjourneyNodeApi } from '../support/fake-midjourney-node-api.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, buttonFaces, customIdOf, imageInfo, isFinalOrUploaded as isDone, slashDraw } from './support.ts';

// U, 🔄 (the prompt submitted again) and V: nothing after an upscale here.
const GRID = [
  ['U1', 'U2', 'U3', 'U4', '🔄'],
  ['V1', 'V2', 'V3', 'V4'],
];

let discord: FakeDiscord;
let relay: FakeMidjourneyNodeApi;

beforeAll(async () => {
  [discord, relay] = await Promise.all([FakeDiscord.start(), FakeMidjourneyNodeApi.start({ stepMs: 100 })]);
});

afterAll(async () => {
  await relay?.close();
  await discord?.close();
});

const draw = (prompt: string, userId = ALICE) => slashDraw(discord, prompt, userId);
const upscales = (prompt: string) => [...relay.records.values()].filter((r) => r.action === 'UPSCALE' && r.prompt === prompt);
async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${condition.toString()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const finished = (i: Awaited<ReturnType<typeof draw>>) => i.waitForMessage(isDone, 20_000);
const click = async (message: SeenMessage, face: string, userId = BOB) => finished(await discord.clickButton({ message, customId: customIdOf(message, face), userId }));

describe('midjourney-node-api, polled', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-node-api', baseUrl: relay.url, mode: 'polled', discord }));

  let grid: SeenMessage;
  it('draws: the grid, fetched from the relay’s relative image URL, with U1–U4 and V1–V4', async () => {
    const interaction = await draw('a dog');
    grid = await finished(interaction);
    expect(grid.content).toBe('**a dog** - <@100000000000000001>');
    expect(buttonFaces(grid)).toEqual(GRID);
    for (const id of relay.records.keys()) expect(JSON.stringify(grid.components)).not.toContain(id);
    expect((await imageInfo(grid)).format).toBe('png');
    // No percentages from this relay: the user sees "waiting", then the result.
    expect(interaction.edits().some((e) => /\(\d+%\)$/.test(e.message.content))).toBe(false);
    expect(relay.requests.find((r) => r.path === '/api/v1/trigger/submit')!.body).toMatchObject({ action: 'IMAGINE', prompt: 'a dog' });
  });

  it('U2 posts image #2 (nothing more to do with it here); V3 makes variations', async () => {
    const single = await click(grid, 'U2');
    expect(single.content).toBe('**a dog** - Image #2 <@100000000000000002>');
    expect(single.components).toEqual([]);
    expect((await imageInfo(single)).height).toBe(384);
    const varied = await click(grid, 'V3', ALICE);
    expect(varied.content).toBe('**a dog** - Variations by <@100000000000000001>');
    expect(buttonFaces(varied)).toEqual(GRID);
    const submits = relay.requests.filter((r) => r.path === '/api/v1/trigger/submit').map((r) => r.body);
    expect(submits.slice(-2)).toEqual([
      expect.objectContaining({ action: 'UPSCALE', index: '2', taskId: expect.any(String) }),
      expect.objectContaining({ action: 'VARIATION', index: '3', taskId: expect.any(String) }),
    ]);
  });

  it('🔄 submits IMAGINE again with the job’s prompt (the relay has no reroll of its own)', async () => {
    const rerolled = await click(grid, '🔄');
    expect(rerolled.content).toBe('**a dog** - Reroll by <@100000000000000002>');
    expect(buttonFaces(rerolled)).toEqual(GRID);
    expect(relay.lastRequest('/api/v1/trigger/submit')!.body).toMatchObject({ action: 'IMAGINE', prompt: 'a dog' });
  });

  it('never delivers an action the image of another action on the same prompt; waits for its own image', async () => {
    // Two upscales of one grid in flight at once: the relay gives the later one the earlier one's image first.
    const owls = await finished(await draw('two owls'));
    relay.mixesUpActions = true;
    relay.holdActions('two owls');
    const first = await discord.clickButton({ message: owls, customId: customIdOf(owls, 'U1'), userId: BOB });
    await waitFor(() => upscales('two owls').length === 1);
    const second = await discord.clickButton({ message: owls, customId: customIdOf(owls, 'U2'), userId: ALICE });
    await waitFor(() => upscales('two owls').length === 2 && upscales('two owls').every((r) => r.status === 'IN_PROGRESS'));
    relay.releaseActions();
    const one = await finished(first);
    const two = await finished(second);
    relay.mixesUpActions = false;
    const [r1, r2] = upscales('two owls');
    expect(one.content).toBe('**two owls** - Image #1 <@100000000000000002>');
    expect(two.content).toBe('**two owls** - Image #2 <@100000000000000001>');
    // The relay did mix them up; the bot fetched only each job's own image.
    expect(r2!.imageUrl).not.toBe(r1!.imageUrl);
    const fetched = relay.imageFetches;
    expect(fetched.filter((p) => p === `/${r1!.imageUrl}`)).toHaveLength(1);
    expect(fetched).toContain(`/${r2!.imageUrl}`);
    expect(relay.sawMixUp).toBe(true);
  });

  it('sends a Chinese prompt as typed, without the “not translated” notice: this relay translates it', async () => {
    const interaction = await draw('一只小狗');
    const result = await finished(interaction);
    expect(buttonFaces(result)).toEqual(GRID);
    expect(relay.lastRequest('/api/v1/trigger/submit')!.body).toMatchObject({ action: 'IMAGINE', prompt: '一只小狗' });
    // The notice would have been sent before the job was stored, so before its result.
    expect(interaction.messages().filter((m) => (m.flags & 64) !== 0)).toEqual([]);
  });

  it('a failed job ends with a clear message', async () => {
    relay.failPrompt('doomed ship');
    const result = await finished(await draw('a doomed ship'));
    expect(result.content).toBe('❌ **a doomed ship** - <@100000000000000001>\nThe job failed: Midjourney did not finish the job, and the image service gave no reason.');
  });

  it('a refused submission ends with the relay’s words', async () => {
    relay.refuseNext = 1;
    const result = await finished(await draw('a refused cat'));
    expect(result.content).toBe('❌ **a refused cat** - <@100000000000000001>\nThe job failed: the image service reported: 失败');
  });

  it('a 5xx from the relay is retried with backoff and the job still finishes', async () => {
    relay.inject.serverErrors = 1;
    const result = await finished(await draw('a patient heron'));
    expect(buttonFaces(result)).toEqual(GRID);
    await s.bot.waitForLog((l) => l.msg === 'upstream busy; retrying' && l.kind === 'unavailable', 5_000);
  });
});

describe('midjourney-node-api, pushed', () => {
  // Polling every minute: within this test only the relay's final notifyHook call can finish a job.
  const s = useRelaySession(() => ({ provider: 'midjourney-node-api', baseUrl: relay.url, mode: 'pushed', discord }));

  it('draws, upscales and varies, each finished by its one callback', async () => {
    const before = relay.callbacks.length;
    const grid = await finished(await draw('a pushed dog'));
    expect(buttonFaces(grid)).toEqual(GRID);
    const submitted = relay.lastRequest('/api/v1/trigger/submit')!.body as { notifyHook: string };
    expect(submitted.notifyHook).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/upstream\/callback\/[0-9a-f-]{36}\/[\w-]{16,}$/);
    const single = await click(grid, 'U4');
    expect(single.content).toBe('**a pushed dog** - Image #4 <@100000000000000002>');
    const varied = await click(grid, 'V1');
    expect(buttonFaces(varied)).toEqual(GRID);
    const pushed = relay.callbacks.slice(before);
    expect(pushed).toHaveLength(3);
    expect(pushed.filter((c) => c.status !== undefined && c.status !== 200)).toEqual([]);
  });

  it('a pushed failure ends the job with a clear message', async () => {
    relay.failPrompt('sunken bell');
    const result = await finished(await draw('a sunken bell'));
    expect(result.content).toMatch(/^❌ \*\*a sunken bell\*\* - <@\d+>\nThe job failed: Midjourney did not finish the job, and the image service gave no reason\.$/);
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
