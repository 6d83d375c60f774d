// Vary (Region) end to end in a real browser: 🖌️ in the fake Discord → the private link → the editor page in
// headless Chromium (playwright-core, Debian's /usr/bin/chromium) → a rectangle dragged with the mouse, the
// prompt edited → submitted → the relay gets a mask of the image's size, white exactly where the rectangle was,
// and the edited prompt → the result in Discord. Used, expired and unknown links start nothing; a lasso drawn
// with touch gives a non-rectangular mask. On midjourney-proxy, AceData, TTApi and LegNext the mask reaches the relay
// in its own shape (LegNext's: rectangles on a canvas of at least 500 px).
import { sql } from 'drizzle-orm';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { SimulatorProvider } from '../../src/upstream/simulator.ts';
import { freePort, startBot, ROOT, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeAceData } from '../support/fake-acedata.ts';
import { FakeDiscord, type SeenMessage } from '../support/fake-discord.ts';
import { FakeLegnext } from '../support/fake-legnext.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { FakeTtApi } from '../support/fake-ttapi.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, buttonFaces, customIdOf, imageInfo, isFinal, relayEnv, simulatorEnv, slashDraw } from './support.ts';

let discord: FakeDiscord;
let db: TestDatabase;
let database: Database;
let bot: BotProcess;
let browser: Browser;
let upscaled: SeenMessage;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  db = await createTestDatabase();
  const port = await freePort();
  bot = await startBot(simulatorEnv(discord, db, 150, { HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` }));
  database = await db.open();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const grid = await (await slashDraw(discord, 'a lighthouse on a cliff --ar 3:2')).waitForMessage(isFinal, 20_000);
  upscaled = await (await discord.clickButton({ message: grid, customId: customIdOf(grid, 'U2'), userId: ALICE })).waitForMessage(isFinal, 20_000);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await database?.close();
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

/** Clicks 🖌️ as `userId`; returns the private link. */
async function editorLink(userId = ALICE, locale = 'en-US'): Promise<string> {
  const click = await discord.clickButton({ message: upscaled, customId: customIdOf(upscaled, 'Vary (Region)'), userId, locale });
  const callback = await click.waitForCallback();
  expect(callback.type).toBe(4);
  // Only the clicker sees the link (the token is theirs: the job it starts is theirs).
  expect(callback.data?.flags).toBe(64);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/edit\/[A-Za-z0-9_-]{43})/.exec(String(callback.data?.content))?.[1];
  if (!url) throw new Error(`no editor link in ${JSON.stringify(callback.data)}`);
  return url;
}

async function regionTasks(): Promise<Array<{ id: string; user_id: string; prompt: string; prompt_upstream: string; upstream_id: string | null }>> {
  const rows = await database.db.execute(sql`select id, user_id, prompt, prompt_upstream, upstream_id from tasks where action = 'vary:region' order by created_at`);
  return (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as never;
}

/** The mask the simulator was given for a job (decoded from its upstream job), as raw one-channel pixels. */
async function waitForMask(taskId: string) {
  for (;;) {
    const row = (await regionTasks()).find((r) => r.id === taskId);
    const mask = row?.upstream_id ? SimulatorProvider.maskOf(row.upstream_id) : undefined;
    if (mask) {
      const { data, info } = await sharp(mask).greyscale().raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: info.channels, png: (await sharp(mask).metadata()).format };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pixels of the mask that disagree with the rectangle from `a` to `b` (image pixels), 2 px of slack at its edges. */
function pixelsOffRectangle(mask: { data: Buffer; width: number; height: number; channels: number }, [x0, y0]: readonly [number, number], [x1, y1]: readonly [number, number]): number {
  let wrong = 0;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      const white = mask.data[(y * mask.width + x) * mask.channels]! >= 128;
      const inside = x >= x0 + 2 && x < x1 - 2 && y >= y0 + 2 && y < y1 - 2;
      const outside = x < x0 - 2 || x >= x1 + 2 || y < y0 - 2 || y >= y1 + 2;
      if ((inside && !white) || (outside && white)) wrong++;
    }
  }
  return wrong;
}

/** Drags a rectangle with the mouse from 20 %/25 % to 55 %/70 % of the image; returns its corners in image pixels. */
async function dragRectangle(page: Page) {
  const { box, toImage } = await geometry(page);
  const from = { x: box.x + box.width * 0.2, y: box.y + box.height * 0.25 };
  const to = { x: box.x + box.width * 0.55, y: box.y + box.height * 0.7 };
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
  return { from, to, a: toImage(from.x, from.y), b: toImage(to.x, to.y) };
}

async function openEditor(url: string, opts: { touch?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext(opts.touch ? { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 } : { viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
  // Browser-side code as strings: the test's TypeScript has no DOM types.
  await page.waitForFunction("document.getElementById('image').naturalWidth > 0 && document.getElementById('overlay').width > 0");
  return page;
}

/** Maps a point in the page to image pixels (the canvas is laid over the image at the image's own size). */
async function geometry(page: Page) {
  const box = (await page.locator('#overlay').boundingBox())!;
  const natural = await page.evaluate<{ width: number; height: number }>("({ width: document.getElementById('image').naturalWidth, height: document.getElementById('image').naturalHeight })");
  return { box, natural, toImage: (x: number, y: number) => [((x - box.x) * natural.width) / box.width, ((y - box.y) * natural.height) / box.height] as const };
}

/**
 * On a relay's upscaled result: clicks 🖌️ as `userId`, drags a rectangle in the editor, sets the prompt when
 * given, sends, and waits for the page's "started"; returns the page and the rectangle in image pixels.
 */
async function sendRegion(discord: FakeDiscord, upscaledResult: SeenMessage, userId: string, prompt?: string) {
  const click = await discord.clickButton({ message: upscaledResult, customId: customIdOf(upscaledResult, 'Vary (Region)'), userId });
  const url = /(http:\/\/\S+\/edit\/[A-Za-z0-9_-]{43})/.exec(String((await click.waitForCallback()).data?.content))![1]!;
  const page = await openEditor(url);
  const { a, b } = await dragRectangle(page);
  if (prompt !== undefined) await page.locator('#prompt').fill(prompt);
  await page.locator('#submit').click();
  await expect.poll(() => page.locator('#status').textContent(), { timeout: 20_000 }).toMatch(/^Started — back to Discord/);
  return { page, a, b };
}

/** A mask PNG a relay received is the size of `upscaledResult`'s image and white exactly inside the rectangle a–b. */
async function expectRectangleMask(png: Buffer, upscaledResult: SeenMessage, a: readonly [number, number], b: readonly [number, number]) {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const image = await imageInfo(upscaledResult);
  expect({ width: info.width, height: info.height }).toEqual({ width: image.width, height: image.height });
  expect(pixelsOffRectangle({ data, width: info.width, height: info.height, channels: info.channels }, a, b)).toBe(0);
}

describe('Vary (Region) on the simulator', () => {
  it('offers 🖌️ Vary (Region) on an upscaled image, beside Vary (Strong/Subtle)', () => {
    expect(buttonFaces(upscaled)[0]).toEqual(['Vary (Strong)', 'Vary (Subtle)', 'Vary (Region)']);
  });

  let firstLink: string;
  it('a dragged rectangle and an edited prompt reach the relay as a mask of the image size, and the result arrives', async () => {
    firstLink = await editorLink();
    const page = await openEditor(firstLink);
    expect(await page.locator('#prompt').inputValue()).toBe('a lighthouse on a cliff --ar 3:2');
    const { natural } = await geometry(page);
    const image = await imageInfo(upscaled);
    expect(natural).toEqual({ width: image.width, height: image.height });
    const { a, b } = await dragRectangle(page);
    await page.locator('#prompt').fill('a lighthouse on a cliff, a red hot air balloon --ar 3:2');
    await page.screenshot({ path: `${ROOT}/docs/vary-region-editor.png` });
    await page.locator('#submit').click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 20_000 }).toMatch(/^Started — back to Discord/);

    const [task] = await regionTasks();
    expect(task).toMatchObject({ user_id: ALICE, prompt: 'a lighthouse on a cliff, a red hot air balloon --ar 3:2', prompt_upstream: 'a lighthouse on a cliff, a red hot air balloon --ar 3:2' });
    const mask = await waitForMask(task!.id);
    expect(mask.png).toBe('png');
    expect({ width: mask.width, height: mask.height }).toEqual(natural);
    expect(pixelsOffRectangle(mask, a, b)).toBe(0);

    const result = await discord.waitForMessage((m) => m.content.startsWith('**a lighthouse on a cliff, a red hot air balloon --ar 3:2** - Vary (Region) by') && m.attachments.length > 0, 20_000);
    expect(result.content).toContain(`<@${ALICE}>`);
    expect(buttonFaces(result)[0]).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
    await page.context().close();
  });

  it('a used link shows a clear page and starts nothing', async () => {
    const page = await (await browser.newContext()).newPage();
    const response = await page.goto(firstLink);
    expect(response?.status()).toBe(410);
    expect(await page.locator('#message').textContent()).toMatch(/already used/);
    // Submitting to it anyway (a second tab, a replay) is refused too.
    const replay = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', body: JSON.stringify({ prompt: 'x', mask: '' }) })).json(), firstLink);
    expect(replay).toMatchObject({ ok: false, message: expect.stringMatching(/already used/) });
    expect(await regionTasks()).toHaveLength(1);
    await page.context().close();
  });

  it('an expired link and an unknown one show a clear page and start nothing', async () => {
    const link = await editorLink(BOB, 'zh-CN');
    await database.db.execute(sql`update editor_sessions set expires_at = now() - interval '1 second' where used_at is null`);
    const page = await (await browser.newContext()).newPage();
    expect((await page.goto(link))?.status()).toBe(410);
    expect(await page.locator('#message').textContent()).toMatch(/has expired/);
    const forged = `${link.slice(0, -43)}${'A'.repeat(43)}`;
    expect((await page.goto(forged))?.status()).toBe(404);
    expect(await page.locator('#message').textContent()).toMatch(/not valid/);
    expect(await regionTasks()).toHaveLength(1);
    await page.context().close();
  });

  it('a lasso drawn with touch on a phone gives a non-rectangular mask, in the user\'s language', async () => {
    const link = await editorLink(BOB, 'zh-CN');
    const page = await openEditor(link, { touch: true });
    expect(await page.locator('h1').textContent()).toBe('局部重绘');
    await page.locator('[data-tool="lasso"]').tap();
    const { box, toImage } = await geometry(page);
    // A triangle, finger down → moves → up (Chrome's touch input, as a phone sends it).
    const points = [[0.2, 0.8], [0.5, 0.2], [0.8, 0.8]].map(([fx, fy]) => ({ x: box.x + box.width * fx!, y: box.y + box.height * fy! }));
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', p?: { x: number; y: number }) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: p ? [{ x: p.x, y: p.y }] : [] });
    await touch('touchStart', points[0]);
    for (let i = 1; i <= 30; i++) {
      const [p, q] = i <= 15 ? [points[0]!, points[1]!] : [points[1]!, points[2]!];
      const f = i <= 15 ? i / 15 : (i - 15) / 15;
      await touch('touchMove', { x: p.x + (q.x - p.x) * f, y: p.y + (q.y - p.y) * f });
    }
    await touch('touchEnd');
    // The lasso was taken: the page lets it be sent.
    expect(await page.locator('#submit').isEnabled()).toBe(true);
    await page.locator('#submit').click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 20_000 }).toMatch(/^已开始/);

    const task = (await regionTasks()).find((r) => r.user_id === BOB)!;
    const mask = await waitForMask(task.id);
    const white = (x: number, y: number) => mask.data[(Math.round(y) * mask.width + Math.round(x)) * mask.channels]! >= 128;
    let count = 0;
    for (let i = 0; i < mask.data.length; i += mask.channels) if (mask.data[i]! >= 128) count++;
    const [ax, ay] = toImage(points[0]!.x, points[0]!.y);
    const [bx, by] = toImage(points[1]!.x, points[1]!.y);
    const [cx] = toImage(points[2]!.x, points[2]!.y);
    // Inside the triangle white; its bounding box's top corners (outside the triangle) black; about half the box.
    expect(white((ax + bx + cx) / 3, (ay * 2 + by) / 3)).toBe(true);
    expect(white(ax + 5, by + 5)).toBe(false);
    expect(white(cx - 5, by + 5)).toBe(false);
    const boxArea = (cx - ax) * (ay - by);
    expect(count / boxArea).toBeGreaterThan(0.4);
    expect(count / boxArea).toBeLessThan(0.6);
    await discord.waitForMessage((m) => m.content.includes('局部重绘') && m.content.includes(`<@${BOB}>`) && m.attachments.length > 0, 20_000);
    await page.context().close();
  });
});

describe('Vary (Region) on midjourney-proxy (trueai-org)', () => {
  let mjDiscord: FakeDiscord;
  let mj: FakeMidjourneyProxy;
  let mjDb: TestDatabase;
  let mjBot: BotProcess;

  beforeAll(async () => {
    [mjDiscord, mj, mjDb] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: 'mj-region', stepMs: 100 }), createTestDatabase()]);
    const port = await freePort();
    mjBot = await startBot(relayEnv(mjDiscord, mjDb, { provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: 'mj-region' }, { HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, POLL_INTERVAL_MS: '200' }));
  }, 60_000);

  afterAll(async () => {
    await mjBot?.stop();
    await mjDb?.destroy();
    await Promise.all([mjDiscord?.close(), mj?.close()]);
  });

  it('sends MJ::Inpaint through /mj/submit/action, then the mask and the edited prompt through /mj/submit/modal', async () => {
    const grid = await (await slashDraw(mjDiscord, 'a quiet mountain lake')).waitForMessage(isFinal, 20_000);
    const single = await (await mjDiscord.clickButton({ message: grid, customId: customIdOf(grid, 'U3'), userId: ALICE })).waitForMessage(isFinal, 20_000);
    const { page, a, b } = await sendRegion(mjDiscord, single, ALICE, 'a quiet mountain lake, a wooden cabin');

    await expect.poll(() => mj.modals.length, { timeout: 20_000 }).toBe(1);
    const modal = mj.modals[0]!;
    expect(modal).toMatchObject({ action: 'INPAINT', prompt: 'a quiet mountain lake, a wooden cabin' });
    const action = mj.lastRequest('/mj/submit/action')!.body as { customId: string };
    expect(action.customId).toMatch(/^MJ::Inpaint::1::.+::SOLO$/);
    expect(modal.maskBase64).toMatch(/^data:image\/png;base64,/);
    await expectRectangleMask(Buffer.from(modal.maskBase64!.slice('data:image/png;base64,'.length), 'base64'), single, a, b);

    const result = await mjDiscord.waitForMessage((m) => m.content.startsWith('**a quiet mountain lake, a wooden cabin** - Vary (Region) by') && m.attachments.length > 0, 20_000);
    expect(buttonFaces(result)[0]).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
    await page.context().close();
  });
});

describe('Vary (Region) on AceData', () => {
  let aceDiscord: FakeDiscord;
  let ace: FakeAceData;
  let aceDb: TestDatabase;
  let aceBot: BotProcess;

  beforeAll(async () => {
    [aceDiscord, ace, aceDb] = await Promise.all([FakeDiscord.start(), FakeAceData.start({ stepMs: 100 }), createTestDatabase()]);
    const port = await freePort();
    // Polled (ndjson streams) with the editor page served: PUBLIC_URL set, polling fast.
    aceBot = await startBot(relayEnv(aceDiscord, aceDb, { provider: 'acedata', baseUrl: ace.url, apiKey: ace.apiKey }, { HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, POLL_INTERVAL_MS: '200' }));
  }, 60_000);

  afterAll(async () => {
    await aceBot?.stop();
    await aceDb?.destroy();
    await Promise.all([aceDiscord?.close(), ace?.close()]);
  });

  it('offers 🖌️ only where the image lists variation_region, and sends it with the image_id, the mask as a base64 PNG and the edited prompt', async () => {
    const grid = await (await slashDraw(aceDiscord, 'a quiet mountain lake')).waitForMessage(isFinal, 20_000);
    expect(buttonFaces(grid).flat()).not.toContain('Vary (Region)');
    const single = await (await aceDiscord.clickButton({ message: grid, customId: customIdOf(grid, 'U3'), userId: ALICE })).waitForMessage(isFinal, 20_000);
    expect(buttonFaces(single)[0]).toEqual(['Vary (Strong)', 'Vary (Subtle)', 'Edit', 'Vary (Region)']);
    const { page, a, b } = await sendRegion(aceDiscord, single, ALICE, 'a quiet mountain lake, a wooden cabin');

    await expect.poll(() => ace.regions.length, { timeout: 20_000 }).toBe(1);
    const region = ace.regions[0]!;
    const sent = ace.requests.filter((r) => r.path === '/midjourney/imagine').at(-1)!.body as Record<string, unknown>;
    expect(sent).toMatchObject({ action: 'variation_region', prompt: 'a quiet mountain lake, a wooden cabin', image_id: expect.stringMatching(/^img/) });
    // Plain base64 (no data: prefix) of a PNG the size of the image shown, white exactly where the rectangle was.
    expect(String(sent.mask)).toMatch(/^iVBORw0KGgo/);
    expect(ace.images.get(region.imageId)?.grid).toBe(false);
    await expectRectangleMask(region.mask, single, a, b);

    const result = await aceDiscord.waitForMessage((m) => m.content.startsWith('**a quiet mountain lake, a wooden cabin** - Vary (Region) by') && m.attachments.length > 0, 20_000);
    expect(buttonFaces(result)[0]).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
    aceDiscord.assertNoViolations();
    await page.context().close();
  });
});

describe('Vary (Region) on TTApi', () => {
  let tt: FakeTtApi;
  let ttSingle: SeenMessage;
  beforeAll(async () => {
    tt = await FakeTtApi.start({ stepMs: 100 });
  });
  afterAll(() => tt?.close());
  // Pushed: PUBLIC_URL (the editor page's address) is set, and TTApi's hookUrl finishes each job.
  const s = useRelaySession(() => ({ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, mode: 'pushed' }));

  it('sends the upscale\'s job id, the mask as bare base64 PNG of the image\'s size and the edited prompt to /midjourney/v1/inpaint', async () => {
    const { final: grid } = await s.draw('a red barn in a snowy field');
    // Only upscales offer it: a grid has no 🖌️.
    expect(buttonFaces(grid).flat()).not.toContain('Vary (Region)');
    const single = await s.click(grid, customIdOf(grid, 'U4'), ALICE);
    ttSingle = single;
    expect(buttonFaces(single)[0]).toEqual(['Vary (Strong)', 'Vary (Subtle)', 'Vary (Region)']);
    const upscaleId = tt.submissions.find((j) => j.action === 'upsample4')!.jobId;

    const { page, a, b } = await sendRegion(s.discord, single, ALICE, 'a red barn in a snowy field, a horse-drawn sleigh');

    await expect.poll(() => tt.inpaints.length, { timeout: 20_000 }).toBe(1);
    const sent = tt.requests.filter((r) => r.path === '/midjourney/v1/inpaint').at(-1)!;
    expect(sent.headers['tt-api-key']).toBe(tt.apiKey);
    const body = sent.body as Record<string, unknown>;
    expect(body).toMatchObject({ jobId: upscaleId, prompt: 'a red barn in a snowy field, a horse-drawn sleigh' });
    expect(String(body.mask)).toMatch(/^iVBORw0KGgo/);
    await expectRectangleMask(tt.inpaints[0]!.mask, single, a, b);

    // TTApi's answer (`data.job_id`) is tracked like any job; the result is a grid with its own buttons.
    const result = await s.discord.waitForMessage((m) => m.content.startsWith('**a red barn in a snowy field, a horse-drawn sleigh** - Vary (Region) by') && m.attachments.length > 0, 20_000);
    expect(result.content).toContain(`<@${ALICE}>`);
    expect(buttonFaces(result)[0]).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
    await page.context().close();
  });

  it("a refusal by TTApi ends the job with TTApi's own words", async () => {
    tt.server.inject((r) => r.path === '/midjourney/v1/inpaint', { status: 400, body: { status: 'FAILED', message: 'mask area is too small', data: null } });
    const { page } = await sendRegion(s.discord, ttSingle, BOB);
    const failed = await s.discord.waitForMessage((m) => m.content.startsWith('❌') && m.content.includes(`<@${BOB}>`), 20_000);
    expect(failed.content).toBe(`❌ **a red barn in a snowy field** - Vary (Region) by <@${BOB}>\nThe job failed: the image service reported: mask area is too small`);
    expect(tt.inpaints).toHaveLength(1);
    await page.context().close();
  });
});

describe('Vary (Region) on LegNext', () => {
  let legnext: FakeLegnext;
  let picked: SeenMessage;
  beforeAll(async () => {
    legnext = await FakeLegnext.start({ stepMs: 100 });
  });
  afterAll(() => legnext?.close());
  // Pushed: PUBLIC_URL (the editor page's address) is set, and LegNext's callback finishes each job.
  const s = useRelaySession(() => ({ provider: 'legnext', baseUrl: legnext.url, apiKey: legnext.apiKey, mode: 'pushed' }));

  it('offers 🖌️ only on a picked image its grid lists under available_actions.inpaint; sends the grid job, the image number, the mask as rectangles over the marked part and the edited prompt to /inpaint', async () => {
    // This grid lists inpaint for its second image only.
    legnext.gridInpaint = [1];
    const { final: grid } = await s.draw('a red barn in a snowy field');
    legnext.gridInpaint = [0, 1, 2, 3];
    expect(buttonFaces(grid).flat()).not.toContain('Vary (Region)');
    const first = await s.click(grid, customIdOf(grid, 'U1'), ALICE);
    expect(buttonFaces(first)[0]).toEqual(['Vary (Strong)', 'Vary (Subtle)']);
    // U2 is the grid's second image (no LegNext call); the grid listed inpaint for it.
    picked = await s.click(grid, customIdOf(grid, 'U2'), ALICE);
    expect(buttonFaces(picked)[0]).toEqual(['Vary (Strong)', 'Vary (Subtle)', 'Vary (Region)']);

    const { page, a, b } = await sendRegion(s.discord, picked, ALICE, 'a red barn in a snowy field, a horse-drawn sleigh');

    await expect.poll(() => legnext.posts('inpaint').length, { timeout: 20_000 }).toBe(1);
    const sent = legnext.posts('inpaint')[0]!;
    expect(sent).toMatchObject({ jobId: legnext.jobsOf('diffusion').at(-1), imageNo: 1, remixPrompt: 'a red barn in a snowy field, a horse-drawn sleigh', callback: expect.stringMatching(/^http:/) });
    // The dragged rectangle is one rectangle, on a canvas scaled up to LegNext's 500 px minimum; back in image
    // pixels it matches the drag to within the 2 px cells the mask is read in (and the editor's 2 px of slack).
    const image = await imageInfo(picked);
    const areas = (sent.mask as { areas: Array<{ width: number; height: number; points: number[] }> }).areas;
    expect(areas).toHaveLength(1);
    const [{ width, height, points }] = areas as [{ width: number; height: number; points: number[] }];
    expect(Math.min(width, height)).toBe(500);
    expect(width / height).toBeCloseTo(image.width / image.height, 2);
    const scale = width / image.width;
    const [left, top, , bottom, right] = points.map((p) => p / scale) as [number, number, number, number, number];
    for (const [got, want] of [[left, a[0]], [top, a[1]], [right, b[0]], [bottom, b[1]]] as const) expect(Math.abs(got - want)).toBeLessThanOrEqual(4);
    expect(points).toEqual([points[0], points[1], points[0], points[3], points[4], points[3], points[4], points[1]]);

    // LegNext's answer is tracked like any job: four inpainted images, a grid with its own buttons.
    const result = await s.discord.waitForMessage((m) => m.content.startsWith('**a red barn in a snowy field, a horse-drawn sleigh** - Vary (Region) by') && m.attachments.length > 0, 20_000);
    expect(result.content).toContain(`<@${ALICE}>`);
    expect(buttonFaces(result)[0]).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
    s.discord.assertNoViolations();
    await page.context().close();
  });

  it("a refusal by LegNext ends the job with LegNext's own words", async () => {
    legnext.server.inject((r) => r.path === '/api/v1/inpaint', { status: 400, body: { code: 400, message: 'mask area is too small', raw_message: 'mask area is too small', detail: null } });
    const { page } = await sendRegion(s.discord, picked, BOB);
    const failed = await s.discord.waitForMessage((m) => m.content.startsWith('❌') && m.content.includes(`<@${BOB}>`), 20_000);
    expect(failed.content).toBe(`❌ **a red barn in a snowy field** - Vary (Region) by <@${BOB}>\nThe job failed: the image service reported: mask area is too small`);
    expect(legnext.jobsOf('inpaint')).toHaveLength(1);
    await page.context().close();
  });
});
