// Issue 16, case 6: account-wide webhooks with mixed relays. An ImagineAPI account and a midjourney-proxy account,
// UPSTREAM_WEBHOOK_SECRET set: each relay posts to its own route, POST /upstream/account/<accountId>/<secret>;
// only that account's adapter reads the body and only that account's jobs can match it. A push whose job id is a
// job of the OTHER account changes nothing there. The old /upstream/account/<secret> works with one account only
// (with two it is refused: it cannot say whose push it is). Polling is set to a minute, so pushes alone move jobs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord, type FakeInteraction } from '../support/fake-discord.ts';
import { FakeImagineApi } from '../support/fake-imagineapi.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { accountsEnv, finalsFor, until } from './lifecycle-support.ts';
import { failureOf, printLogsOnFailure, resultOf } from './queue-support.ts';
import { ALICE, BOB, slashDraw } from './support.ts';

const SECRET = 'account-hook-secret-0123456789';
const MJ_KEY = 'mj-webhook-secret';
const IMG_PROMPT = 'a lighthouse held on imagineapi';
const MJ_PROMPT = 'a windmill held on midjourney-proxy';

let discord: FakeDiscord;
let img: FakeImagineApi;
let mj: FakeMidjourneyProxy;
let db: TestDatabase;
let bot: BotProcess | undefined;
let port = 0;

beforeAll(async () => {
  [discord, img, mj, db, port] = await Promise.all([
    FakeDiscord.start(),
    FakeImagineApi.start({ stepMs: 200 }),
    FakeMidjourneyProxy.start({ apiKey: MJ_KEY, stepMs: 200 }),
    createTestDatabase(),
    freePort(),
  ]);
  mj.silent = true;
  bot = await startBot(
    accountsEnv(
      discord,
      db,
      [
        { id: 'img', provider: 'imagineapi', baseUrl: img.url, apiKey: img.apiKey, concurrency: 1 },
        { id: 'mj', provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: MJ_KEY, concurrency: 1 },
      ],
      { HTTP_PORT: String(port), UPSTREAM_WEBHOOK_SECRET: SECRET, POLL_INTERVAL_MS: '60000' },
    ),
  );
});
afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await img?.close();
  await mj?.close();
  await discord?.close();
});

printLogsOnFailure(() => [bot]);

