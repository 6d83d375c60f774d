// Contract tests for the TTApi adapter: the documented shapes through its parser, then the adapter against
// the fake TTApi over real HTTP (imagine, fetch, components → actions, hookUrl, errors 402/429/499/5xx).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GRID_ACTIONS } from '../../src/upstream/actions.ts';
import { UpstreamAccountError, UpstreamRejected, type UpstreamJob } from '../../src/upstream/provider.ts';
import { TtApiProvider, parseTtJob, ttComponentToInternal } from '../../src/upstream/ttapi.ts';
import { FakeTtApi, TT_SINGLE_COMPONENTS } from '../support/fake-ttapi.ts';
import { fetchUntil } from '../support/upstream-poll.ts';

const SEED = '/work/shared/seeds/ttapi-midjourney.zh.txt';
const identity = (u: string) => u;
const AFTER_UPSCALE = ['vary:strong', 'vary:subtle', 'zoom:2', 'zoom:1.5', 'pan:left', 'pan:right', 'pan:up', 'pan:down', 'upscale:2x', 'upscale:4x'];

describe('TTApi shapes', () => {
  it('the seed documents the header, the endpoints and the request fields the adapter sends', () => {
    const seed = readFileSync(SEED, 'utf8');
    for (const fact of ['"TT-API-KEY": your_key', '/midjourney/v1/imagine', '/midjourney/v1/fetch', '"?jobId="', 'getJSONObject("data").getStr("jobId")', '"mode": "fast"', '"hookUrl": ""']) {
      expect(seed).toContain(fact);
    }
  });

  it('reads a finished job: cdnImage before the expiring discordImage, components as actions', () => {
    const job = parseTtJob(
      {
        status: 'SUCCESS',
        message: 'success',
        jobId: 'j1',
        data: {
          action: 'imagine', jobId: 'j1', progress: '100', prompt: 'a cat',
          discordImage: 'https://cdn.discordapp.com/attachments/1/2/a.png', cdnImage: 'https://cdn.ttapi.io/a.png',
          width: 2048, height: 2048, components: ['upsample1', 'upsample2', 'upsample3', 'upsample4', 'variation1', 'variation2', 'variation3', 'variation4', 'reroll'],
          images: ['https://cdn.ttapi.io/1.png'],
        },
      },
      identity,
    )!;
    expect(job).toMatchObject({ upstreamId: 'j1', status: 'succeeded', progress: 100, actions: [...GRID_ACTIONS] });
    expect(job.imageUrls).toEqual(['https://cdn.ttapi.io/a.png', 'https://cdn.ttapi.io/1.png']);
    expect(job.upstreamData).toMatchObject({ components: { 'upscale:1': 'upsample1', reroll: 'reroll' } });
  });

  it('reads queued, running and failed jobs; `job_id` is accepted too', () => {
    expect(parseTtJob({ status: 'PENDING_QUEUE', jobId: 'j', data: { progress: '0' } }, identity)).toEqual({ upstreamId: 'j', status: 'submitted', progress: 0 });
    expect(parseTtJob({ status: 'ON_QUEUE', data: { job_id: 'j', progress: '46' } }, identity)).toEqual({ upstreamId: 'j', status: 'running', progress: 46 });
    expect(parseTtJob({ status: 'FAILED', message: 'Banned prompt: gore', jobId: 'j', data: null }, identity)).toEqual({ upstreamId: 'j', status: 'failed', failReason: 'Banned prompt: gore' });
    expect(parseTtJob({ status: 'FAILED', message: 'job not found', data: null }, identity)).toBeUndefined();
  });

  it('maps component names, ignoring unknown ones', () => {
    expect(TT_SINGLE_COMPONENTS.map(ttComponentToInternal).sort()).toEqual([...AFTER_UPSCALE].sort());
    expect(ttComponentToInternal('upsample2')).toBe('upscale:2');
    expect(ttComponentToInternal('inpaint')).toBeUndefined();
  });
});

