// Hostile conditions on the Discord side and at the webhook door, against one simulator bot: an upload Discord
// refuses as too large, a dropped gateway, callbacks from someone who does not hold the task's secret, a flood,
// and logs that must never carry a secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { imageInfo, isDelivered, simulatorEnv, slashDraw } from './support.ts';

/** A server whose upload limit is far below ours (Discord's limit can be lower than the 10 MiB we assume). */
const UPLOAD_LIMIT = 60_000;
let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess;

beforeAll(async () => {
  discord = await FakeDiscord.start({ uploadLimitBytes: UPLOAD_LIMIT });
  db = await createTestDatabase();
  bot = await startBot(simulatorEnv(discord, db, 150));
});
afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

/** Interaction tokens of every /draw sent here: none may reach the logs. */
const tokens: string[] = [];
const draw = async (prompt: string) => {
  const interaction = await slashDraw(discord, prompt);
  tokens.push(interaction.token);
  return interaction;
};
const port = () => bot.logs.find((l) => l.msg === 'http server listening')!.port as number;
const post = (route: string, body: unknown = {}) =>
  fetch(`http://127.0.0.1:${port()}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const refusedUploads = () => bot.logs.filter((l) => l.msg === 'Discord refused the upload as too large; sending it smaller').length;

describe('a server whose upload limit is below 10 MiB', () => {
  it('fits the image to the limit the interaction tells (attachment_size_limit) on the first upload', async () => {
    const refusedBefore = refusedUploads();
    const done = await (await draw('a very detailed owl')).waitForMessage(isDelivered, 20_000);
    const image = await imageInfo(done);
    expect(image.format).toBe('jpeg');
    expect(image.bytes.length).toBeLessThanOrEqual(UPLOAD_LIMIT);
    expect(refusedUploads()).toBe(refusedBefore);
  });

  it('when the limit dropped since the interaction (Discord answers 413): re-encodes smaller and sends it again', async () => {
    discord.advertisedUploadLimitBytes = 10 * 1024 * 1024;
    try {
      const done = await (await draw('a very detailed cat')).waitForMessage(isDelivered, 20_000);
      const image = await imageInfo(done);
      expect(image.format).toBe('jpeg');
      expect(image.bytes.length).toBeLessThanOrEqual(UPLOAD_LIMIT);
      expect(refusedUploads()).toBeGreaterThan(0);
    } finally {
      discord.advertisedUploadLimitBytes = undefined;
    }
  });

  // 0 would shrink every image to a thumbnail and leave every clip out; 2^40 does not fit the integer column.
  it.each([0, 2 ** 40])('a told limit of %d is not trusted: 10 MiB assumed, then the 413 path fits it', async (told) => {
    const refusedBefore = refusedUploads();
    discord.advertisedUploadLimitBytes = told;
    try {
      const done = await (await draw(`a very detailed fox ${told}`)).waitForMessage(isDelivered, 20_000);
      const image = await imageInfo(done);
      expect(image.bytes.length).toBeLessThanOrEqual(UPLOAD_LIMIT);
      expect(image.width).toBeGreaterThanOrEqual(256);
      expect(refusedUploads()).toBeGreaterThan(refusedBefore);
    } finally {
      discord.advertisedUploadLimitBytes = undefined;
    }
  });
});

describe('Discord answering 5xx', () => {
  it('retries the edit and still delivers', async () => {
    discord.inject({ method: 'PATCH', path: /^\/webhooks\/.*\/messages\/@original$/, status: 502, times: 2 });
    const done = await (await draw('a cat behind a bad gateway')).waitForMessage(isDelivered, 20_000);
    expect(done.content).toMatch(/^\*\*a cat behind a bad gateway\*\*/);
  });
});

describe('a dropped gateway connection', () => {
  it('resumes, and the job under way and a /draw sent meanwhile are both delivered', async () => {
    const running = await draw('a resumed cat');
    await bot.waitForLog((l) => l.msg === 'task submitted' && l.prompt === 'a resumed cat');
    const since = Date.now();
    await discord.disconnectGateway();
    const meanwhile = await draw('a queued-on-resume dog');
    await discord.waitForResumed({ since, timeoutMs: 15_000 });
    const [a, b] = await Promise.all([running.waitForMessage(isDelivered, 20_000), meanwhile.waitForMessage(isDelivered, 20_000)]);
    expect(a.content).toMatch(/^\*\*a resumed cat\*\*/);
    expect(b.content).toMatch(/^\*\*a queued-on-resume dog\*\*/);
  });
});

describe('the webhook door', () => {
  it('refuses callbacks without the task’s secret, for unknown tasks, or with a body that is not JSON', async () => {
    const taskId = bot.logs.find((l) => l.msg === 'task accepted')!.taskId as string;
    expect((await post(`/upstream/callback/${taskId}/not-the-secret`, { status: 'SUCCESS' })).status).toBe(404);
    expect((await post(`/upstream/callback/00000000-0000-4000-8000-000000000000/x`)).status).toBe(404);
    expect((await post('/upstream/callback/not-a-uuid/x')).status).toBe(404);
    const raw = await fetch(`http://127.0.0.1:${port()}/upstream/callback/${taskId}/x`, { method: 'POST', body: '{not json' });
    expect(raw.status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${port()}/upstream/callback/${taskId}/x`)).status).toBe(405);
    expect((await post('/upstream/account/anything')).status).toBe(404); // no UPSTREAM_WEBHOOK_SECRET: closed
  });

  it('refuses a body over the size cap', async () => {
    const big = await fetch(`http://127.0.0.1:${port()}/upstream/callback/00000000-0000-4000-8000-000000000000/x`, {
      method: 'POST',
      body: 'x'.repeat(300 * 1024),
    });
    expect(big.status).toBe(413);
  });

  it('slows down a client guessing secrets, with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    // Each refused guess costs ten requests' worth: a few dozen in a row run the bucket dry.
    for (let i = 0; i < 100 && last?.status !== 429; i++) {
      last = await post(`/upstream/callback/00000000-0000-4000-8000-00000000000${i % 10}/guess-${i}`);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 5)).toEqual([404, 404, 404, 404, 404]);
    expect(last!.status).toBe(429);
    expect(last!.headers.get('retry-after')).toBe('1');
    expect(statuses.length).toBeLessThan(60);
    // Health and metrics are not behind the webhook limit.
    expect((await fetch(`http://127.0.0.1:${port()}/healthz`)).status).toBe(200);
  });
});

describe('logs', () => {
  it('never carry the bot token or an interaction token (debug level, after errors and a reconnect)', () => {
    const text = bot.logs.map((l) => JSON.stringify(l)).join('\n') + bot.stderr.join('');
    expect(text).not.toContain(discord.token);
    expect(tokens).toHaveLength(7);
    for (const token of tokens) expect(text).not.toContain(token);
  });
});