const push = async (path: string, body: unknown) =>
  (await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;

/** ImagineAPI's webhook body for an image record (its dashboard webhook sends `{event, payload}`). */
const imagineUpdate = (payload: Record<string, unknown>) => ({ event: 'images.items.update', payload });
/** A completed ImagineAPI record under any id, with images its fake serves. */
const imagineCompleted = (id: string, name: string, prompt: string) => ({
  id,
  prompt,
  results: name,
  user_created: '4df804f1-e32e-4e1c-be58-6acbe48cce98',
  date_created: new Date().toISOString(),
  status: 'completed',
  progress: null,
  url: `${img.url}/assets/${name}/${name}.png`,
  error: null,
  upscaled_urls: [1, 2, 3, 4].map((i) => `${img.url}/assets/${name}-${i}/${name}-${i}.png`),
  upscaled: [],
  ref: null,
});

describe('mixed relays on account-wide webhooks', () => {
  let imgDraw: FakeInteraction;
  let mjDraw: FakeInteraction;
  let imgId = '';
  let mjId = '';

  it('a push on one account’s route never touches the other account’s job; its own job is applied', async () => {
    img.pacePrompts(/held on imagineapi/);
    mj.holdPrompt('held on midjourney-proxy');
    // Concurrency 1 each, and the first job held at its relay: the second can only go to the other account.
    // (Sent one after the other: two accepted in the same instant may be placed in either order.)
    imgDraw = await slashDraw(discord, IMG_PROMPT, ALICE);
    await until(() => img.images().some((i) => i.prompt.includes(IMG_PROMPT)), 20_000, 'the first job created at ImagineAPI');
    mjDraw = await slashDraw(discord, MJ_PROMPT, BOB);
    await until(() => mj.tasksFor(MJ_PROMPT)[0]?.progress === '91%', 20_000, 'the second job drawing at midjourney-proxy');
    mjId = mj.tasksFor(MJ_PROMPT)[0]!.id;
    imgId = img.images().find((i) => i.prompt.includes(IMG_PROMPT))!.id;
    expect(imgId, 'the ImagineAPI job id').not.toBe('');

    // ImagineAPI-shaped pushes on ImagineAPI's route, naming the midjourney-proxy job: progress, then completion.
    await push(`/upstream/account/img/${SECRET}`, imagineUpdate({ ...imagineCompleted(mjId, 'intruder', MJ_PROMPT), status: 'in-progress', progress: 57, url: null, upscaled_urls: null }));
    await push(`/upstream/account/img/${SECRET}`, imagineUpdate(imagineCompleted(mjId, 'intruder', MJ_PROMPT)));
    // midjourney-proxy-shaped pushes on midjourney-proxy's route, naming the ImagineAPI job.
    const mjShape = { ...mj.task(mjId)!, id: imgId, status: 'SUCCESS', progress: '100%', imageUrl: `${mj.url}/images/${imgId}.png`, finishTime: Date.now(), buttons: [] };
    await push(`/upstream/account/mj/${SECRET}`, { ...mjShape, status: 'IN_PROGRESS', progress: '43%' });
    await push(`/upstream/account/mj/${SECRET}`, mjShape);

    // The right push on the right route: ImagineAPI's own job, completed.
    img.release();
    await until(() => img.image(imgId)?.status === 'completed', 10_000, 'the ImagineAPI job to complete at the relay');
    expect(await push(`/upstream/account/img/${SECRET}`, imagineUpdate({ ...img.image(imgId)! }))).toBe(200);
    await imgDraw.waitForMessage((m) => resultOf(IMG_PROMPT)(m) || failureOf(IMG_PROMPT)(m), 30_000);
    expect(finalsFor(discord, IMG_PROMPT).uploads).toHaveLength(1);
    expect(finalsFor(discord, IMG_PROMPT).failures).toEqual([]);
    expect(imgDraw.edits().some((e) => /\(43%\)/.test(e.message.content)), 'progress from the other relay’s push').toBe(false);

    // The midjourney-proxy job saw none of it: no result, no failure, not the pushed 57%.
    expect(finalsFor(discord, MJ_PROMPT).uploads).toEqual([]);
    expect(finalsFor(discord, MJ_PROMPT).failures).toEqual([]);
    expect(mjDraw.edits().some((e) => /\(57%\)/.test(e.message.content)), 'progress from the other relay’s push').toBe(false);
  }, 90_000);

  it('refuses the old account route (404) with two accounts configured, and the push changes nothing', async () => {
    expect(mjId).not.toBe('');
    const status = await push(`/upstream/account/${SECRET}`, imagineUpdate(imagineCompleted(mjId, 'old-route-intruder', MJ_PROMPT)));
    // Taken anyway: show what it did (the midjourney-proxy job getting ImagineAPI's 128×128 picture), not just the status.
    if (status !== 404) await mjDraw.waitForMessage(resultOf(MJ_PROMPT), 10_000).catch(() => undefined);
    const shown = finalsFor(discord, MJ_PROMPT).uploads.map((u) => `${u.message.attachments[0]!.width}×${u.message.attachments[0]!.height}`);
    expect({ status, shownOnTheMidjourneyProxyJob: shown }).toEqual({ status: 404, shownOnTheMidjourneyProxyJob: [] });
  });

  it('applies the midjourney-proxy job’s own push on its route: one result, from its own relay', async () => {
    mj.release();
    await until(() => mj.task(mjId)?.status === 'SUCCESS', 10_000, 'the midjourney-proxy job to finish at the relay');
    expect(await push(`/upstream/account/mj/${SECRET}`, mj.task(mjId))).toBe(200);
    await mjDraw.waitForMessage((m) => resultOf(MJ_PROMPT)(m) || failureOf(MJ_PROMPT)(m), 30_000);
    const { uploads, failures } = finalsFor(discord, MJ_PROMPT);
    expect(failures).toEqual([]);
    expect(uploads).toHaveLength(1);
    // Its own relay's picture (256×256 from midjourney-proxy's fake), not ImagineAPI's 128×128 intruder.
    expect(uploads[0]!.message.attachments.find((a) => /^grid_/.test(a.filename))!.width).toBe(256);
    expect(finalsFor(discord, IMG_PROMPT).uploads).toHaveLength(1);
    discord.assertNoViolations();
  }, 60_000);
});

describe('the old account route with a single account', () => {
  let single: BotProcess | undefined;
  let singleDb: TestDatabase | undefined;
  let relay: FakeImagineApi | undefined;
  // A Discord of its own: two bots on one fake gateway would both receive every interaction.
  let ownDiscord: FakeDiscord | undefined;
  afterAll(async () => {
    await single?.stop();
    await singleDb?.destroy();
    await relay?.close();
    await ownDiscord?.close();
  });
  printLogsOnFailure(() => [single]);

  it('still works: the relay’s pushes to /upstream/account/<secret> deliver the job', async () => {
    relay = await FakeImagineApi.start({ stepMs: 200 });
    ownDiscord = await FakeDiscord.start();
    const discord = ownDiscord;
    singleDb = await createTestDatabase();
    const singlePort = await freePort();
    single = await startBot(
      accountsEnv(discord, singleDb, [{ id: 'only', provider: 'imagineapi', baseUrl: relay.url, apiKey: relay.apiKey, concurrency: 2 }], {
        HTTP_PORT: String(singlePort),
        UPSTREAM_WEBHOOK_SECRET: SECRET,
        POLL_INTERVAL_MS: '60000',
      }),
    );
    const answers = relay.setWebhook(`http://127.0.0.1:${singlePort}/upstream/account/${SECRET}`);
    const prompt = 'a single-account harbour';
    const draw = await slashDraw(discord, prompt, ALICE);
    await draw.waitForMessage((m) => resultOf(prompt)(m) || failureOf(prompt)(m), 30_000);
    expect(finalsFor(discord, prompt).uploads).toHaveLength(1);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((s) => s === 200)).toBe(true);
  }, 60_000);
});
