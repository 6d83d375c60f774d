// Discord attachment links expire about a day after they were issued (`?ex=…&is=…&hm=…`; the fake Discord's CDN
// refuses them after that). A job keeps the links of its image prompt and reference images; 🔄 on it a day later
// must send links that work: the bot renews them with `POST /attachments/refresh-urls` before submitting.
// ImagineAPI is the relay of the first case because its 🔄 draws the parent's prompt again, links included;
// midjourney-proxy that of the second, as a relay that wants the pictures themselves (downloaded at submit).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeImagineApi } from '../support/fake-imagineapi.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { png, slash } from './image-inputs.ts';
import { ALICE, useRelaySession } from './relay-session.ts';
import { customIdOf, isDelivered } from './support.ts';

let upstream: FakeImagineApi;
let mj: FakeMidjourneyProxy;
beforeAll(async () => {
  [upstream, mj] = await Promise.all([FakeImagineApi.start({ stepMs: 100 }), FakeMidjourneyProxy.start({ stepMs: 100 })]);
});
afterAll(() => Promise.all([upstream?.close(), mj?.close()]));

const prompts = () => upstream.requests.filter((r) => r.method === 'POST').map((r) => String((r.body as { prompt: string }).prompt));
const urlAfter = (prompt: string, flag: string) => new RegExp(`--${flag} (\\S+)`).exec(prompt)?.[1];
const firstWord = (prompt: string) => prompt.split(' ')[0]!;

/** The link of the (only) file attached to a slash command, as Discord gave it to the bot. */
function storedAttachmentUrl(interaction: { payload: Record<string, unknown> }): string {
  const { resolved } = interaction.payload.data as { resolved: { attachments: Record<string, { url: string }> } };
  return Object.values(resolved.attachments)[0]!.url;
}

async function download(url: string): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('expired Discord attachment links', () => {
  const s = useRelaySession(() => ({ provider: 'imagineapi', baseUrl: upstream.url, apiKey: upstream.apiKey, mode: 'polled' }));

  it('🔄 a day later sends renewed links for the image prompt and the style reference', async () => {
    // An image prompt typed as a Discord link (copied from a message), and a style reference attached.
    const start = await png('start.png', 30, 60, 90);
    const style = await png('style.png', 200, 10, 10);
    const link = s.discord.uploadAttachment(start).url;
    const interaction = await slash(s.discord, 'draw', { prompt: `${link} a quiet harbour`, sref: style });
    const grid = await interaction.waitForMessage(isDelivered, 20_000);
    // The first submission already went through renewal (a link issued a second earlier may come back new).
    const first = prompts().at(-1)!;
    const withoutQuery = (url: string) => url.split('?')[0];
    expect(withoutQuery(firstWord(first))).toBe(withoutQuery(link));
    expect((await download(urlAfter(first, 'sref')!)).bytes).toEqual(style.bytes);
    const storedRef = storedAttachmentUrl(interaction);

    // A day later: the links the job keeps are dead.
    s.discord.expireAttachmentLinks();
    expect((await download(link)).status).toBe(404);
    expect((await download(storedRef)).status).toBe(404);
    const refreshesBefore = s.discord.calls.filter((c) => c.path === '/attachments/refresh-urls').length;

    const click = await s.discord.clickButton({ message: grid, customId: customIdOf(grid, '🔄'), userId: ALICE });
    const again = await click.waitForMessage(isDelivered, 20_000);
    expect(again.content).toMatch(/Reroll by/);

    const rerolled = prompts().at(-1)!;
    expect(rerolled).toMatch(/^\S+ a quiet harbour --sref \S+$/);
    const [renewedLink, renewedRef] = [firstWord(rerolled), urlAfter(rerolled, 'sref')!];
    expect(renewedLink).not.toBe(link);
    expect(renewedRef).not.toBe(storedRef);
    expect(renewedRef).not.toBe(urlAfter(first, 'sref'));
    // The relay got links that work, to the same pictures.
    expect(await download(renewedLink)).toEqual({ status: 200, bytes: start.bytes });
    expect(await download(renewedRef)).toEqual({ status: 200, bytes: style.bytes });
    // Renewed through Discord's endpoint (validated by the fake), in one request for both links.
    const refreshes = s.discord.calls.filter((c) => c.path === '/attachments/refresh-urls');
    expect(refreshes.length).toBe(refreshesBefore + 1);
    expect((refreshes.at(-1)!.body as { attachment_urls: string[] }).attachment_urls.sort()).toEqual([link, storedRef].sort());
    s.discord.assertNoViolations();
  });
});

describe('expired Discord attachment links, downloaded for a relay that wants bytes', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: mj.opts.apiKey, mode: 'polled', env: { USER_MAX_CONCURRENT: '1' } }));

  it('jobs that waited in the queue past their links\' expiry still get their images (/draw, /blend)', async () => {
    // Alice's first job holds her only slot, so the next one waits in the queue.
    mj.holdPrompt('a long wait');
    const first = await slash(s.discord, 'draw', { prompt: 'a long wait' });
    await expect.poll(() => mj.tasksFor('a long wait').length, { timeout: 20_000 }).toBe(1);
    const picture = await png('knight.png', 120, 40, 200);
    const queued = await slash(s.discord, 'draw', { prompt: 'a queued knight', image: picture });
    expect((await queued.waitForCallback()).type).toBe(5);
    const pair = [await png('left.png', 250, 0, 0), await png('right.png', 0, 250, 0)];
    const blend = await slash(s.discord, 'blend', { image1: pair[0]!, image2: pair[1]! });
    expect((await blend.waitForCallback()).type).toBe(5);

    // The link the job keeps dies while it waits.
    s.discord.expireAttachmentLinks();
    const stored = storedAttachmentUrl(queued);
    expect((await download(stored)).status).toBe(404);
    const refusedBefore = s.discord.refusedAttachmentReads.length;

    mj.release();
    await first.waitForMessage(isDelivered, 20_000);
    const grid = await queued.waitForMessage(isDelivered, 20_000);
    expect(grid.content).toMatch(/^\*\*a queued knight\*\*/);
    const body = mj.requests.filter((r) => r.path === '/mj/submit/imagine').at(-1)!.body as { prompt: string; base64Array: string[] };
    expect(body.prompt).toBe('a queued knight');
    expect(body.base64Array).toEqual([`data:image/png;base64,${picture.bytes.toString('base64')}`]);
    await blend.waitForMessage(isDelivered, 20_000);
    const blended = mj.requests.filter((r) => r.path === '/mj/submit/blend').at(-1)!.body as { base64Array: string[] };
    expect(blended.base64Array).toEqual(pair.map((u) => `data:image/png;base64,${u.bytes.toString('base64')}`));
    // The bot downloaded the renewed link, never the dead one.
    expect(s.discord.refusedAttachmentReads.length).toBe(refusedBefore);
    s.discord.assertNoViolations();
  });
});
