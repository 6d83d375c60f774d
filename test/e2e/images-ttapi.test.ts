// Image inputs on TTApi end to end: image prompts as Discord CDN URLs before the text, /describe with the
// image's URL (its result's `prompt` holds the four suggestions), and /blend refused as not offered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTtApi, TT_DESCRIPTIONS } from '../support/fake-ttapi.ts';
import { imageOptions, png, refusal, slash, suggestedPrompts } from './image-inputs.ts';
import { BOB, useRelaySession } from './relay-session.ts';
import { GRID, buttonFaces, customIdOf, isFinal, withSeed } from './support.ts';

let tt: FakeTtApi;
beforeAll(async () => {
  tt = await FakeTtApi.start({ stepMs: 100 });
});
afterAll(() => tt?.close());

const lastBody = (path: string) => tt.requests.filter((r) => r.path === path).at(-1)?.body as Record<string, unknown> | undefined;
const cdnUrl = /^http:\/\/127\.0\.0\.1:\d+\/attachments\/\d+\/\d+\/\S+$/;

describe('image inputs on TTApi', () => {
  const s = useRelaySession(() => ({ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, mode: 'polled' }));

  it('/draw puts the attachment URL before the prompt', async () => {
    const interaction = await slash(s.discord, 'draw', { prompt: 'a fox --iw 1', ...imageOptions([await png('fox.png')], 'draw') });
    const grid = await interaction.waitForMessage(isFinal, 20_000);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    const [url, ...rest] = String(lastBody('/midjourney/v1/imagine')!.prompt).split(' ');
    expect(url).toMatch(cdnUrl);
    expect(rest.join(' ')).toBe('a fox --iw 1');
    s.discord.assertNoViolations();
  });

  it('/describe sends the URL; the result lists the four prompts and 1️⃣ draws the first', async () => {
    const interaction = await slash(s.discord, 'describe', { image: await png('boat.png') });
    const described = await interaction.waitForMessage(isFinal, 20_000);
    expect(String(lastBody('/midjourney/v1/describe')!.url)).toMatch(cdnUrl);
    expect(suggestedPrompts(described.content)).toEqual(TT_DESCRIPTIONS);
    const grid = await s.click(described, customIdOf(described, '1️⃣'));
    expect(grid.content).toBe(`**${TT_DESCRIPTIONS[0]}** - <@${BOB}>`);
    s.discord.assertNoViolations();
  });

  it('answers /blend with a clear message: this relay does not offer it', async () => {
    const before = tt.requests.length;
    const text = await refusal(await slash(s.discord, 'blend', { image1: await png('a.png'), image2: await png('b.png') }));
    expect(text).toBe('The image service this bot is connected to cannot do /blend.');
    expect(tt.requests.length).toBe(before);
    s.discord.assertNoViolations();
  });
});
