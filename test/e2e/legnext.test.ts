// LegNext end to end: the real bot process against the fake Discord and the fake LegNext, once polled (no
// PUBLIC_URL: /draw, U1, V1, /blend, /describe, a failed job, a refused key) and once pushed (PUBLIC_URL set,
// polling too slow to matter: only callbacks finish LegNext's jobs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeLegnext, LEGNEXT_DESCRIPTIONS } from '../support/fake-legnext.ts';
import { imageOptions, png, slash, suggestedPrompts } from './image-inputs.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, GRID, buttonFaces, customIdOf, imageInfo, isDelivered as isDone, isFinal, slashDraw, withSeed } from './support.ts';

let discord: FakeDiscord;
let upstream: FakeLegnext;

beforeAll(async () => {
  [discord, upstream] = await Promise.all([FakeDiscord.start(), FakeLegnext.start({ stepMs: 150 })]);
});

afterAll(async () => {
  await Promise.all([discord?.close(), upstream?.close()]);
});

const relay = () => ({ provider: 'legnext', baseUrl: upstream.url, apiKey: upstream.apiKey, discord });

const draw = (prompt: string, userId = ALICE) => slashDraw(discord, prompt, userId);

/** Animate, under any single image (/video-diffusion takes any image of a finished job). */
const ANIMATE_ROW = ['Animate (Low motion)', 'Animate (High motion)', 'Manual (Low motion)', 'Manual (High motion)'];

/** Under a picked image: what LegNext lists for it (variation, upscale, outpaint, pan), and Animate. */
const AFTER_PICK = [
  ['Vary (Strong)', 'Vary (Subtle)'],
  ['Zoom Out 2x', 'Zoom Out 1.5x'],
  ['⬅️', '➡️', '⬆️', '⬇️'],
  ANIMATE_ROW,
  ['Upscale (Subtle)', 'Upscale (Creative)'],
];

