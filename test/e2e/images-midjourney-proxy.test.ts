// Image inputs on midjourney-proxy end to end: the attachments are fetched from Discord's CDN at submit time and
// sent as base64 data URIs (`base64Array` for image prompts and /mj/submit/blend, `base64` for /mj/submit/describe).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESCRIPTIONS, FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { imageOptions, pdf, png, refusal, slash, suggestedPrompts } from './image-inputs.ts';
import { ALICE, BOB, useRelaySession } from './relay-session.ts';
import { GRID, buttonFaces, customIdOf, isFinal, withSeed } from './support.ts';

let mj: FakeMidjourneyProxy;
beforeAll(async () => {
  mj = await FakeMidjourneyProxy.start({ stepMs: 100 });
});
afterAll(() => mj?.close());

const lastBody = (path: string) => mj.requests.filter((r) => r.path === path).at(-1)?.body as Record<string, unknown> | undefined;
const dataUri = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`;

describe('image inputs on midjourney-proxy', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: mj.opts.apiKey, mode: 'polled' }));

  it('/draw sends attached images as base64Array, the prompt (typed links, --iw) as typed', async () => {
    const ref = await png('ref.png');
    const interaction = await slash(s.discord, 'draw', { prompt: 'https://example.com/a.png a knight --iw 2', ...imageOptions([ref], 'draw') });
    const grid = await interaction.waitForMessage(isFinal, 20_000);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    expect(lastBody('/mj/submit/imagine')).toMatchObject({ prompt: 'https://example.com/a.png a knight --iw 2', base64Array: [dataUri(ref.bytes)] });
    // The attachment was read from Discord's CDN (at submit time); the typed link was not fetched by the bot.
    expect(s.discord.attachmentReads.some((p) => p.endsWith('/ref.png'))).toBe(true);
    s.discord.assertNoViolations();
  });

  it('/blend posts the images and the shape to /mj/submit/blend; the grid gets the usual buttons', async () => {
    const uploads = [await png('a.png'), await png('b.png', 10, 20, 250)];
    const interaction = await slash(s.discord, 'blend', { ...imageOptions(uploads, 'blend'), dimensions: 'landscape' });
    const grid = await interaction.waitForMessage(isFinal, 20_000);
    expect(grid.content).toBe(`**a.png b.png --ar 3:2** - Blend by <@${ALICE}>`);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    expect(lastBody('/mj/submit/blend')).toMatchObject({ base64Array: uploads.map((u) => dataUri(u.bytes)), dimensions: 'LANDSCAPE' });

    const upscaled = await s.click(grid, customIdOf(grid, 'U1'));
    expect(upscaled.content).toBe(`**a.png b.png --ar 3:2** - Image #1 <@${BOB}>`);
    s.discord.assertNoViolations();
  });

  it('/describe shows the four prompts of finalPrompt; 3️⃣ draws the third for the clicker', async () => {
    const photo = await png('photo.png');
    const interaction = await slash(s.discord, 'describe', { image: photo });
    const described = await interaction.waitForMessage(isFinal, 20_000);
    expect(lastBody('/mj/submit/describe')).toMatchObject({ base64: dataUri(photo.bytes) });
    expect(suggestedPrompts(described.content)).toEqual(DESCRIPTIONS);
    expect(buttonFaces(described)).toEqual([['1️⃣', '2️⃣', '3️⃣', '4️⃣']]);

    const grid = await s.click(described, customIdOf(described, '3️⃣'));
    expect(grid.content).toBe(`**${DESCRIPTIONS[2]}** - <@${BOB}>`);
    expect(lastBody('/mj/submit/imagine')).toMatchObject({ prompt: DESCRIPTIONS[2] });
    expect(lastBody('/mj/submit/imagine')!.base64Array).toBeUndefined();
    s.discord.assertNoViolations();
  });

  it('refuses a PDF before anything reaches the relay', async () => {
    const before = mj.requests.length;
    expect(await refusal(await slash(s.discord, 'describe', { image: pdf() }))).toMatch(/not an image/);
    expect(mj.requests.length).toBe(before);
  });
});
