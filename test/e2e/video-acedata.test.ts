// Video through the AceData adapter end to end: the real bot, the fake Discord and the fake AceData.
// /draw → U1 → Animate (High motion) → POST /midjourney/videos {action: generate} (ndjson-streamed, polled; or with
// callback_url, pushed) → four MP4 clips uploaded as files → U3 (no AceData call: the batch listed the clip) →
// Extend → POST /midjourney/videos {action: extend, video_id, video_index} → longer clips; a failure is explained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAceData } from '../support/fake-acedata.ts';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { png, refusal, slash } from './image-inputs.ts';
import { useRelaySession } from './relay-session.ts';
import { ACEDATA_AFTER_UPSCALE, ALICE, BOB, buttonFaces, clickVideoOn, clipsOf, customIdOf, drawAndUpscale, expectVideoFailureExplained, isVideoDelivered } from './support.ts';

let discord: FakeDiscord;
let ace: FakeAceData;

beforeAll(async () => {
  [discord, ace] = await Promise.all([FakeDiscord.start(), FakeAceData.start({ stepMs: 100 })]);
});

afterAll(async () => {
  await ace?.close();
  await discord?.close();
});

const clickVideo = (message: SeenMessage, face: string, userId = BOB, locale?: string) => clickVideoOn(discord, message, face, userId, locale);

const upscale = (prompt: string) => drawAndUpscale(discord, prompt);

const videoBodies = () => ace.requests.filter((r) => r.path === '/midjourney/videos').map((r) => r.body as Record<string, unknown>);

