// Video through the TTApi adapter end to end: the real bot, the fake Discord and a fake TTApi with video on.
// /draw → U1 → Animate (High motion) → /midjourney/video/submit → four MP4 clips uploaded as files (decoded by
// ffmpeg) → U3 (no TTApi call: the batch holds the clip) → Extend → /midjourney/video/extend → a longer clip;
// a relay failure ends in a clear localized message. With TTAPI_VIDEO_RESOLUTION=hd, Animate asks for hd clips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakeTtApi, TT_CLIP_SIZE } from '../support/fake-ttapi.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, SIMULATOR_AFTER_UPSCALE, buttonFaces, clickVideoOn, clipsOf, customIdOf, drawAndUpscale, expectVideoFailureExplained, isVideoDelivered, withSeed } from './support.ts';

let discord: FakeDiscord;
let tt: FakeTtApi;

beforeAll(async () => {
  [discord, tt] = await Promise.all([FakeDiscord.start(), FakeTtApi.start({ stepMs: 100, video: true })]);
});

afterAll(async () => {
  await tt?.close();
  await discord?.close();
});

const clickVideo = (message: SeenMessage, face: string, userId = BOB, locale?: string) => clickVideoOn(discord, message, face, userId, locale);

const upscale = (prompt: string) => drawAndUpscale(discord, prompt);

/** A clip's picture size, from its track header (`tkhd`, version 0: width and height are 16.16 fixed point at +76/+80 after the type). */
function clipSize(mp4: Buffer): { width: number; height: number } {
  const at = mp4.indexOf('tkhd') + 4;
  if (at < 4 || mp4[at] !== 0) throw new Error('no version-0 tkhd box');
  return { width: mp4.readUInt32BE(at + 76) >>> 16, height: mp4.readUInt32BE(at + 80) >>> 16 };
}

const bodiesOf = (path: string) => tt.requests.filter((r) => r.path === path).map((r) => r.body as Record<string, unknown>);

