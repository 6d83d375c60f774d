// /draw through the midjourney-proxy adapter end to end: the real bot process, the fake Discord and a fake
// plus/trueai relay. Once polled (no PUBLIC_URL), once pushed (notifyHook to our callback receiver, with
// polling slowed down so only the push can finish a job); failures end in a clear message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, GRID, buttonFaces, customIdOf, imageInfo, isFinal, slashDraw, withSeed } from './support.ts';

const KEY = 'mj-e2e-secret';
// What the relay's buttons[] offers after an upscale, plus ✏️ Edit; Vary (Region) only with PUBLIC_URL (its editor page).
const AFTER_UPSCALE = [
  ['Vary (Strong)', 'Vary (Subtle)', 'Edit'],
  ['Zoom Out 2x', 'Zoom Out 1.5x', 'Custom Zoom'],
  ['⬅️', '➡️', '⬆️', '⬇️'],
  ['Upscale (2x)', 'Upscale (4x)'],
];

let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;

beforeAll(async () => {
  [discord, mj] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 100 })]);
});

afterAll(async () => {
  await mj?.close();
  await discord?.close();
});

const draw = (prompt: string, userId = ALICE) => slashDraw(discord, prompt, userId);
const finished = (i: Awaited<ReturnType<typeof draw>>) => i.waitForMessage(isFinal, 20_000);
const click = async (message: SeenMessage, face: string, userId = BOB) => finished(await discord.clickButton({ message, customId: customIdOf(message, face), userId }));
const noUpstreamIds = (m: SeenMessage) => {
  const json = JSON.stringify(m.components);
  expect(json).not.toContain('MJ::');
  for (const id of mj.tasks.keys()) expect(json).not.toContain(id);
};

