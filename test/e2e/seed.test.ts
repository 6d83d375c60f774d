// 📋 on results where the relay can tell the seed (trueai-org's midjourney-proxy, GET /mj/task/{id}/image-seed;
// TTApi, POST /midjourney/v1/seed then the seed job's fetch, or the job's own fetch when it already says):
// AceData, POST /midjourney/seed {image_id}): whoever clicks is told the job's seed privately, with how to use
// it; results of a relay that cannot tell it (the open-source midjourney-proxy, which has no such route) offer no 📋.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeDiscord, SeenMessage } from '../support/fake-discord.ts';
import { FakeAceData, aceSeedOf } from '../support/fake-acedata.ts';
import { FakeMidjourneyProxy, seedOf } from '../support/fake-midjourney-proxy.ts';
import { FakeTtApi, ttSeedOf } from '../support/fake-ttapi.ts';
import { BOB, useRelaySession } from './relay-session.ts';
import { GRID, buttonFaces, customIdOf, withSeed } from './support.ts';

const EPHEMERAL = 1 << 6;

let mj: FakeMidjourneyProxy;
let openSource: FakeMidjourneyProxy;
let tt: FakeTtApi;
let ttKnowing: FakeTtApi;
let ace: FakeAceData;
beforeAll(async () => {
  [mj, openSource, tt, ttKnowing, ace] = await Promise.all([
    FakeMidjourneyProxy.start({ stepMs: 100 }),
    FakeMidjourneyProxy.start({ stepMs: 100, openSource: true }),
    FakeTtApi.start({ stepMs: 100 }),
    FakeTtApi.start({ stepMs: 100, seedOnJobs: true }),
    FakeAceData.start({ stepMs: 100 }),
  ]);
});
afterAll(async () => {
  await Promise.all([mj?.close(), openSource?.close(), tt?.close(), ttKnowing?.close(), ace?.close()]);
});

/** Clicks 📋 on `result` as Bob; resolves the private answer. */
async function askSeed(discord: FakeDiscord, result: SeenMessage, locale = 'en-US'): Promise<SeenMessage> {
  const click = await discord.clickButton({ message: result, customId: customIdOf(result, '📋'), userId: BOB, locale });
  return click.waitForMessage((m) => m.content.includes('seed') || m.content.includes('种子'), 20_000);
}

/** The upstream id of the job behind a result: the fake's last task with that prompt and action. */
const upstreamIdOf = (relay: FakeMidjourneyProxy, prompt: string, action: string) => relay.created.filter((t) => t.promptEn === prompt && t.action === action).at(-1)!.id;

describe('📋 on midjourney-proxy (trueai-org)', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: mj.opts.apiKey, mode: 'polled' }));

  it('tells whoever clicks the seed of a grid, privately, with how to use it', async () => {
    const { final: grid } = await s.draw('a lighthouse at dusk');
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    const seed = seedOf(upstreamIdOf(mj, 'a lighthouse at dusk', 'IMAGINE'));
    const answer = await askSeed(s.discord, grid);
    expect(answer.flags! & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe(`📋 The seed of this job is **${seed}**. Add \`--seed ${seed}\` to a /draw prompt to start from it again.`);
    expect(mj.seedRequests.at(-1)).toBe(upstreamIdOf(mj, 'a lighthouse at dusk', 'IMAGINE'));
    s.discord.assertNoViolations();
  });

  it('answers for an upscale too, in the clicker\'s language', async () => {
    const { final: grid } = await s.draw('a red kite over the sea');
    const upscaled = await s.click(grid, customIdOf(grid, 'U2'));
    expect(buttonFaces(upscaled).flat()).toContain('📋');
    const ids = mj.created.filter((t) => t.promptEn === 'a red kite over the sea' && t.action === 'UPSCALE');
    const seed = seedOf(ids.at(-1)!.id);
    const answer = await askSeed(s.discord, upscaled, 'zh-CN');
    expect(answer.flags! & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe(`📋 这个任务的种子是 **${seed}**。在 /画图 的提示词后加上 \`--seed ${seed}\` 即可用它再画。`);
    s.discord.assertNoViolations();
  });
});

describe('📋 on the open-source midjourney-proxy', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: openSource.url, apiKey: openSource.opts.apiKey, mode: 'polled' }));

  it('is not offered: the server cannot tell a seed', async () => {
    const { final: grid } = await s.draw('a quiet harbour');
    expect(buttonFaces(grid)).toEqual(GRID);
    expect(openSource.requests.some((r) => r.path.endsWith('/image-seed'))).toBe(false);
  });
});

