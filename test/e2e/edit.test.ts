// ✏️ Edit on midjourney-proxy (trueai-org's POST /mj/submit/edits): an upscale offers it; the click opens a modal
// prefilled with the job's prompt; what is submitted is checked like a /draw prompt (a banned word or an empty
// prompt starts nothing, privately) and becomes a child job that sends the upscaled image's URL and the new prompt.
// The same on AceData, through its POST /midjourney/edits {action: generate, image_url, prompt}.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAceData } from '../support/fake-acedata.ts';
import type { SeenMessage } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { ALICE, BOB, useRelaySession } from './relay-session.ts';
import { ACEDATA_AFTER_UPSCALE, GRID, buttonFaces, customIdOf, isFinal, withSeed } from './support.ts';

let mj: FakeMidjourneyProxy;
beforeAll(async () => {
  mj = await FakeMidjourneyProxy.start({ stepMs: 100 });
});
afterAll(() => mj?.close());

const edits = () => mj.requests.filter((r) => r.path === '/mj/submit/edits');

describe('✏️ Edit on midjourney-proxy', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: mj.opts.apiKey, mode: 'polled' }));

  let upscaled: SeenMessage;
  it('an upscale offers Edit; a grid does not', async () => {
    const { final: grid } = await s.draw('a lighthouse at dusk --ar 3:2');
    expect(buttonFaces(grid).flat()).not.toContain('Edit');
    upscaled = await s.click(grid, customIdOf(grid, 'U1'));
    expect(buttonFaces(upscaled)[0]).toEqual(['Vary (Strong)', 'Vary (Subtle)', 'Edit']);
  });

  it('opens a modal prefilled with the prompt; a banned word or an empty prompt starts nothing', async () => {
    const opened = await s.discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Edit'), userId: BOB });
    const modal = await opened.waitForCallback();
    expect(modal.type).toBe(9);
    expect(JSON.stringify(modal.data)).toContain('"value":"a lighthouse at dusk --ar 3:2"');

    const banned = await s.discord.submitModal({ from: opened, values: { prompt: 'a nude lighthouse' }, userId: BOB });
    expect((await banned.waitForCallback()).data).toMatchObject({ flags: 64, content: expect.stringContaining('nude') });
    const empty = await s.discord.submitModal({ from: opened, values: { prompt: '   ' }, userId: BOB, locale: 'zh-CN' });
    expect((await empty.waitForCallback()).data).toMatchObject({ flags: 64 });
    expect(edits()).toHaveLength(0);
  });

  it('the new prompt becomes a child job: the upscaled image and the prompt go to /mj/submit/edits', async () => {
    const opened = await s.discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Edit'), userId: BOB });
    await opened.waitForCallback();
    const submitted = await s.discord.submitModal({ from: opened, values: { prompt: 'a lighthouse in a snowstorm --ar 3:2' }, userId: BOB });
    const edited = await submitted.waitForMessage(isFinal, 20_000);
    expect(edited.content).toBe(`**a lighthouse in a snowstorm --ar 3:2** - Edit by <@${BOB}>`);
    expect(buttonFaces(edited)).toEqual(withSeed(GRID));
    const parent = mj.created.filter((t) => t.action === 'UPSCALE').at(-1)!;
    expect(edits().at(-1)!.body).toMatchObject({ prompt: 'a lighthouse in a snowstorm --ar 3:2', image: `${mj.url}/images/${parent.id}-single.png` });
    expect(mj.editImages).toHaveLength(1);
    // The owner of the grid is not the one who edited: the child belongs to the clicker.
    expect(edited.content).not.toContain(ALICE);
    s.discord.assertNoViolations();
  });
});

describe('✏️ Edit on AceData', () => {
  let ace: FakeAceData;
  beforeAll(async () => {
    ace = await FakeAceData.start({ stepMs: 100 });
  });
  afterAll(() => ace?.close());
  const s = useRelaySession(() => ({ provider: 'acedata', baseUrl: ace.url, apiKey: ace.apiKey, mode: 'polled' }));
  const aceEdits = () => ace.requests.filter((r) => r.path === '/midjourney/edits');

  it('an upscale offers Edit; the new prompt and the full-size image go to /midjourney/edits (streamed); the result is a grid', async () => {
    const { final: grid } = await s.draw('a lighthouse at dusk --ar 3:2');
    expect(buttonFaces(grid).flat()).not.toContain('Edit');
    const upscaled = await s.click(grid, customIdOf(grid, 'U1'));
    expect(buttonFaces(upscaled)).toEqual(ACEDATA_AFTER_UPSCALE);

    const opened = await s.discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Edit'), userId: BOB });
    const modal = await opened.waitForCallback();
    expect(JSON.stringify(modal.data)).toContain('"value":"a lighthouse at dusk --ar 3:2"');
    const banned = await s.discord.submitModal({ from: opened, values: { prompt: 'a nude lighthouse' }, userId: BOB });
    expect((await banned.waitForCallback()).data).toMatchObject({ flags: 64, content: expect.stringContaining('nude') });
    expect(aceEdits()).toHaveLength(0);

    const submitted = await s.discord.submitModal({ from: opened, values: { prompt: 'a lighthouse in a snowstorm --ar 3:2' }, userId: BOB });
    const edited = await submitted.waitForMessage(isFinal, 20_000);
    expect(edited.content).toBe(`**a lighthouse in a snowstorm --ar 3:2** - Edit by <@${BOB}>`);
    expect(buttonFaces(edited)).toEqual(withSeed(GRID));
    const sent = aceEdits().at(-1)!;
    expect(sent.headers.accept).toContain('application/x-ndjson');
    // The raw image of the upscale (raw_image_url), not its thumbnail.
    expect(sent.body).toEqual({ action: 'generate', prompt: 'a lighthouse in a snowstorm --ar 3:2', image_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/assets\/img\d+\.png\?ex=662fdb36&$/) });
    // The edited grid acts like any other: its U1 upscales by its own image_id.
    const again = await s.click(edited, customIdOf(edited, 'U2'));
    expect(buttonFaces(again)).toEqual(ACEDATA_AFTER_UPSCALE);
    s.discord.assertNoViolations();
  });
});