describe('TTApi video, polled', () => {
  useRelaySession(() => ({ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, mode: 'polled', discord }));

  let upscaled: SeenMessage;
  let batch: SeenMessage;
  let picked: SeenMessage;

  it('an upscale offers Animate (automatic and manual)', async () => {
    upscaled = await upscale('a red kite over the sea');
    expect(buttonFaces(upscaled)).toEqual(withSeed(SIMULATOR_AFTER_UPSCALE));
  });

  it('Animate (High motion) posts the image to /midjourney/video/submit and uploads four playable clips with U1–U4', async () => {
    batch = await clickVideo(upscaled, 'Animate (High motion)');
    expect(bodiesOf('/midjourney/video/submit').at(-1)).toEqual({
      prompt: 'a red kite over the sea',
      imageUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/assets\/[\w-]+-final\.png$/),
      mode: 'fast',
      manual: 'high',
      bs: 4,
    });
    expect(batch.content).toBe(`**a red kite over the sea** - Animate by <@${BOB}>`);
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    // sd (TTApi's default) is not sent: its clips come at sd's size.
    expect(clipSize(clips[0]!.bytes)).toEqual(TT_CLIP_SIZE.sd);
    expect(new Set(clips.map((c) => c.bytes.toString('base64'))).size).toBe(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    discord.assertNoViolations();
  });

  it('U3 shows the third clip without a TTApi call and offers Extend', async () => {
    const videoCalls = tt.requests.filter((r) => r.path.startsWith('/midjourney/video/')).length;
    picked = await clickVideo(batch, 'U3', ALICE);
    expect(tt.requests.filter((r) => r.path.startsWith('/midjourney/video/'))).toHaveLength(videoCalls);
    expect(picked.content).toBe(`**a red kite over the sea** - Video #3 <@${ALICE}>`);
    const [clip] = await clipsOf(picked);
    const [third] = await clipsOf({ ...batch, attachments: [batch.attachments[2]!] });
    expect(clip!.bytes.equals(third!.bytes)).toBe(true);
    expect(buttonFaces(picked)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);
  });

  it('Extend (Low motion) continues clip index 2 through /midjourney/video/extend: a longer clip', async () => {
    const [before] = await clipsOf(picked);
    const extended = await clickVideo(picked, 'Extend (Low motion)', ALICE);
    const submitted = tt.requests.filter((r) => r.path === '/midjourney/video/submit').length;
    expect(bodiesOf('/midjourney/video/extend').at(-1)).toEqual({ jobId: expect.any(String), index: 2, manual: 'low', animateMode: 'auto', bs: 1 });
    // The batch's own job, not a made-up pick id.
    expect(tt.jobs.get(String(bodiesOf('/midjourney/video/extend').at(-1)!.jobId))?.video?.patterns).toHaveLength(4);
    expect(extended.content).toBe(`**a red kite over the sea** - Extend by <@${ALICE}>`);
    const [after] = await clipsOf(extended);
    expect(after!.seconds).toBeGreaterThan(before!.seconds + 0.5);
    expect(buttonFaces(extended)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);

    // An extended clip extends again, from its own job (index 0 of a batch of one).
    const again = await clickVideo(extended, 'Extend (High motion)', ALICE);
    expect(bodiesOf('/midjourney/video/extend').at(-1)).toMatchObject({ index: 0, manual: 'high', bs: 1 });
    const [longer] = await clipsOf(again);
    expect(longer!.seconds).toBeGreaterThan(after!.seconds + 0.5);
    expect(tt.requests.filter((r) => r.path === '/midjourney/video/submit')).toHaveLength(submitted);
  });

  it('Manual (Low motion) sends the motion prompt typed in the modal', async () => {
    const opened = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Manual (Low motion)'), userId: BOB });
    const modal = await opened.waitForCallback();
    expect(modal.type).toBe(9);
    expect(JSON.stringify(modal.data)).toContain('a red kite over the sea');
    const submitted = await discord.submitModal({ from: opened, values: { motion: 'the kite dives toward the waves' }, userId: BOB });
    const done = await submitted.waitForMessage(isVideoDelivered, 60_000);
    expect(bodiesOf('/midjourney/video/submit').at(-1)).toMatchObject({ prompt: 'the kite dives toward the waves', manual: 'low', bs: 4 });
    expect(await clipsOf(done)).toHaveLength(4);
  });

  it('a relay failure of a video job ends in a clear localized message', async () => {
    const up = await upscale('a doomed lighthouse');
    tt.failNextJob('Video generation failed: moderation');
    await expectVideoFailureExplained(discord, up, 'a doomed lighthouse');
  });
});

describe('TTApi video, pushed (hookUrl only: polling every 60 s cannot finish a job here)', () => {
  useRelaySession(() => ({ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, mode: 'pushed', discord }));

  it('Animate finishes through the hook, with its clips', async () => {
    const up = await upscale('a paper boat on a pond');
    const batch = await clickVideo(up, 'Animate (Low motion)');
    expect(bodiesOf('/midjourney/video/submit').at(-1)).toMatchObject({ manual: 'low', hookUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });
    expect(await clipsOf(batch)).toHaveLength(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
  });
});

describe('TTApi video with TTAPI_VIDEO_RESOLUTION=hd', () => {
  useRelaySession(() => ({ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, mode: 'polled', discord, env: { TTAPI_VIDEO_RESOLUTION: 'hd' } }));

  it('Animate asks TTApi for hd and uploads its hd clips', async () => {
    const up = await upscale('a lighthouse in a storm');
    const batch = await clickVideo(up, 'Animate (Low motion)');
    expect(bodiesOf('/midjourney/video/submit').at(-1)).toMatchObject({ manual: 'low', resolution: 'hd', bs: 4 });
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    expect(clips.map((c) => clipSize(c.bytes))).toEqual(Array(4).fill(TT_CLIP_SIZE.hd));
  });
});
