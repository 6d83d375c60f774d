// /animate through the midjourney-proxy (trueai-org) adapter end to end: the user's uploaded PNG goes to
// `POST /mj/submit/video` (SubmitVideoDTO: prompt, motion, image, endImage?, loop, videoType, batchSize) as its
// Discord link, and the relay's batch comes back as four clips with U1–U4, whose picks work as Animate's do.
// A relay with video off refuses the job with its own words; a non-image attachment never reaches the relay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { pdf, png, refusal, slash } from './image-inputs.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, buttonFaces, clipsOf, customIdOf, isVideoDelivered } from './support.ts';

const KEY = 'mj-animate-secret';

let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let off: FakeMidjourneyProxy;

beforeAll(async () => {
  [discord, mj, off] = await Promise.all([
    FakeDiscord.start(),
    FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 100, video: true }),
    FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 100 }),
  ]);
});

afterAll(async () => {
  await Promise.all([mj?.close(), off?.close()]);
  await discord?.close();
});

const videoBodies = (relay: FakeMidjourneyProxy) => relay.requests.filter((r) => r.path === '/mj/submit/video').map((r) => r.body as Record<string, unknown>);
const attachmentLink = (name: string) => expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/attachments/\\d+/\\d+/${name.replace('.', '\\.')}\\?`));

describe('/animate on midjourney-proxy, polled', () => {
  useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'polled', discord }));

  it('sends the uploaded image, the end image and the motion prompt to /mj/submit/video; four clips come back with U1–U4', async () => {
    const interaction = await slash(discord, 'animate', { image: await png('harbour.png'), prompt: 'boats rock gently', motion: 'high', 'end-image': await png('night.png', 10, 10, 60) }, { userId: BOB });
    expect((await interaction.waitForCallback()).type).toBe(5);
    const batch = await interaction.waitForMessage(isVideoDelivered, 60_000);
    expect(videoBodies(mj).at(-1)).toEqual({
      prompt: 'boats rock gently',
      motion: 'high',
      image: attachmentLink('harbour.png'),
      endImage: attachmentLink('night.png'),
      loop: false,
      videoType: 'vid_1.1_i2v_480',
      batchSize: 4,
      state: expect.any(String),
    });
    expect(batch.content).toBe(`**boats rock gently** - Animate by <@${BOB}>`);
    const clips = await clipsOf(batch);
    expect(clips).toHaveLength(4);
    expect(new Set(clips.map((c) => c.bytes.toString('base64'))).size).toBe(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);

    const pick = await discord.clickButton({ message: batch, customId: customIdOf(batch, 'U2'), userId: ALICE });
    const picked = await pick.waitForMessage(isVideoDelivered, 60_000);
    expect(picked.content).toBe(`**boats rock gently** - Video #2 <@${ALICE}>`);
    const [clip] = await clipsOf(picked);
    const [second] = await clipsOf({ ...batch, attachments: [batch.attachments[1]!] });
    expect(clip!.bytes.equals(second!.bytes)).toBe(true);
    expect(buttonFaces(picked)).toEqual([['Extend (Low motion)', 'Extend (High motion)']]);
    discord.assertNoViolations();
  });

  it('loop without a prompt: an empty prompt, low motion, loop true, no end image', async () => {
    const interaction = await slash(discord, 'animate', { image: await png('wave.png'), loop: true });
    const batch = await interaction.waitForMessage(isVideoDelivered, 60_000);
    const body = videoBodies(mj).at(-1)!;
    expect(body).toMatchObject({ prompt: '', motion: 'low', image: attachmentLink('wave.png'), loop: true, batchSize: 4 });
    expect(body).not.toHaveProperty('endImage');
    expect(batch.content).toBe(`**wave.png** - Animate by <@${ALICE}>`);
    expect(await clipsOf(batch)).toHaveLength(4);
  });

  it('a non-image attachment is refused before anything reaches the relay', async () => {
    const before = mj.requests.length;
    expect(await refusal(await slash(discord, 'animate', { image: pdf() }))).toBe('**notes.pdf** is not an image I can use: attach PNG, JPEG, WebP or GIF files.');
    expect(await refusal(await slash(discord, '动画', { image: pdf() }, { locale: 'zh-CN' }))).toMatch(/notes\.pdf/);
    expect(mj.requests.length).toBe(before);
  });
});

describe('/animate on midjourney-proxy with video off at the relay', () => {
  useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: off.url, apiKey: KEY, mode: 'polled', discord }));

  it('ends in a clear failure with the relay’s words', async () => {
    const interaction = await slash(discord, 'animate', { image: await png('a.png') });
    const failed = await interaction.waitForMessage((m) => m.content.startsWith('❌'), 30_000);
    expect(videoBodies(off)).toHaveLength(1);
    expect(failed.content).toContain('未开启视频功能');
  });
});
