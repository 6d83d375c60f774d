// Video through the LegNext adapter end to end: the real bot, the fake Discord and the fake LegNext.
// /draw → U1 (no LegNext call) → Animate (High motion) → POST /api/v1/video-diffusion {jobId, imageNo, prompt
// --motion high, videoType} → four MP4 clips uploaded as files → U3 (no LegNext call: the batch listed the clip) →
// Extend → POST /api/v1/extend-video {jobId, videoNo, prompt} → a longer clip; /animate sends the attachment's URL
// first in the prompt (text mode); a failure is explained. Polled, and pushed (LegNext's callback).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakeLegnext } from '../support/fake-legnext.ts';
import { png, slash } from './image-inputs.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, buttonFaces, clickVideoOn, clipsOf, customIdOf, expectVideoFailureExplained, isFinal, isVideoDelivered, slashDraw, withSeed } from './support.ts';

let discord: FakeDiscord;
let upstream: FakeLegnext;

beforeAll(async () => {
  [discord, upstream] = await Promise.all([FakeDiscord.start(), FakeLegnext.start({ stepMs: 100 })]);
});

afterAll(async () => {
  await upstream?.close();
  await discord?.close();
});

const clickVideo = (message: SeenMessage, face: string, userId = BOB, locale?: string) => clickVideoOn(discord, message, face, userId, locale);

