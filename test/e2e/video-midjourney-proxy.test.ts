// Video through the midjourney-proxy (trueai-org) adapter end to end: the real bot, the fake Discord and a fake
// relay with video on. /draw → U1 → Animate (High motion) → four MP4 clips uploaded as files (decoded by ffmpeg)
// → U3 → Extend (Low motion) → a longer clip, re-encoded when Discord refuses it as too large; a relay failure
// ends in a clear message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBaidu } from '../support/fake-baidu.ts';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, buttonFaces, clickVideoOn, clipsOf, customIdOf, drawAndUpscale, isVideoDelivered, withSeed } from './support.ts';

const KEY = 'mj-video-secret';
// The relay's buttons after an upscale with video on (Vary (Region) left out: it needs a mask editor; ✏️ Edit added).
const AFTER_UPSCALE = [
  ['Vary (Strong)', 'Vary (Subtle)', 'Edit'],
  ['Zoom Out 2x', 'Zoom Out 1.5x', 'Custom Zoom'],
  ['⬅️', '➡️', '⬆️', '⬇️'],
  // Manual Animate has no button at the relay: offered where it animates, through /mj/submit/video.
  ['Animate (Low motion)', 'Animate (High motion)', 'Manual (Low motion)', 'Manual (High motion)'],
  ['Upscale (2x)', 'Upscale (4x)'],
];

let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let baidu: FakeBaidu;

beforeAll(async () => {
  [discord, mj, baidu] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 100, video: true }), FakeBaidu.start({ dictionary: { 风筝冲向海浪: 'the kite swoops toward the waves' } })]);
});

afterAll(async () => {
  await mj?.close();
  await baidu?.close();
  await discord?.close();
});

const clickVideo = (message: SeenMessage, face: string, userId = BOB) => clickVideoOn(discord, message, face, userId);

const upscale = (prompt: string) => drawAndUpscale(discord, prompt);

const actionBodies = () => mj.requests.filter((r) => r.path === '/mj/submit/action').map((r) => r.body as Record<string, unknown>);