describe('/draw on LegNext, polled', () => {
  const s = useRelaySession(() => ({ ...relay(), mode: 'polled' }));

  it('draws (waiting while LegNext works), picks U1 from the grid, varies V1', async () => {
    // The grid keeps drawing until the bot has shown it under way. LegNext reports no percentage or preview,
    // so "waiting" is all there is to show until the grid arrives.
    upstream.pacePrompts(/^a paper lantern$/);
    const interaction = await draw('a paper lantern');
    expect((await interaction.waitForCallback()).type).toBe(5);
    await interaction.waitForMessage((m) => m.content === `**a paper lantern** - <@${ALICE}> (Waiting to start)`, 10_000);
    await upstream.waitForStatus('processing');
    upstream.release();
    const grid = await interaction.waitForMessage(isDone, 10_000);
    expect(grid.content).toBe(`**a paper lantern** - <@${ALICE}>`);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    // The grid picture LegNext gives as image_url (the fake's grids are 128 px, single images 96).
    expect((await imageInfo(grid)).width).toBe(128);
    expect(upstream.posts('diffusion')).toEqual([{ text: 'a paper lantern' }]);

    const postsBefore = upstream.posts().length;
    const u1 = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U1'), userId: BOB })).waitForMessage(isDone, 10_000);
    expect(u1.content).toBe(`**a paper lantern** - Image #1 <@${BOB}>`);
    expect(buttonFaces(u1)).toEqual(withSeed(AFTER_PICK));
    expect((await imageInfo(u1)).width).toBe(96);
    // U1 is the grid's first image: nothing was asked of LegNext for it.
    expect(upstream.posts().length).toBe(postsBefore);

    const v1 = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V1'), userId: ALICE })).waitForMessage(isDone, 10_000);
    expect(v1.content).toBe(`**a paper lantern** - Variations by <@${ALICE}>`);
    expect(buttonFaces(v1)).toEqual(withSeed(GRID));
    expect(upstream.posts('variation').at(-1)).toEqual({ jobId: expect.any(String), imageNo: 0, type: 1 });
  });

  it('/blend sends the attachments as data URIs with the shape; /describe sends the image URL and lists four prompts', async () => {
    const uploads = [await png('a.png', 10, 200, 30), await png('b.png', 200, 10, 30)];
    const blended = await (await slash(discord, 'blend', { ...imageOptions(uploads, 'blend'), dimensions: 'landscape' })).waitForMessage(isDone, 10_000);
    expect(buttonFaces(blended)).toEqual(withSeed(GRID));
    expect(upstream.posts('blend').at(-1)).toEqual({ base64Array: uploads.map((u) => `data:image/png;base64,${u.bytes.toString('base64')}`), dimension: 'LANDSCAPE' });
    const described = await (await slash(discord, 'describe', { image: await png('boat.png') })).waitForMessage(isFinal, 10_000);
    expect(String(upstream.posts('describe').at(-1)!.imgUrl)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attachments\//);
    expect(suggestedPrompts(described.content)).toEqual(LEGNEXT_DESCRIPTIONS);
  });

  it('📋 tells whoever clicks the seed LegNext lists on the job (a pick: its grid\'s), privately; none known, it says so', async () => {
    const grid = await (await draw('a stone bridge in fog')).waitForMessage(isDone, 10_000);
    const gridJob = upstream.jobsOf('diffusion').at(-1)!;
    const seed = upstream.seedOf(gridJob)!;
    expect(seed).toMatch(/^\d+$/);
    const ask = async (message: typeof grid, locale = 'en-US') =>
      (await discord.clickButton({ message, customId: customIdOf(message, '📋'), userId: BOB, locale })).waitForMessage((m) => m.content.includes('seed') || m.content.includes('种子'), 10_000);
    const answer = await ask(grid);
    expect(answer.flags! & 64).toBe(64);
    expect(answer.content).toBe(`📋 The seed of this job is **${seed}**. Add \`--seed ${seed}\` to a /draw prompt to start from it again.`);
    expect(upstream.requests.filter((r) => r.method === 'GET' && r.path === `/api/v1/job/${gridJob}`).length).toBeGreaterThan(0);

    const u3 = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U3'), userId: ALICE })).waitForMessage(isDone, 10_000);
    expect((await ask(u3, 'zh-CN')).content).toBe(`📋 这个任务的种子是 **${seed}**。在 /画图 的提示词后加上 \`--seed ${seed}\` 即可用它再画。`);

    // LegNext no longer knows the job (404): the clicker is told plainly.
    upstream.server.inject((r) => r.method === 'GET' && r.path === `/api/v1/job/${gridJob}`, { status: 404, body: { code: 404, message: 'job not found', raw_message: 'job not found', detail: null } });
    expect((await ask(grid)).content).toBe('The image service could not tell the seed of this job.');
  });

  it('a job LegNext fails ends with its reason, in the user\'s language', async () => {
    upstream.failPrompts(/forbidden fruit/, 'Job failed: prompt rejected by moderation');
    const interaction = await discord.slashCommand({ name: 'draw', options: { prompt: 'a forbidden fruit' }, userId: ALICE, locale: 'zh-CN' });
    const failed = await interaction.waitForMessage(isDone, 10_000);
    expect(failed.content).toBe(`❌ **a forbidden fruit** - <@${ALICE}>\n任务失败：Midjourney 的审核拦下了这个任务（“Action needed”或等待人工审核），等待也不会完成。请修改提示词后重新 /draw（↻ 重试会再次发送同样的提示词）。 图片服务的原话：“Job failed: prompt rejected by moderation”`);
  });

  it('a refused key: a polite word for the user, the detail for the operator', async () => {
    upstream.inject('auth');
    const failed = await (await draw('a locked door')).waitForMessage(isDone, 10_000);
    expect(failed.content).toMatch(/The job failed: the image service account needs attention from the bot's operator/);
    const line = await s.bot.waitForLog((l) => l.msg === 'upstream account problem: the operator must act' && l.kind === 'auth', 5_000);
    expect(JSON.stringify(line)).toMatch(/UPSTREAM_API_KEY/);
  });
});

describe('/draw on LegNext, pushed', () => {
  // Polling once a minute: within this test only LegNext's callbacks can finish its jobs.
  const s = useRelaySession(() => ({ ...relay(), mode: 'pushed' }));

  it('draws (a grid LegNext sent no picture of), picks U2 and upscales it (Creative), every LegNext job finished by its callback', async () => {
    // This grid comes without LegNext's four-up picture: the bot draws it from the four 96 px images.
    upstream.gridless = true;
    const grid = await (await draw('a glass whale')).waitForMessage(isDone, 10_000);
    upstream.gridless = false;
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    expect(await imageInfo(grid)).toMatchObject({ format: 'png', width: 192, height: 192 });
    const u2 = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U2'), userId: BOB })).waitForMessage(isDone, 10_000);
    expect(u2.content).toBe(`**a glass whale** - Image #2 <@${BOB}>`);
    const up = await (await discord.clickButton({ message: u2, customId: customIdOf(u2, 'Upscale (Creative)'), userId: BOB })).waitForMessage(isDone, 10_000);
    expect((await imageInfo(up)).width).toBe(192);
    // LegNext lists nothing to do after an upscale: only Animate (video-diffusion on its image 0) is shown.
    expect(buttonFaces(up)).toEqual(withSeed([ANIMATE_ROW]));
    const [diffusion, upscale] = [upstream.posts('diffusion').at(-1)!, upstream.posts('upscale').at(-1)!];
    expect(upscale).toMatchObject({ imageNo: 1, type: 1 });
    for (const body of [diffusion, upscale]) expect(body.callback).toMatch(new RegExp(`^${s.publicUrl}/upstream/callback/[0-9a-f-]{36}/.+`));
    expect(upstream.pushAnswers.filter((status) => status !== 200)).toEqual([]);
    // The grid and the upscale arrived by callback (U2 needed no LegNext job).
    const submitted = s.bot.logs.filter((l) => l.msg === 'task submitted').map((l) => l.taskId);
    for (const taskId of [submitted[0], submitted.at(-1)]) {
      await s.bot.waitForLog((l) => l.msg === 'callback received' && l.taskId === taskId && l.outcome === 'applied' && l.status === 'succeeded', 5_000);
    }
  });

  it('sent Discord nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