describe('AceData video, polled (ndjson streams)', () => {
  useRelaySession(() => ({ provider: 'acedata', baseUrl: ace.url, apiKey: ace.apiKey, mode: 'polled', discord }));

  let upscaled: SeenMessage;
  let batch: SeenMessage;
  let picked: SeenMessage;

  it('an upscale offers Animate (automatic and manual)', async () => {
    upscaled = await upscale('a red kite over the sea');
    expect(buttonFaces(upscaled)).toEqual(ACEDATA_AFTER_UPSCALE);
  });

  it('Animate (High motion) posts the full-size image to /midjourney/videos and uploads four playable clips with U1–U4', async () => {
    batch = await clickVideo(upscaled, 'Animate (High motion)');
    const sent = ace.requests.filter((r) => r.path === '/midjourney/videos').at(-1)!;
    expect(sent.headers.accept).toContain('application/x-ndjson');
    expect(sent.body).toEqual({
      action: 'generate',
      prompt: 'a red kite over the sea --motion high',
      // The raw image (raw_image_url), not the thumbnail with its width/height.
      image_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/assets\/img\d+\.png\?ex=662fdb36&$/),
    });
    expect(batch.content).toBe(`**a red kite over the sea** - Animate by <@${BOB}>`);
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    expect(new Set(clips.map((c) => c.bytes.toString('base64'))).size).toBe(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    discord.assertNoViolations();
  });

  it('U3 shows the third clip without an AceData call and offers Extend', async () => {
    const calls = ace.requests.filter((r) => r.method === 'POST').length;
    picked = await clickVideo(batch, 'U3', ALICE);
    expect(ace.requests.filter((r) => r.method === 'POST')).toHaveLength(calls);
    expect(picked.content).toBe(`**a red kite over the sea** - Video #3 <@${ALICE}>`);
    const [clip] = await clipsOf(picked);
    const [third] = await clipsOf({ ...batch, attachments: [batch.attachments[2]!] });
    expect(clip!.bytes.equals(third!.bytes)).toBe(true);
    expect(buttonFaces(picked)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);
  });

  it('Extend (Low motion) continues video_index 2 of the batch: four longer clips, each pickable and extendable', async () => {
    const [before] = await clipsOf(picked);
    const batchVideoId = [...ace.videos.keys()].at(-1)!;
    const extended = await clickVideo(picked, 'Extend (Low motion)', ALICE);
    expect(videoBodies().at(-1)).toEqual({ action: 'extend', prompt: 'a red kite over the sea --motion low', video_id: batchVideoId, video_index: 2 });
    expect(extended.content).toBe(`**a red kite over the sea** - Extend by <@${ALICE}>`);
    const after = await clipsOf(extended);
    expect(after).toHaveLength(4);
    expect(after[0]!.seconds).toBeGreaterThan(before!.seconds + 0.5);
    expect(buttonFaces(extended)).toEqual([['U1', 'U2', 'U3', 'U4']]);

    // A clip of the extended batch extends again, from the new batch's own video_id.
    const second = await clickVideo(extended, 'U2', ALICE);
    const again = await clickVideo(second, 'Extend (High motion)', ALICE);
    const newVideoId = [...ace.videos.keys()].at(-2)!;
    expect(videoBodies().at(-1)).toMatchObject({ action: 'extend', video_id: newVideoId, video_index: 1, prompt: 'a red kite over the sea --motion high' });
    const [longer] = await clipsOf(again);
    expect(longer!.seconds).toBeGreaterThan(after[0]!.seconds + 0.5);
  });

  it('Manual (Low motion) sends the motion prompt typed in the modal', async () => {
    const opened = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Manual (Low motion)'), userId: BOB });
    const modal = await opened.waitForCallback();
    expect(modal.type).toBe(9);
    expect(JSON.stringify(modal.data)).toContain('a red kite over the sea');
    const submitted = await discord.submitModal({ from: opened, values: { motion: 'the kite dives toward the waves' }, userId: BOB });
    const done = await submitted.waitForMessage(isVideoDelivered, 60_000);
    expect(videoBodies().at(-1)).toMatchObject({ action: 'generate', prompt: 'the kite dives toward the waves --motion low' });
    expect(await clipsOf(done)).toHaveLength(4);
  });

  it('/animate sends the uploaded image, the end image and the motion; four clips come back; no prompt is refused clearly', async () => {
    const link = (name: string) => expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/attachments/\\d+/\\d+/${name.replace('.', '\\.')}\\?`));
    const interaction = await slash(discord, 'animate', { image: await png('pond.png'), prompt: 'ripples spreading', motion: 'high', 'end-image': await png('still.png', 20, 20, 90) });
    const animated = await interaction.waitForMessage(isVideoDelivered, 60_000);
    expect(videoBodies().at(-1)).toEqual({ action: 'generate', prompt: 'ripples spreading --motion high', image_url: link('pond.png'), end_image_url: link('still.png') });
    expect(animated.content).toBe(`**ripples spreading** - Animate by <@${ALICE}>`);
    expect(await clipsOf(animated)).toHaveLength(4);
    expect(buttonFaces(animated)).toEqual([['U1', 'U2', 'U3', 'U4']]);

    const looped = await (await slash(discord, 'animate', { image: await png('ring.png'), prompt: 'a slow spin', loop: true })).waitForMessage(isVideoDelivered, 60_000);
    expect(videoBodies().at(-1)).toEqual({ action: 'generate', prompt: 'a slow spin --motion low', image_url: link('ring.png'), loop: true });
    expect(await clipsOf(looped)).toHaveLength(4);

    const before = videoBodies().length;
    expect(await refusal(await slash(discord, 'animate', { image: await png('quiet.png') }))).toContain('needs a motion prompt');
    expect(videoBodies()).toHaveLength(before);
  });

  it('a relay failure of a video job ends in a clear localized message', async () => {
    const up = await upscale('a doomed lighthouse');
    ace.failNextJob('Video generation failed: moderation');
    await expectVideoFailureExplained(discord, up, 'a doomed lighthouse');
  });
});

describe('AceData video, pushed (callback_url only: polling every 60 s cannot finish a job here)', () => {
  useRelaySession(() => ({ provider: 'acedata', baseUrl: ace.url, apiKey: ace.apiKey, mode: 'pushed', discord }));

  it('Animate and Extend finish through the callback, with their clips', async () => {
    const up = await upscale('a paper boat on a pond');
    const batch = await clickVideo(up, 'Animate (Low motion)');
    expect(videoBodies().at(-1)).toMatchObject({ action: 'generate', callback_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });
    expect(await clipsOf(batch)).toHaveLength(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    const picked = await clickVideo(batch, 'U1', ALICE);
    const extended = await clickVideo(picked, 'Extend (High motion)', ALICE);
    expect(videoBodies().at(-1)).toMatchObject({ action: 'extend', video_index: 0, callback_url: expect.any(String) });
    expect(await clipsOf(extended)).toHaveLength(4);
    discord.assertNoViolations();
  });
});