describe('midjourney-proxy video, polled', () => {
  useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'polled', discord, env: baidu.env }));

  let upscaled: SeenMessage;
  let batch: SeenMessage;
  let picked: SeenMessage;

  it('an upscale offers the relay’s Animate buttons', async () => {
    upscaled = await upscale('a red kite over the sea');
    expect(buttonFaces(upscaled)).toEqual(withSeed(AFTER_UPSCALE));
    expect(JSON.stringify(upscaled.components)).not.toContain('MJ::');
  });

  it('Animate (High motion) submits the animate_high customId and uploads four playable clips with U1–U4', async () => {
    batch = await clickVideo(upscaled, 'Animate (High motion)');
    expect(actionBodies().at(-1)).toMatchObject({ customId: expect.stringMatching(/^MJ::JOB::animate_high::1::[^:]+::SOLO$/) });
    expect(batch.content).toBe('**a red kite over the sea** - Animate by <@100000000000000002>');
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    expect(new Set(clips.map((c) => c.bytes.toString('base64'))).size).toBe(4);
    // The relay's reroll under a batch of clips is not offered: only the picks.
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    discord.assertNoViolations();
  });

  it('U3 picks the third clip (video_virtual_upscale) and offers Extend', async () => {
    picked = await clickVideo(batch, 'U3', ALICE);
    expect(actionBodies().at(-1)).toMatchObject({ customId: expect.stringMatching(/^MJ::JOB::video_virtual_upscale::3::/) });
    expect(picked.content).toBe('**a red kite over the sea** - Video #3 <@100000000000000001>');
    const [clip] = await clipsOf(picked);
    const [third] = await clipsOf({ ...batch, attachments: [batch.attachments[2]!] });
    expect(clip!.bytes.equals(third!.bytes)).toBe(true);
    expect(buttonFaces(picked)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);
  });

  it('Extend (Low motion) makes a longer clip, re-encoded when over the upload limit', async () => {
    const [before] = await clipsOf(picked);
    // Below the longer clip, above what re-encoding can reach.
    const limit = before!.bytes.length;
    Object.assign(discord, { uploadLimitBytes: limit });
    try {
      const extended = await clickVideo(picked, 'Extend (Low motion)', ALICE);
      expect(actionBodies().at(-1)).toMatchObject({ customId: expect.stringMatching(/^MJ::JOB::animate_low_extend::1::/) });
      expect(extended.content).toBe('**a red kite over the sea** - Extend by <@100000000000000001>');
      const [after] = await clipsOf(extended);
      expect(after!.seconds).toBeGreaterThan(before!.seconds + 0.5);
      expect(after!.bytes.length).toBeLessThanOrEqual(limit);
    } finally {
      Object.assign(discord, { uploadLimitBytes: 10 * 1024 * 1024 });
    }
  });

  it('a clip that cannot fit even re-encoded is left out with a clear message, buttons kept', async () => {
    Object.assign(discord, { uploadLimitBytes: 600 });
    try {
      const again = await clickVideo(picked, 'Extend (High motion)', ALICE);
      expect(again.attachments).toHaveLength(0);
      expect(again.content).toBe('**a red kite over the sea** - Extend by <@100000000000000001>\nThe video is larger than this channel\'s upload limit, even made smaller, so it is not attached.');
      expect(buttonFaces(again)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);
    } finally {
      Object.assign(discord, { uploadLimitBytes: 10 * 1024 * 1024 });
    }
  });

  it('Manual (High motion) asks for the motion prompt and sends it with the image to /mj/submit/video', async () => {
    const opened = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Manual (High motion)'), userId: BOB });
    const modal = await opened.waitForCallback();
    expect(modal.type).toBe(9);
    expect(JSON.stringify(modal.data)).toContain('a red kite over the sea');
    const submitted = await discord.submitModal({ from: opened, values: { motion: 'the kite dives toward the waves' }, userId: BOB });
    const done = await submitted.waitForMessage(isVideoDelivered, 60_000);
    const body = mj.requests.filter((r) => r.path === '/mj/submit/video').at(-1)!.body as Record<string, unknown>;
    expect(body).toMatchObject({ prompt: 'the kite dives toward the waves', motion: 'high', image: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/images\/\d+-single\.png$/), batchSize: 4 });
    expect(done.content).toBe('**the kite dives toward the waves** - Animate by <@100000000000000002>');
    expect(await clipsOf(done)).toHaveLength(4);
  });

  it('a motion prompt typed in Chinese goes upstream in English (Baidu), like a /draw prompt', async () => {
    const opened = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Manual (Low motion)'), userId: BOB, locale: 'zh-CN' });
    await opened.waitForCallback();
    const submitted = await discord.submitModal({ from: opened, values: { motion: '风筝冲向海浪' }, userId: BOB, locale: 'zh-CN' });
    const done = await submitted.waitForMessage(isVideoDelivered, 60_000);
    const body = mj.requests.filter((r) => r.path === '/mj/submit/video').at(-1)!.body as Record<string, unknown>;
    expect(body).toMatchObject({ prompt: 'the kite swoops toward the waves', motion: 'low' });
    expect(done.content.startsWith('**风筝冲向海浪**')).toBe(true);
    expect(await clipsOf(done)).toHaveLength(4);
  });

  it('a relay failure of a video job ends in a clear message', async () => {
    const up = await upscale('a doomed lighthouse');
    mj.failPrompt('doomed', 'Video generation failed: moderation');
    const failed = await clickVideo(up, 'Animate (Low motion)');
    expect(failed.content).toMatch(/^❌ \*\*a doomed lighthouse\*\* - Animate by <@100000000000000002>\n.*Video generation failed: moderation/);
    expect(failed.attachments).toHaveLength(0);
  });
});

describe('midjourney-proxy video, pushed (notifyHook only: polling every 60 s cannot finish a job here)', () => {
  useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'pushed', discord }));

  it('Animate and a pick finish through the relay’s callbacks', async () => {
    const up = await upscale('a paper boat on a pond');
    const batch = await clickVideo(up, 'Animate (Low motion)');
    const videoCall = actionBodies().at(-1)!;
    expect(videoCall).toMatchObject({ customId: expect.stringMatching(/^MJ::JOB::animate_low::1::/), notifyHook: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });
    expect(await clipsOf(batch)).toHaveLength(4);
    const picked = await clickVideo(batch, 'U1', ALICE);
    expect(picked.content).toBe('**a paper boat on a pond** - Video #1 <@100000000000000001>');
    expect(await clipsOf(picked)).toHaveLength(1);
  });
});
