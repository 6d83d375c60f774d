// /animate through the TTApi adapter end to end: the uploaded image's Discord link goes to
// /midjourney/video/submit as `imageUrl` (an end image as `endingUrl`; TTApi has no loop, so a loop ends on the
// start image), and the batch comes back as four clips with U1–U4. TTApi requires a prompt: without one the job
// ends in a clear localized failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { png, refusal, slash } from './image-inputs.ts';
import { useRelaySession } from './relay-session.ts';
import { PermissionFlagsBits } from 'discord.js';
import { EVERYONE_PERMISSIONS } from '../support/fake-discord.ts';
import { ALICE, BOB, buttonFaces, clipsOf, customIdOf, isVideoDelivered } from './support.ts';

const MOD = '100000000000000009';
const MANAGE_SERVER = (BigInt(EVERYONE_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString();

let discord: FakeDiscord;
let tt: FakeTtApi;

beforeAll(async () => {
  [discord, tt] = await Promise.all([FakeDiscord.start(), FakeTtApi.start({ stepMs: 100, video: true })]);
});

afterAll(async () => {
  await tt?.close();
  await discord?.close();
});

const submits = () => tt.requests.filter((r) => r.path === '/midjourney/video/submit').map((r) => r.body as Record<string, unknown>);
const attachmentLink = (name: string) => expect.stringMatching(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/attachments/\\d+/\\d+/${name.replace('.', '\\.')}\\?`));

describe('/animate on TTApi, polled', () => {
  useRelaySession(() => ({ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, mode: 'polled', discord }));

  it('posts the uploaded image and the end image; four clips come back with U1–U4', async () => {
    const interaction = await slash(discord, 'animate', { image: await png('field.png'), prompt: 'wind in the grass', motion: 'high', 'end-image': await png('dusk.png', 20, 20, 90) });
    const batch = await interaction.waitForMessage(isVideoDelivered, 60_000);
    expect(submits().at(-1)).toEqual({ prompt: 'wind in the grass', imageUrl: attachmentLink('field.png'), endingUrl: attachmentLink('dusk.png'), mode: 'fast', manual: 'high', bs: 4 });
    expect(batch.content).toBe(`**wind in the grass** - Animate by <@${ALICE}>`);
    expect(await clipsOf(batch)).toHaveLength(4);
    expect(buttonFaces(batch)).toEqual([['U1', 'U2', 'U3', 'U4']]);
    discord.assertNoViolations();
  });

  it('loop ends on the start image: endingUrl is the image itself', async () => {
    const interaction = await slash(discord, 'animate', { image: await png('ring.png'), prompt: 'a slow spin', loop: true });
    await interaction.waitForMessage(isVideoDelivered, 60_000);
    const body = submits().at(-1)!;
    expect(body).toMatchObject({ imageUrl: attachmentLink('ring.png'), manual: 'low' });
    expect(body.endingUrl).toBe(body.imageUrl);
  });

  it('without a prompt it is refused privately at once (TTApi requires one), in the user’s language; nothing is stored or sent', async () => {
    const before = submits().length;
    expect(await refusal(await slash(discord, 'animate', { image: await png('a.png') }))).toBe(
      'This image service needs a motion prompt to animate an image: run /animate again with **prompt** (how it should move).',
    );
    expect(await refusal(await slash(discord, '动画', { image: await png('a.png') }, { locale: 'zh-CN' }))).toContain('需要运动提示词');
    expect(submits().length).toBe(before);
  });

  it('↻ Retry starts the /animate again as a new job; while video is off in the server it is refused', async () => {
    tt.failNextJob('Video generation failed: busy');
    const failed = await (await slash(discord, 'animate', { image: await png('b.png'), prompt: 'leaves drifting' })).waitForMessage((m) => m.content.startsWith('❌'), 30_000);
    expect(buttonFaces(failed)).toEqual([['↻ Retry']]);
    const before = submits().length;
    const retried = await discord.clickButton({ message: failed, customId: customIdOf(failed, '↻ Retry'), userId: BOB });
    expect((await retried.waitForCallback()).type).toBe(5);
    const again = await retried.waitForMessage(isVideoDelivered, 60_000);
    expect(again.content).toBe(`**leaves drifting** - Animate by <@${BOB}>`);
    expect(submits()).toHaveLength(before + 1);
    expect(submits().at(-1)).toMatchObject({ prompt: 'leaves drifting', imageUrl: attachmentLink('b.png') });

    const admin = (enabled: boolean) =>
      discord.slashCommand({ name: 'draw-admin', subcommand: 'video', options: { enabled }, userId: MOD, locale: 'en-US', memberPermissions: MANAGE_SERVER }).then((i) => i.waitForMessage((m) => m.content.length > 0));
    await admin(false);
    const refused = await discord.clickButton({ message: failed, customId: customIdOf(failed, '↻ Retry'), userId: BOB });
    expect((await refused.waitForCallback()).data).toMatchObject({ flags: 64, content: 'Video is turned off on this server.' });
    await admin(true);
  });
});
