// /draw on AceData end to end: the real bot against the fake Discord and the fake AceData. Polled, the
// adapter streams ndjson (live progress with previews); pushed, AceData's callback alone finishes each job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAceData } from '../support/fake-acedata.ts';
import { BOB, useRelaySession, type Mode } from './relay-session.ts';
import { ACEDATA_AFTER_UPSCALE, GRID, buttonFaces, customIdOf, imageInfo, withSeed } from './support.ts';

let ace: FakeAceData;
beforeAll(async () => {
  ace = await FakeAceData.start({ stepMs: 250 });
});
afterAll(() => ace?.close());

const imagineCalls = () => ace.requests.filter((r) => r.path === '/midjourney/imagine');

describe.each<Mode>(['polled', 'pushed'])('/draw on AceData, %s', (mode) => {
  const s = useRelaySession(() => ({ provider: 'acedata', baseUrl: ace.url, apiKey: ace.apiKey, mode }));

  it('draws a grid, upscales #2 and varies #3, with only the buttons AceData offers', async () => {
    // Polled, the first job runs long enough for a progress edit past the 1 s edit throttle.
    if (mode === 'polled') ace.slowNextJob(2_000);
    const { interaction, final: grid } = await s.draw(`a ${mode} lamborghini in a volcano`);
    expect(grid.content).toBe(`**a ${mode} lamborghini in a volcano** - <@100000000000000001>`);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    expect((await imageInfo(grid)).format).toBe('png');
    const sent = imagineCalls().at(-1)!.body as Record<string, unknown>;
    if (mode === 'pushed') {
      expect(String(sent.callback_url)).toMatch(new RegExp(`^${s.publicUrl}/upstream/callback/[0-9a-f-]{36}/\\S+$`));
      await expect.poll(() => ace.callbacks.length).toBeGreaterThan(0);
      expect(ace.callbacks.every((c) => c.status === 200)).toBe(true);
      await s.bot.waitForLog((l) => l.msg === 'callback received' && l.outcome === 'applied');
    } else {
      expect(sent.callback_url).toBeUndefined();
      // The stream's previews were shown while the grid was drawn.
      expect(interaction.edits().some((e) => /\(\d+%\)$/.test(e.message.content) && e.message.attachments[0]?.filename.startsWith('preview'))).toBe(true);
    }

    const upscaled = await s.click(grid, customIdOf(grid, 'U2'));
    expect(upscaled.content).toBe(`**a ${mode} lamborghini in a volcano** - Image #2 <@${BOB}>`);
    // Animate and Edit too (AceData's /midjourney/videos and /edits take any image). With the editor page (PUBLIC_URL),
    // 🖌️ Vary (Region) as well: the upscale listed variation_region.
    const [vary, ...rest] = ACEDATA_AFTER_UPSCALE;
    expect(buttonFaces(upscaled)).toEqual(mode === 'pushed' ? [[...vary!, 'Vary (Region)'], ...rest] : ACEDATA_AFTER_UPSCALE);
    expect(imagineCalls().at(-1)!.body).toMatchObject({ action: 'upscale2', image_id: expect.stringMatching(/^img/) });

    const varied = await s.click(grid, customIdOf(grid, 'V3'));
    expect(varied.content).toBe(`**a ${mode} lamborghini in a volcano** - Variations by <@${BOB}>`);
    expect(buttonFaces(varied)).toEqual(withSeed(GRID));
    expect(imagineCalls().at(-1)!.body).toMatchObject({ action: 'variation3' });

  });

  it("ends a failed job with AceData's reason", async () => {
    ace.failNextJob('Unrecognized argument(s): `-c`, `x`');
    const { final } = await s.draw('a cat -c x');
    expect(final.content).toBe('❌ **a cat -c x** - <@100000000000000001>\nThe job failed: Midjourney did not accept a parameter of the prompt (for example --ar, --v or an image link). Fix the parameter and /draw again. The image service said: “Unrecognized argument(s): `-c`, `x`”');
    expect(buttonFaces(final)).toEqual([['↻ Retry']]);
  });

  it('tells the user politely when the key is refused, and logs the detail for the operator', async () => {
    ace.server.inject((r) => r.path === '/midjourney/imagine', { status: 401, body: { success: false, error: { code: 'invalid_token', message: 'Invalid token' } } });
    const { final } = await s.draw('a locked door');
    expect(final.content).toMatch(/^❌ .*\nThe job failed: the image service account needs attention from the bot's operator/);
    await s.bot.waitForLog((l) => l.msg === 'upstream account problem: the operator must act' && l.kind === 'auth');
  });

  // The retry lives in the dispatcher, the same for both modes: once is enough.
  if (mode === 'polled') {
    it('retries a 5xx on submit and still delivers', async () => {
      ace.server.inject((r) => r.path === '/midjourney/imagine', { status: 503, body: { success: false, error: { code: 'api_error', message: 'busy' } } });
      const { final } = await s.draw('a patient owl');
      expect(buttonFaces(final)).toEqual(withSeed(GRID));
      await s.bot.waitForLog((l) => l.msg === 'upstream busy; retrying');
    });
  }

  it('sent Discord nothing that breaks its schema', () => {
    s.discord.assertNoViolations();
  });
});