describe('TTApi adapter against the fake', () => {
  let fake: FakeTtApi;
  beforeAll(async () => {
    fake = await FakeTtApi.start({ stepMs: 40 });
  });
  afterAll(() => fake?.close());
  beforeEach(() => fake.server.clearInjections());

  const provider = () => new TtApiProvider(fake.url, fake.apiKey);

  const until = (p: TtApiProvider, id: string) => fetchUntil(p, id);

  it('imagine → fetch → upsample from the components → the big upscalers offered next', async () => {
    const p = provider();
    const { upstreamId } = await p.submit({ kind: 'imagine', taskId: 't', prompt: 'a cat', callbackUrl: 'http://127.0.0.1:1/upstream/callback/a/b' });
    const sent = fake.requests.find((r) => r.path === '/midjourney/v1/imagine')!;
    expect(sent.headers['tt-api-key']).toBe(fake.apiKey);
    expect(sent.body).toEqual({ prompt: 'a cat', mode: 'fast', hookUrl: 'http://127.0.0.1:1/upstream/callback/a/b' });
    const { job, seen } = await until(p, upstreamId);
    expect(seen.some((j) => j.status === 'running' && j.progress! > 0)).toBe(true);
    expect(job).toMatchObject({ status: 'succeeded', actions: [...GRID_ACTIONS] });
    expect(job.imageUrls![0]).toBe(`${fake.url}/assets/${upstreamId}-final.png`);

    const parent = { upstreamId, upstreamData: job.upstreamData!, imageUrls: job.imageUrls!, prompt: 'a cat' };
    const up = await p.submit({ kind: 'action', taskId: 'u', action: 'upscale:3', parent });
    expect(fake.requests.at(-1)!.body).toEqual({ jobId: upstreamId, action: 'upsample3' });
    const { job: single } = await until(p, up.upstreamId);
    expect([...single.actions!].sort()).toEqual([...AFTER_UPSCALE].sort());
    // Vary (Region) goes with Vary (Strong/Subtle): the upscale has it, the grid does not.
    expect(p.inpaintable(single.upstreamData!)).toBe(true);
    expect(p.inpaintable(job.upstreamData!)).toBe(false);
    // Only what the parent listed is ever sent.
    await expect(p.submit({ kind: 'action', taskId: 'z', action: 'zoom:custom', parent })).rejects.toBeInstanceOf(UpstreamRejected);
  });

  it('fetches several jobs in one pass and omits those TTApi does not know', async () => {
    const p = provider();
    const a = await p.submit({ kind: 'imagine', taskId: 'a', prompt: 'one' });
    const b = await p.submit({ kind: 'imagine', taskId: 'b', prompt: 'two' });
    const jobs = await p.fetch([a.upstreamId, 'unknown-job', b.upstreamId]);
    expect(jobs.map((j) => j.upstreamId)).toEqual([a.upstreamId, b.upstreamId]);
  });

  it("ends a failed job with TTApi's message, pushed to the hookUrl as well", async () => {
    const p = provider();
    fake.failNextJob('Banned prompt detected');
    const { upstreamId } = await p.submit({ kind: 'imagine', taskId: 't', prompt: 'x', callbackUrl: `${fake.url}/nowhere` });
    expect((await until(p, upstreamId)).job).toEqual({ upstreamId, status: 'failed', failReason: 'Banned prompt detected' });
    // Our "hook" answered 404 here: TTApi tries three times, and each body parses to the same failure.
    await expect.poll(() => fake.hooks.filter((h) => h.body.jobId === upstreamId).length, { timeout: 5000 }).toBe(3);
    expect(p.parseWebhook(fake.hooks.at(-1)!.body)).toMatchObject({ upstreamId, status: 'failed' });
  });

  it('📋: when the seed call answers the job\'s own id, the job is fetched until its seed shows, for a bounded time', async () => {
    const p = provider();
    p.seedWaitMs = 300;
    p.seedPollMs = 50;
    const { upstreamId } = await p.submit({ kind: 'imagine', taskId: 's', prompt: 'a seed' });
    await until(p, upstreamId);
    fake.server.inject((r) => r.path === '/midjourney/v1/seed', { status: 200, body: { status: 'SUCCESS', message: '', data: { jobId: upstreamId } } });
    const parent = { upstreamId, upstreamData: null, imageUrls: [], prompt: 'a seed' };
    const started = Date.now();
    // This fake never fills the job's own seed: the wait ends with "cannot tell", not a hang.
    await expect(p.seed(parent)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(fake.requests.filter((r) => r.path.startsWith(`/midjourney/v1/fetch?jobId=${upstreamId}`)).length).toBeGreaterThan(3);
  });

  const submitPath = (r: { path: string }) => r.path.startsWith('/midjourney/v1/imagine');
  it.each([
    [401, 'auth'],
    [402, 'balance'],
    [429, 'rate_limited'],
    [499, 'queue_full'],
    [500, 'unavailable'],
    [503, 'unavailable'],
    [404, 'unavailable'],
  ])('maps HTTP %s to the %s account error', async (status, kind) => {
    fake.server.inject(submitPath, { status, body: { status: 'FAILED', message: `HTTP ${status}`, data: null } });
    const err = await provider().submit({ kind: 'imagine', taskId: 't', prompt: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamAccountError);
    expect((err as UpstreamAccountError).kind).toBe(kind);
  });

  it('refuses a job TTApi answers FAILED for, with its message', async () => {
    fake.server.inject(submitPath, { status: 200, body: { status: 'FAILED', message: 'prompt contains banned words', data: null } });
    await expect(provider().submit({ kind: 'imagine', taskId: 't', prompt: 'a' })).rejects.toThrow(new UpstreamRejected('prompt contains banned words'));
  });

  it('treats malformed JSON as the service being unavailable', async () => {
    fake.server.inject((r) => r.path.startsWith('/midjourney/v1/fetch'), { status: 200, body: '{"status": "SUC', raw: true });
    const err = await provider().fetch(['whatever']).catch((e: unknown) => e);
    expect((err as UpstreamAccountError).kind).toBe('unavailable');
  });
});
