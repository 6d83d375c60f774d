// Image inputs on AceData end to end: attachments go as their Discord CDN URLs (never downloaded by the bot),
// before the text of an image prompt, as 2–5 URLs and the shape for /blend, and to /midjourney/describe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACE_DESCRIPTIONS, FakeAceData } from '../support/fake-acedata.ts';
import { imageOptions, oversized, png, refusal, slash, suggestedPrompts } from './image-inputs.ts';
import { ALICE, BOB, useRelaySession } from './relay-session.ts';
import { GRID, buttonFaces, customIdOf, isFinal, withSeed } from './support.ts';

let ace: FakeAceData;
beforeAll(async () => {
  ace = await FakeAceData.start({ stepMs: 100 });
});
afterAll(() => ace?.close());

const lastBody = (path: string) => ace.requests.filter((r) => r.path === path).at(-1)?.body as Record<string, unknown> | undefined;
const cdnUrl = /^http:\/\/127\.0\.0\.1:\d+\/attachments\/\d+\/\d+\//;

describe('image inputs on AceData', () => {
  const s = useRelaySession(() => ({ provider: 'acedata', baseUrl: ace.url, apiKey: ace.apiKey, mode: 'polled' }));

  /** How many times the bot fetched an attachment from the fake Discord's CDN. */
  const cdnReads = () => s.discord.attachmentReads.filter((p) => !/\/(grid|image|preview)[_.]/.test(p)).length;

  it('/draw puts the attachment URLs before the prompt', async () => {
    const interaction = await slash(s.discord, 'draw', { prompt: 'a lighthouse --iw 0.5', ...imageOptions([await png('one.png'), await png('two.png')], 'draw') });
    const grid = await interaction.waitForMessage(isFinal, 20_000);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    const prompt = String(lastBody('/midjourney/imagine')!.prompt);
    const [first, second, ...rest] = prompt.split(' ');
    expect(first).toMatch(cdnUrl);
    expect(first).toMatch(/one\.png\?ex=\w+&is=\w+&hm=\w+$/);
    expect(second).toMatch(/two\.png\?ex=/);
    expect(rest.join(' ')).toBe('a lighthouse --iw 0.5');
    s.discord.assertNoViolations();
  });

  it('/blend sends the URLs and the shape as one prompt; U2 works on the result', async () => {
    const interaction = await slash(s.discord, 'blend', { ...imageOptions([await png('x.png'), await png('y.png'), await png('z.png')], 'blend') });
    const grid = await interaction.waitForMessage(isFinal, 20_000);
    expect(grid.content).toBe(`**x.png y.png z.png --ar 1:1** - Blend by <@${ALICE}>`);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    const words = String(lastBody('/midjourney/imagine')!.prompt).split(' ');
    expect(words.slice(0, 3).every((w) => cdnUrl.test(w))).toBe(true);
    expect(words.slice(3).join(' ')).toBe('--ar 1:1');
    const upscaled = await s.click(grid, customIdOf(grid, 'U2'));
    expect(upscaled.content).toBe(`**x.png y.png z.png --ar 1:1** - Image #2 <@${BOB}>`);
    s.discord.assertNoViolations();
  });

  it('/describe asks /midjourney/describe with the URL; 4️⃣ draws the fourth prompt', async () => {
    const interaction = await slash(s.discord, 'describe', { image: await png('bike.png') });
    const described = await interaction.waitForMessage(isFinal, 20_000);
    expect(String(lastBody('/midjourney/describe')!.image_url)).toMatch(cdnUrl);
    expect(suggestedPrompts(described.content)).toEqual(ACE_DESCRIPTIONS);
    const grid = await s.click(described, customIdOf(described, '4️⃣'));
    expect(grid.content).toBe(`**${ACE_DESCRIPTIONS[3]}** - <@${BOB}>`);
    expect(lastBody('/midjourney/imagine')!.prompt).toBe(ACE_DESCRIPTIONS[3]);
    // Relays that take URLs get Discord's: the bot itself never downloaded an attachment.
    expect(cdnReads()).toBe(0);
    s.discord.assertNoViolations();
  });

  it('refuses an oversized file, and one image for /blend', async () => {
    expect(await refusal(await slash(s.discord, 'blend', { image1: await png('a.png'), image2: oversized() }))).toMatch(/huge\.png.*too large/);
    expect(await refusal(await slash(s.discord, 'blend', { image1: await png('a.png') }, { unchecked: true }))).toMatch(/at least 2 images/);
  });
});