describe('midjourney-proxy, polled', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'polled', discord }));

  let grid: SeenMessage;
  it('draws: progress with the relay’s preview, then the grid with the buttons the job offers', async () => {
    mj.stepMs = 400; // slow enough for a throttled progress edit to show a preview
    const interaction = await draw('a cute cat --ar 16:9');
    grid = await finished(interaction);
    mj.stepMs = 100;
    expect(grid.content).toBe('**a cute cat --ar 16:9** - <@100000000000000001>');
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    noUpstreamIds(grid);
    expect((await imageInfo(grid)).format).toBe('png');
    const progress = interaction.edits().filter((e) => /\(\d+%\)$/.test(e.message.content));
    expect(progress.some((e) => e.message.attachments[0]?.filename.startsWith('preview'))).toBe(true);
    expect(mj.requests.find((r) => r.path === '/mj/submit/imagine')!.body).toEqual({ prompt: 'a cute cat --ar 16:9', state: expect.any(String) });
    expect(mj.requests.some((r) => r.path === '/mj/task/list-by-condition')).toBe(true);
  });

  let upscaled: SeenMessage;
  it('U2 upscales through the parent’s customId and offers only what the relay offers next', async () => {
    upscaled = await click(grid, 'U2');
    expect(upscaled.content).toBe('**a cute cat --ar 16:9** - Image #2 <@100000000000000002>');
    expect(buttonFaces(upscaled)).toEqual(withSeed(AFTER_UPSCALE));
    noUpstreamIds(upscaled);
    expect(mj.lastRequest('/mj/submit/action')!.body).toMatchObject({ customId: expect.stringMatching(/^MJ::JOB::upsample::2::/) });
  });

  it('V3 makes variations; Custom Zoom goes through the relay’s modal', async () => {
    const varied = await click(grid, 'V3', ALICE);
    expect(varied.content).toBe('**a cute cat --ar 16:9** - Variations by <@100000000000000001>');
    expect(buttonFaces(varied)).toEqual(withSeed(GRID));
    // Custom Zoom asks for the factor in a Discord modal first, then goes through the relay's own modal.
    const opened = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Custom Zoom'), userId: BOB });
    expect((await opened.waitForCallback()).type).toBe(9);
    // A factor Midjourney would refuse starts nothing: the user is told privately, in their language.
    const modalsBefore = mj.requests.filter((r) => r.path === '/mj/submit/modal').length;
    const outOfRange = await discord.submitModal({ from: opened, values: { zoom: '5' }, userId: BOB, locale: 'zh-CN' });
    expect((await outOfRange.waitForCallback()).data).toMatchObject({ flags: 64, content: '缩放倍数必须是 1 到 2 之间的数字（你输入的是“5”）。未开始任何任务，请再次点击“自定义缩放”。' });
    expect(mj.requests.filter((r) => r.path === '/mj/submit/modal')).toHaveLength(modalsBefore);
    const zoomed = await finished(await discord.submitModal({ from: opened, values: { zoom: '1.5' }, userId: BOB }));
    expect(zoomed.content.split('\n')[0]).toBe('**a cute cat --ar 16:9** - Zoom Out by <@100000000000000002>');
    expect(buttonFaces(zoomed)).toEqual(withSeed(GRID));
    expect(mj.lastRequest('/mj/submit/modal')!.body).toMatchObject({ prompt: 'a cute cat --ar 16:9 --zoom 1.5' });
  });

  it('a failed job ends with the relay’s reason', async () => {
    mj.failPrompt('forbidden fruit', 'Job action restricted');
    const result = await finished(await draw('forbidden fruit'));
    expect(result.content).toBe('❌ **forbidden fruit** - <@100000000000000001>\nThe job failed: the image service reported: Job action restricted');
    expect(buttonFaces(result)).toEqual([['↻ Retry']]);
  });

  it('a banned word is refused at once, with the word', async () => {
    mj.bannedWords = ['peach'];
    const result = await finished(await draw('a ripe peach'));
    mj.bannedWords = [];
    expect(result.content).toBe('❌ **a ripe peach** - <@100000000000000001>\nThe job failed: Midjourney refused the prompt: it contains a word Midjourney bans. Rephrase the prompt without it and /draw again. The image service said: “可能包含敏感词 (peach)”');
  });

  it('a relay failure is told in the user’s language, then in the relay’s own words (a reason code, not English text)', async () => {
    // trueai-org forwards Midjourney's error embed as "[title] description" in failReason.
    mj.failPrompt('crooked frame', '[Invalid parameter] Unrecognized parameter: --frame');
    const zh = await discord.slashCommand({ name: 'draw', options: { prompt: 'a crooked frame' }, userId: ALICE, locale: 'zh-CN' });
    const result = await finished(zh);
    expect(result.content).toBe('❌ **a crooked frame** - <@100000000000000001>\n任务失败：Midjourney 不接受提示词中的某个参数（例如 --ar、--v 或图片链接）。请修正该参数后重新 /draw。 图片服务的原话：“[Invalid parameter] Unrecognized parameter: --frame”');
  });

  it('a job Midjourney’s moderation holds fails at once with the relay’s words and what to do; ↻ Retry draws it again', async () => {
    // The relay keeps showing the task IN_PROGRESS; only its description says Midjourney stopped it.
    mj.moderatePrompt('a shady alley', 'Action needed to continue, Sorry! Our AI moderators feel your prompt might be against our community standards.');
    const failed = await finished(await draw('a shady alley'));
    mj.unmoderate();
    expect(failed.content).toBe(`❌ **a shady alley** - <@100000000000000001>\nThe job failed: Midjourney's moderation stopped this job ("Action needed" or a pending moderation review); it will not finish by waiting. Change the prompt and /draw again (↻ Retry sends the same prompt once more). The image service said: “Action needed to continue, Sorry! Our AI moderators feel your prompt might be against our community standards.”`);
    expect(mj.tasksFor('a shady alley')[0]!.status).toBe('IN_PROGRESS');
    expect(buttonFaces(failed)).toEqual([['↻ Retry']]);

    // Anyone may retry: the same prompt goes to the relay again, as a new job of whoever clicked.
    const retried = await click(failed, '↻ Retry');
    expect(retried.content).toBe('**a shady alley** - <@100000000000000002>');
    expect(buttonFaces(retried)).toEqual(withSeed(GRID));
    expect(mj.tasksFor('a shady alley').map((t) => t.prompt)).toEqual(['a shady alley', 'a shady alley']);
  });

  it('↻ Retry of a failed upscale acts on the same parent again', async () => {
    const grid = await finished(await draw('a brittle vase'));
    mj.failPrompt('brittle vase', '[Invalid parameter] Unrecognized parameter: --crackle');
    const failed = await click(grid, 'U3');
    mj.unfail();
    expect(failed.content).toMatch(/^❌ \*\*a brittle vase\*\* - Image #3 <@100000000000000002>\nThe job failed: Midjourney did not accept a parameter/);
    const retried = await click(failed, '↻ Retry', ALICE);
    expect(retried.content).toBe('**a brittle vase** - Image #3 <@100000000000000001>');
    const actions = mj.requests.filter((r) => r.path === '/mj/submit/action').map((r) => r.body as { customId: string; taskId: string });
    const [first, again] = actions.slice(-2).map((a) => ({ taskId: a.taskId, customId: a.customId }));
    expect(again).toEqual(first);
  });

  it('a full queue is retried with backoff and the job still finishes', async () => {
    mj.queueFull = 1;
    const result = await finished(await draw('a patient heron'));
    expect(buttonFaces(result)).toEqual(withSeed(GRID));
    await s.bot.waitForLog((l) => l.msg === 'upstream busy; retrying' && l.kind === 'queue_full', 5_000);
  });

  it('bad credentials: a polite message for the user, the detail for the operator', async () => {
    mj.authFailure = true;
    const result = await finished(await draw('a locked door'));
    mj.authFailure = false;
    expect(result.content).toMatch(/^❌ \*\*a locked door\*\* - <@\d+>\nThe job failed: the image service account needs attention from the bot's operator/);
    await s.bot.waitForLog((l) => l.msg === 'upstream account problem: the operator must act' && l.kind === 'auth', 5_000);
  });
});