describe('📋 on TTApi', () => {
  const s = useRelaySession(() => ({ provider: 'ttapi', baseUrl: tt.url, apiKey: tt.apiKey, mode: 'polled' }));
  const jobOf = (relay: FakeTtApi, prompt: string, action: string) => relay.submissions.filter((j) => j.prompt === prompt && j.action === action).at(-1)!.jobId;

  it('asks /midjourney/v1/seed for the job and tells whoever clicks the seed its job reports, privately', async () => {
    const { final: grid } = await s.draw('a windmill at dawn');
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    const answer = await askSeed(s.discord, grid);
    const jobId = jobOf(tt, 'a windmill at dawn', 'imagine');
    expect(answer.flags! & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe(`📋 The seed of this job is **${ttSeedOf(jobId)}**. Add \`--seed ${ttSeedOf(jobId)}\` to a /draw prompt to start from it again.`);
    expect(tt.seedRequests).toEqual([jobId]);
    expect(tt.requests.find((r) => r.path === '/midjourney/v1/seed')!.headers['tt-api-key']).toBe(tt.apiKey);
  });

  it('answers for an upscale too, in the clicker\'s language', async () => {
    const { final: grid } = await s.draw('a stone bridge in fog');
    const upscaled = await s.click(grid, customIdOf(grid, 'U1'));
    const answer = await askSeed(s.discord, upscaled, 'zh-CN');
    const seed = ttSeedOf(jobOf(tt, 'a stone bridge in fog', 'upsample1'));
    expect(answer.content).toBe(`📋 这个任务的种子是 **${seed}**。在 /画图 的提示词后加上 \`--seed ${seed}\` 即可用它再画。`);
  });

  it('tells the clicker plainly when TTApi refuses', async () => {
    const { final: grid } = await s.draw('a lantern on a table');
    tt.server.inject((r) => r.path === '/midjourney/v1/seed', { status: 400, body: { status: 'FAILED', message: 'seed is not available for this job', data: null } });
    const click = await s.discord.clickButton({ message: grid, customId: customIdOf(grid, '📋'), userId: BOB });
    const answer = await click.waitForMessage((m) => m.content.includes('could not tell the seed'), 20_000);
    expect(answer.flags! & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe('The image service could not tell the seed of this job.');
    await s.bot.waitForLog((l) => l.msg === 'the relay did not tell the seed');
    s.discord.assertNoViolations();
  });
});

describe('📋 on TTApi when the job\'s own fetch tells the seed', () => {
  const s = useRelaySession(() => ({ provider: 'ttapi', baseUrl: ttKnowing.url, apiKey: ttKnowing.apiKey, mode: 'polled' }));

  it('answers from the job itself, without the /midjourney/v1/seed call', async () => {
    const { final: grid } = await s.draw('a fox in tall grass');
    const answer = await askSeed(s.discord, grid);
    const jobId = ttKnowing.submissions.find((j) => j.prompt === 'a fox in tall grass')!.jobId;
    expect(answer.content).toContain(`**${ttSeedOf(jobId)}**`);
    expect(ttKnowing.seedRequests).toEqual([]);
  });
});

describe('📋 on AceData', () => {
  const s = useRelaySession(() => ({ provider: 'acedata', baseUrl: ace.url, apiKey: ace.apiKey, mode: 'polled' }));
  /** The image_id AceData gave the last finished job matching `pick`. */
  const imageIdOf = (pick: (job: { action: string; prompt: string; imageId?: string }) => boolean) =>
    String([...ace.jobs.values()].filter((j) => pick(j) && j.result).at(-1)!.result!.image_id);

  it('asks /midjourney/seed with the grid\'s image_id and tells whoever clicks the seed, privately', async () => {
    const { final: grid } = await s.draw('a paper boat on a pond');
    expect(buttonFaces(grid).flat()).toContain('📋');
    const imageId = imageIdOf((j) => j.prompt === 'a paper boat on a pond' && j.action === 'generate');
    const answer = await askSeed(s.discord, grid);
    expect(answer.flags! & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe(`📋 The seed of this job is **${aceSeedOf(imageId)}**. Add \`--seed ${aceSeedOf(imageId)}\` to a /draw prompt to start from it again.`);
    expect(ace.seedRequests).toEqual([imageId]);
    const request = ace.requests.find((r) => r.path === '/midjourney/seed')!;
    expect(request.headers.authorization).toBe(`Bearer ${ace.apiKey}`);
    expect(request.body).toEqual({ image_id: imageId });
    s.discord.assertNoViolations();
  });

  it('answers for an upscale with the upscale\'s own image_id, in the clicker\'s language', async () => {
    const { final: grid } = await s.draw('a snowy cabin at night');
    const gridId = imageIdOf((j) => j.prompt === 'a snowy cabin at night');
    const upscaled = await s.click(grid, customIdOf(grid, 'U3'));
    const imageId = imageIdOf((j) => j.imageId === gridId && j.action === 'upscale3');
    const answer = await askSeed(s.discord, upscaled, 'zh-CN');
    expect(answer.flags! & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe(`📋 这个任务的种子是 **${aceSeedOf(imageId)}**。在 /画图 的提示词后加上 \`--seed ${aceSeedOf(imageId)}\` 即可用它再画。`);
    expect(ace.seedRequests.at(-1)).toBe(imageId);
    s.discord.assertNoViolations();
  });

  it('tells the clicker plainly, in their language, when AceData refuses', async () => {
    const { final: grid } = await s.draw('a kettle on a stove');
    ace.server.inject((r) => r.path === '/midjourney/seed', { status: 400, body: { success: false, error: { code: 'bad_request', message: 'seed is not available for this image' }, trace_id: 'trace-seed' } });
    const click = await s.discord.clickButton({ message: grid, customId: customIdOf(grid, '📋'), userId: BOB, locale: 'zh-CN' });
    const answer = await click.waitForMessage((m) => m.content.includes('种子'), 20_000);
    expect(answer.flags! & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toBe('图片服务未能给出这个任务的种子。');
    await s.bot.waitForLog((l) => l.msg === 'the relay did not tell the seed');
    s.discord.assertNoViolations();
  });
});