/** /draw, then U1 (LegNext's grid already holds the image): the picked image. */
async function pick(prompt: string): Promise<SeenMessage> {
  const grid = await (await slashDraw(discord, prompt)).waitForMessage(isFinal, 20_000);
  return (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U1'), userId: ALICE })).waitForMessage(isFinal, 20_000);
}

const ANIMATE_ROW = ['Animate (Low motion)', 'Animate (High motion)', 'Manual (Low motion)', 'Manual (High motion)'];
const EXTEND_ROW = ['Extend (Low motion)', 'Extend (High motion)'];

describe('LegNext video, polled', () => {
  useRelaySession(() => ({ provider: 'legnext', baseUrl: upstream.url, apiKey: upstream.apiKey, mode: 'polled', discord }));

  let picked: SeenMessage;
  let batch: SeenMessage;
  let clip: SeenMessage;

  it('a picked image offers Animate (automatic and manual)', async () => {
    picked = await pick('a red kite over the sea');
    expect(buttonFaces(picked)).toContainEqual(ANIMATE_ROW);
  });

  it('Animate (High motion) animates the grid\'s image 0 through /video-diffusion: four playable clips with U1–U4', async () => {
    batch = await clickVideo(picked, 'Animate (High motion)');
    const grid = upstream.jobsOf('diffusion').at(-1)!;
    expect(upstream.posts('video-diffusion').at(-1)).toEqual({ jobId: grid, imageNo: 0, prompt: 'a red kite over the sea --motion high', videoType: 0 });
    expect(batch.content).toBe(`**a red kite over the sea** - Animate by <@${BOB}>`);
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    expect(new Set(clips.map((c) => c.bytes.toString('base64'))).size).toBe(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    discord.assertNoViolations();
  });

  it('U3 shows the third clip without a LegNext call and offers Extend', async () => {
    const calls = upstream.posts().length;
    clip = await clickVideo(batch, 'U3', ALICE);
    expect(upstream.posts()).toHaveLength(calls);
    expect(clip.content).toBe(`**a red kite over the sea** - Video #3 <@${ALICE}>`);
    const [mine] = await clipsOf(clip);
    const [third] = await clipsOf({ ...batch, attachments: [batch.attachments[2]!] });
    expect(mine!.bytes.equals(third!.bytes)).toBe(true);
    expect(buttonFaces(clip)).toEqual([EXTEND_ROW]);
  });

  it('Extend (Low motion) continues videoNo 2 of the batch through /extend-video: a longer clip, extendable again', async () => {
    const [before] = await clipsOf(clip);
    const batchJob = upstream.jobsOf('video-diffusion').at(-1)!;
    const extended = await clickVideo(clip, 'Extend (Low motion)', ALICE);
    expect(upstream.posts('extend-video').at(-1)).toEqual({ jobId: batchJob, videoNo: 2, prompt: 'a red kite over the sea --motion low' });
    expect(extended.content).toBe(`**a red kite over the sea** - Extend by <@${ALICE}>`);
    const after = await clipsOf(extended);
    expect(after).toHaveLength(1);
    expect(after[0]!.seconds).toBeGreaterThan(before!.seconds + 0.5);
    expect(buttonFaces(extended)).toEqual([EXTEND_ROW]);

    // The extended clip extends again: its own job, its only clip.
    const again = await clickVideo(extended, 'Extend (High motion)', ALICE);
    expect(upstream.posts('extend-video').at(-1)).toEqual({ jobId: upstream.jobsOf('extend-video').at(-2), videoNo: 0, prompt: 'a red kite over the sea --motion high' });
    const [longer] = await clipsOf(again);
    expect(longer!.seconds).toBeGreaterThan(after[0]!.seconds + 0.5);
  });

  it('Manual (Low motion) sends the motion prompt typed in the modal', async () => {
    const opened = await discord.clickButton({ message: picked, customId: customIdOf(picked, 'Manual (Low motion)'), userId: BOB });
    const modal = await opened.waitForCallback();
    expect(modal.type).toBe(9);
    expect(JSON.stringify(modal.data)).toContain('a red kite over the sea');
    const submitted = await discord.submitModal({ from: opened, values: { motion: 'the kite dives toward the waves' }, userId: BOB });
    const done = await submitted.waitForMessage(isVideoDelivered, 60_000);
    expect(upstream.posts('video-diffusion').at(-1)).toMatchObject({ imageNo: 0, prompt: 'the kite dives toward the waves --motion low' });
    expect(await clipsOf(done)).toHaveLength(4);
  });

  it('an upscale animates its own image 0; clips LegNext lists as image_urls of a video job are read as clips', async () => {
    const up = await (await discord.clickButton({ message: picked, customId: customIdOf(picked, 'Upscale (Subtle)'), userId: ALICE })).waitForMessage(isFinal, 20_000);
    expect(buttonFaces(up)).toEqual(withSeed([ANIMATE_ROW]));
    upstream.videoShape = 'image_urls';
    try {
      const animated = await clickVideo(up, 'Animate (Low motion)', ALICE);
      expect(upstream.posts('video-diffusion').at(-1)).toEqual({ jobId: upstream.jobsOf('upscale').at(-1), imageNo: 0, prompt: 'a red kite over the sea --motion low', videoType: 0 });
      expect(await clipsOf(animated)).toHaveLength(4);
      expect(buttonFaces(animated)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    } finally {
      upstream.videoShape = 'video_urls';
    }
  });

  it('/animate puts the attachment\'s URL first in the prompt, then the motion, the end frame and the loop', async () => {
    const link = (name: string) => `http://127\\.0\\.0\\.1:\\d+/attachments/\\d+/\\d+/${name.replace('.', '\\.')}\\?\\S+`;
    const interaction = await slash(discord, 'animate', { image: await png('pond.png'), prompt: 'ripples spreading', motion: 'high', 'end-image': await png('still.png', 20, 20, 90) });
    const animated = await interaction.waitForMessage(isVideoDelivered, 60_000);
    const sent = upstream.posts('video-diffusion').at(-1)!;
    expect(sent).toEqual({ prompt: expect.any(String), videoType: 0 });
    expect(String(sent.prompt)).toMatch(new RegExp(`^${link('pond.png')} ripples spreading --motion high --end ${link('still.png')}$`));
    expect(animated.content).toBe(`**ripples spreading** - Animate by <@${ALICE}>`);
    expect(await clipsOf(animated)).toHaveLength(4);
    expect(buttonFaces(animated)).toEqual([['U1', 'U2', 'U3', 'U4']]);

    // Without a prompt LegNext animates the image alone (text mode: the link is the prompt).
    const looped = await (await slash(discord, 'animate', { image: await png('ring.png'), loop: true })).waitForMessage(isVideoDelivered, 60_000);
    expect(String(upstream.posts('video-diffusion').at(-1)!.prompt)).toMatch(new RegExp(`^${link('ring.png')} --motion low --loop$`));
    expect(await clipsOf(looped)).toHaveLength(4);
  });

  it('a video job LegNext fails ends in a clear localized message', async () => {
    upstream.failPrompts(/^a doomed lighthouse --motion/, 'Video generation failed: moderation');
    const up = await pick('a doomed lighthouse');
    await expectVideoFailureExplained(discord, up, 'a doomed lighthouse');
  });
});

describe('LegNext video, pushed (callback only: polling every 60 s cannot finish a job here)', () => {
  useRelaySession(() => ({ provider: 'legnext', baseUrl: upstream.url, apiKey: upstream.apiKey, mode: 'pushed', discord }));

  it('Animate and Extend finish through the callback, with their clips', async () => {
    const picked = await pick('a paper boat on a pond');
    const batch = await clickVideo(picked, 'Animate (Low motion)');
    expect(upstream.posts('video-diffusion').at(-1)).toMatchObject({ imageNo: 0, callback: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });
    expect(await clipsOf(batch)).toHaveLength(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    const clip = await clickVideo(batch, 'U1', ALICE);
    const extended = await clickVideo(clip, 'Extend (High motion)', ALICE);
    expect(upstream.posts('extend-video').at(-1)).toMatchObject({ videoNo: 0, callback: expect.any(String) });
    expect(await clipsOf(extended)).toHaveLength(1);
    expect(upstream.pushAnswers.filter((status) => status !== 200)).toEqual([]);
    discord.assertNoViolations();
  });
});