describe('midjourney-proxy: ↻ Retry under the clicker’s own limits', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'polled', discord, env: { USER_DAILY_QUOTA: '1' } }));

  it('a user who used up the day’s quota is refused privately; the owner (whose failed job gave its place back) may retry', async () => {
    mj.failPrompt('fragile kite', 'Job action restricted');
    const failed = await finished(await draw('a fragile kite', ALICE));
    mj.unfail();
    expect(buttonFaces(failed)).toEqual([['↻ Retry']]);
    expect(buttonFaces(await finished(await draw('a paper boat', BOB)))).toEqual(withSeed(GRID));

    // BOB's one job of the day is used: a retry is a new /draw for him, under the same quota.
    const refused = await discord.clickButton({ message: failed, customId: customIdOf(failed, '↻ Retry'), userId: BOB });
    expect((await refused.waitForCallback()).data).toMatchObject({ flags: 64, content: expect.stringMatching(/^You have reached your daily limit in this server: 1 of 1 jobs today\./) });

    const retried = await click(failed, '↻ Retry', ALICE);
    expect(retried.content).toBe('**a fragile kite** - <@100000000000000001>');
    expect(buttonFaces(retried)).toEqual(withSeed(GRID));
    expect(mj.tasksFor('fragile kite')).toHaveLength(2);
    expect(s.bot.logs.filter((l) => l.msg === 'task accepted' && l.prompt === 'a fragile kite')).toHaveLength(2);
  });
});

describe('midjourney-proxy, pushed', () => {
  // Polling every minute: within this test only the relay's notifyHook can finish a job.
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'pushed', discord }));

  it('draws, upscales and varies with every update pushed to a per-task callback URL', async () => {
    const before = mj.callbacks.length;
    const grid = await finished(await draw('a pushed owl'));
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    const hook = mj.lastRequest('/mj/submit/imagine')!.body as { notifyHook: string };
    expect(hook.notifyHook).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/upstream\/callback\/[0-9a-f-]{36}\/[\w-]{16,}$/);

    const single = await click(grid, 'U1');
    expect(single.content).toBe('**a pushed owl** - Image #1 <@100000000000000002>');
    expect(buttonFaces(single)).toEqual(withSeed([[...AFTER_UPSCALE[0]!, 'Vary (Region)'], ...AFTER_UPSCALE.slice(1)]));
    const varied = await click(grid, 'V4');
    expect(buttonFaces(varied)).toEqual(withSeed(GRID));

    const pushed = mj.callbacks.slice(before);
    expect(pushed.length).toBeGreaterThan(6);
    // Our receiver answers 200 to every genuine push (the last one may still be in flight: it answers after delivery).
    expect(pushed.filter((c) => c.status !== undefined && c.status !== 200)).toEqual([]);
  });

  it('a pushed failure ends the job with the relay’s reason; a replayed push changes nothing', async () => {
    mj.failPrompt('cursed mirror', 'Request cancelled due to image filters');
    const result = await finished(await draw('cursed mirror'));
    expect(result.content).toBe('❌ **cursed mirror** - <@100000000000000001>\nThe job failed: the image service reported: Request cancelled due to image filters');
    const last = mj.callbacks.at(-1)!;
    const replay = await fetch(last.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(last.body) });
    expect(await replay.json()).toEqual({ ok: true, outcome: 'ignored' });
    const forged = await fetch(last.url.replace(/[^/]+$/, 'not-the-secret'), { method: 'POST', body: JSON.stringify(last.body) });
    expect(forged.status).toBe(404);
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
