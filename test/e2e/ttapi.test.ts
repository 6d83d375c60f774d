// /draw on TTApi end to end: the real bot against the fake Discord and the fake TTApi. Polled, the tracker
// fetches each job; pushed, TTApi's hookUrl alone finishes it. Images come from `cdnImage` (the fake's
// `discordImage` host does not exist).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { pushJson } from '../support/relay-fake-kit.ts';
import { BOB, useRelaySession, type Mode } from './relay-session.ts';
import { AFTER_UPSCALE, GRID, buttonFaces, customIdOf, imageInfo, withSeed } from './support.ts';

let tt: FakeTtApi;
beforeAll(async () => {
  tt = await FakeTtApi.start({ stepMs: 250 });
});
afterAll(() => tt?.close());

const calls = (path: string) => tt.requests.filter((r) => r.path === path);
const lastAction = () => calls('/midjourney/v1/action').at(-1)!.body;

describe.each<Mode>(['polled', 'pushed'])('/draw on TTApi, %s', (mode) => {
  const s = useRelaySession(() => ({ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, mode }));

  it('draws a grid, upscales #2 and varies #3, with only the buttons its components offer', async () => {
    // Polled, the first job runs long enough for a progress edit past the 1 s edit throttle.
    if (mode === 'polled') tt.slowNextJob(2_000);
    const { interaction, final: grid } = await s.draw(`a ${mode} cat on a roof`);
    expect(grid.content).toBe(`**a ${mode} cat on a roof** - <@100000000000000001>`);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    expect((await imageInfo(grid)).format).toBe('png');
    const sent = calls('/midjourney/v1/imagine').at(-1)!;
    expect(sent.headers['tt-api-key']).toBe(tt.apiKey);
    const body = sent.body as Record<string, unknown>;
    if (mode === 'pushed') {
      expect(String(body.hookUrl)).toMatch(new RegExp(`^${s.publicUrl}/upstream/callback/[0-9a-f-]{36}/\\S+$`));
      await expect.poll(() => tt.hooks.length).toBeGreaterThan(0);
      // Answered 200 at once, so TTApi never had to retry; a resent duplicate is answered 200 and ignored.
      expect(tt.hooks.every((h) => h.status === 200)).toBe(true);
      await s.bot.waitForLog((l) => l.msg === 'callback received' && l.outcome === 'applied');
      // Once the delivery is recorded (a moment after Discord shows it), a resent final update changes nothing.
      await s.bot.waitForLog((l) => l.msg === 'result delivered');
      const hook = tt.hooks.at(-1)!;
      expect(await pushJson(hook.url, hook.body)).toBe(200);
      await s.bot.waitForLog((l) => l.msg === 'callback received' && l.outcome === 'ignored');
    } else {
      expect(body.hookUrl).toBeUndefined();
      expect(interaction.edits().some((e) => /\(\d+%\)$/.test(e.message.content))).toBe(true);
    }

    const upscaled = await s.click(grid, customIdOf(grid, 'U2'));
    expect(upscaled.content).toBe(`**a ${mode} cat on a roof** - Image #2 <@${BOB}>`);
    // Vary (Region) needs the editor page, so PUBLIC_URL: pushed mode has it. 📋 is on every image result.
    expect(buttonFaces(upscaled)).toEqual(withSeed(mode === 'pushed' ? [[...AFTER_UPSCALE[0]!, 'Vary (Region)'], ...AFTER_UPSCALE.slice(1)] : AFTER_UPSCALE));
    expect(lastAction()).toMatchObject({ action: 'upsample2', jobId: expect.any(String) });

    const varied = await s.click(grid, customIdOf(grid, 'V3'));
    expect(varied.content).toBe(`**a ${mode} cat on a roof** - Variations by <@${BOB}>`);
    expect(buttonFaces(varied)).toEqual(withSeed(GRID));
    expect(lastAction()).toMatchObject({ action: 'variation3' });

  });

  it("ends a failed job with TTApi's reason", async () => {
    tt.failNextJob('Banned prompt detected: storm');
    const { final } = await s.draw('a stormy sea');
    expect(final.content).toBe('❌ **a stormy sea** - <@100000000000000001>\nThe job failed: Midjourney refused the prompt: it contains a word Midjourney bans. Rephrase the prompt without it and /draw again. The image service said: “Banned prompt detected: storm”');
    expect(buttonFaces(final)).toEqual([['↻ Retry']]);
  });

  it('tells the user politely when the account has no balance, and logs the detail for the operator', async () => {
    tt.server.inject((r) => r.path === '/midjourney/v1/imagine', { status: 402, body: { status: 'FAILED', message: 'Insufficient balance', data: null } });
    const { final } = await s.draw('an empty wallet');
    expect(final.content).toMatch(/^❌ .*\nThe job failed: the image service account needs attention from the bot's operator/);
    await s.bot.waitForLog((l) => l.msg === 'upstream account problem: the operator must act' && l.kind === 'balance');
  });

  // The retry lives in the dispatcher, the same for both modes: once is enough.
  if (mode === 'polled') {
    it('retries when the queue is exhausted (HTTP 499) and still delivers', async () => {
      tt.server.inject((r) => r.path === '/midjourney/v1/imagine', { status: 499, body: { status: 'FAILED', message: 'queue exhausted', data: null } });
      const { final } = await s.draw('a patient owl');
      expect(buttonFaces(final)).toEqual(withSeed(GRID));
      await s.bot.waitForLog((l) => l.msg === 'upstream busy; retrying' && l.kind === 'queue_full');
    });
  }

  it('sent Discord nothing that breaks its schema', () => {
    s.discord.assertNoViolations();
  });
});
