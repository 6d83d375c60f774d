// Reference images on /draw end to end (midjourney-proxy): the style, omni and character reference attachments
// reach the relay as `--sref <url>`, `--oref <url>`, `--cref <url>` at the end of the prompt, each URL one the
// relay can fetch (the attachment's own bytes); a reference typed and attached twice is refused privately.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { pdf, png, refusal, slash } from './image-inputs.ts';
import { useRelaySession } from './relay-session.ts';
import { GRID, buttonFaces, isFinal, withSeed } from './support.ts';

let mj: FakeMidjourneyProxy;
beforeAll(async () => {
  mj = await FakeMidjourneyProxy.start({ stepMs: 100 });
});
afterAll(() => mj?.close());

const imagines = () => mj.requests.filter((r) => r.path === '/mj/submit/imagine').map((r) => r.body as { prompt: string; base64Array?: string[] });

/** The URL after `--<kind>` in a prompt. */
const urlOf = (prompt: string, kind: string) => new RegExp(`--${kind} (\\S+)`).exec(prompt)?.[1];

async function fetchBytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('reference images on /draw', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: mj.opts.apiKey, mode: 'polled' }));

  it('registers sref, oref and cref attachment options with zh-CN names', async () => {
    const draw = await s.discord.waitForCommand('draw', { guildId: s.discord.guildId });
    const options = draw.options as Array<{ name: string; type: number; name_localizations?: Record<string, string>; description: string }>;
    expect(options.slice(-3).map((o) => [o.name, o.type, o.name_localizations?.['zh-CN']])).toEqual([
      ['sref', 11, '风格参考'], ['oref', 11, '全能参考'], ['cref', 11, '角色参考'],
    ]);
    expect(options.find((o) => o.name === 'oref')!.description).toMatch(/omni reference/i);
  });

  it('sends each reference as its parameter with a URL the relay can fetch, and delivers the result', async () => {
    const style = await png('style.png', 10, 200, 10);
    const omni = await png('omni.png', 10, 10, 200);
    const character = await png('character.png', 200, 200, 10);
    const interaction = await slash(s.discord, 'draw', { prompt: 'a lighthouse at dusk --v 7', sref: style, oref: omni, cref: character });
    const grid = await interaction.waitForMessage(isFinal, 20_000);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    // The headline keeps the prompt as typed; the relay gets the references after it.
    expect(grid.content).toMatch(/^\*\*a lighthouse at dusk --v 7\*\*/);

    const sent = imagines().at(-1)!;
    expect(sent.prompt).toMatch(/^a lighthouse at dusk --v 7 --sref \S+ --oref \S+ --cref \S+$/);
    expect(sent.base64Array).toBeUndefined();
    expect(await fetchBytes(urlOf(sent.prompt, 'sref')!)).toEqual(style.bytes);
    expect(await fetchBytes(urlOf(sent.prompt, 'oref')!)).toEqual(omni.bytes);
    expect(await fetchBytes(urlOf(sent.prompt, 'cref')!)).toEqual(character.bytes);
    s.discord.assertNoViolations();
  });

  it('takes one reference with image prompts, and the V8.1 and niji 7 parameters', async () => {
    const style = await png('only-style.png', 90, 90, 90);
    const interaction = await slash(s.discord, 'draw', { prompt: 'a fox --v 8.1', image: await png('start.png'), sref: style });
    await interaction.waitForMessage(isFinal, 20_000);
    const sent = imagines().at(-1)!;
    expect(sent.prompt).toMatch(/^a fox --v 8\.1 --sref \S+$/);
    expect(sent.base64Array).toHaveLength(1);
    expect(await fetchBytes(urlOf(sent.prompt, 'sref')!)).toEqual(style.bytes);

    const niji = await slash(s.discord, 'draw', { prompt: 'a fox --niji 7', cref: await png('hero.png') });
    await niji.waitForMessage(isFinal, 20_000);
    expect(imagines().at(-1)!.prompt).toMatch(/^a fox --niji 7 --cref \S+$/);
    s.discord.assertNoViolations();
  });

  it('refuses a reference that is not an image, or one the prompt already sets, before the relay hears of it', async () => {
    const before = mj.requests.length;
    expect(await refusal(await slash(s.discord, 'draw', { prompt: 'a fox', oref: pdf() }))).toMatch(/notes\.pdf.*not an image/);
    expect(await refusal(await slash(s.discord, 'draw', { prompt: 'a fox --sref https://example.com/s.png', sref: await png('s.png') }))).toBe(
      'Your prompt already has --sref and you attached **sref** too: keep one of them.',
    );
    expect(mj.requests.length).toBe(before);
  });
});
