// Contract tests for the LegNext adapter against the fake LegNext over real HTTP: each endpoint's body, the
// picked images (U1–U4) and what follows them, describe and blend, failures and the callback body.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ANIMATE_ACTIONS, type InternalAction } from '../../src/upstream/actions.ts';
import { createUpstream } from '../../src/upstream/index.ts';
import { LegnextProvider, maskAreas } from '../../src/upstream/legnext.ts';
import { UpstreamAccountError, UpstreamRejected, type ParentRef } from '../../src/upstream/provider.ts';
import { FakeLegnext } from '../support/fake-legnext.ts';
import { fetchUntil, parentOf } from '../support/upstream-poll.ts';

let fake: FakeLegnext;
let provider: LegnextProvider;

beforeAll(async () => {
  fake = await FakeLegnext.start({ stepMs: 40 });
  provider = LegnextProvider.create({ baseUrl: fake.url, apiKey: fake.apiKey });
});
afterAll(() => fake?.close());
beforeEach(() => fake.clearInjections());

async function finished(prompt: string): Promise<ParentRef> {
  const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't', prompt });
  const { job } = await fetchUntil(provider, upstreamId);
  expect(job.status).toBe('succeeded');
  return parentOf(upstreamId, job, prompt);
}

describe('LegNext: shapes', () => {
  it('reads the documented completed diffusion job: grid first, the four images, U/V for the images listed', () => {
    const job = provider.toJob({
      job_id: 'a616de55',
      task_type: 'diffusion',
      status: 'completed',
      output: {
        image_url: 'https://cdn.legnext.ai/temp/1760408558306.png',
        image_urls: [0, 1, 2, 3].map((i) => `https://cdn.legnext.ai/mj/a616de55_${i}.png`),
        seed: '1904983176',
        available_actions: { upscale: [0, 1, 2, 3], variation: [0, 2], outpaint: [0], pan: [0], reroll: true },
      },
    });
    expect(job.imageUrls).toHaveLength(5);
    expect(job.imageUrls![0]).toBe('https://cdn.legnext.ai/temp/1760408558306.png');
    expect(job.actions).toEqual(['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll', 'variation:1', 'variation:3']);
    expect(job.upstreamData).toEqual({ images: job.imageUrls!.slice(1), offers: ['vuop', 'u', 'vu', 'u'] });
  });

  it('draws the grid from the four images when LegNext sends none (image_url "")', async () => {
    fake.gridless = true;
    try {
      const grid = await finished('no grid picture');
      const first = grid.imageUrls[0]!;
      expect(first).toMatch(/^legnext-grid:/);
      const image = await provider.download(first);
      expect(image.contentType).toBe('image/png');
      const sharp = (await import('sharp')).default;
      expect(await sharp(image.data).metadata()).toMatchObject({ width: 192, height: 192 });
      // Its own links still come over HTTP.
      expect((await provider.download(grid.imageUrls[1]!)).data.length).toBeGreaterThan(0);
    } finally {
      fake.gridless = false;
    }
  });

  it('treats pending and staged as waiting, and names the failure by error.message', () => {
    expect(provider.toJob({ job_id: 'a', status: 'staged' })).toEqual({ upstreamId: 'a', status: 'submitted', progress: 0 });
    expect(provider.toJob({ job_id: 'a', status: 'processing' })).toEqual({ upstreamId: 'a', status: 'running', progress: 0 });
    expect(provider.toJob({ job_id: 'a', status: 'failed', error: { code: 400, message: 'Error description' } })).toMatchObject({ failReason: 'Error description' });
    // No words at all: the localized "no reason given".
    expect(provider.toJob({ job_id: 'a', status: 'failed', error: { code: 0, message: '', raw_message: '' } })).toMatchObject({ failReason: 'errors.upstreamNoReason' });
  });

  it('reads a video job\'s clips wherever they come (the docs show none): video fields, or the image fields of a video job', () => {
    const clips = [1, 2, 3, 4].map((i) => `https://cdn.legnext.ai/v${i}.mp4`);
    const picks = ['video:pick:1', 'video:pick:2', 'video:pick:3', 'video:pick:4'];
    for (const output of [{ video_urls: clips, image_url: 'https://cdn.legnext.ai/cover.png' }, { videos: clips.map((url) => ({ url })) }, { image_urls: clips }]) {
      expect(provider.toJob({ job_id: 'v', status: 'completed', task_type: 'diffusion', output })).toMatchObject({ status: 'succeeded', imageUrls: clips, actions: picks });
    }
    // A job whose task_type names video, its clips in image_urls under any name.
    const plain = clips.map((u) => u.replace('.mp4', ''));
    expect(provider.toJob({ job_id: 'v', status: 'completed', task_type: 'video_diffusion', output: { image_urls: plain } })).toMatchObject({ imageUrls: plain, actions: picks });
    // One clip (an extend): Extend again, from this job's clip 0.
    expect(provider.toJob({ job_id: 'e', status: 'completed', task_type: 'extend_video', output: { video_url: clips[0] } }))
      .toEqual({ upstreamId: 'e', status: 'succeeded', progress: 100, imageUrls: [clips[0]], actions: ['extend:low', 'extend:high'], upstreamData: { video: { jobId: 'e', videoNo: 0 } } });
    expect(provider.toJob({ job_id: 'e', status: 'completed', task_type: 'video_diffusion', output: {} })).toMatchObject({ status: 'failed', failReason: 'video:errors.notVideo' });
  });

  it('turns a mask into rectangles on a canvas of at least 500 px, covering every white pixel', async () => {
    const sharp = (await import('sharp')).default;
    // A 100×50 mask, white from (10,5) to (40,30) and a second patch from (70,40) to (80,50).
    const raw = Buffer.alloc(100 * 50);
    const paint = (x0: number, y0: number, x1: number, y1: number) => { for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) raw[y * 100 + x] = 255; };
    paint(10, 5, 40, 30);
    paint(70, 40, 80, 50);
    const mask = await sharp(raw, { raw: { width: 100, height: 50, channels: 1 } }).png().toBuffer();
    const areas = await maskAreas(mask);
    expect(areas).toHaveLength(2);
    // Scaled ×10 (the short side to 500); cells of 3 px (100 / 48, rounded up) cover the patches.
    expect(areas.map((a) => [a.width, a.height])).toEqual([[1000, 500], [1000, 500]]);
    const [first, second] = areas.map((a) => a.points);
    expect(first).toEqual([90, 30, 90, 300, 420, 300, 420, 30]);
    expect(second).toEqual([690, 390, 690, 500, 810, 500, 810, 390]);
  });

  it('reads a callback: the job object itself', () => {
    expect(provider.parseWebhook({ job_id: 'x', status: 'completed', task_type: 'upscale', output: { image_url: 'https://cdn.legnext.ai/u.png' } }))
      .toEqual({ upstreamId: 'x', status: 'succeeded', progress: 100, imageUrls: ['https://cdn.legnext.ai/u.png'], actions: [...ANIMATE_ACTIONS], upstreamData: { single: true } });
    expect(provider.parseWebhook({ status: 'completed' })).toBeUndefined();
  });
});

describe('LegNext adapter against the fake', () => {
  it('imagines with x-api-key and the text, image prompts first and the speed mode as a flag', async () => {
    await provider.submit({ kind: 'imagine', taskId: 't1', prompt: 'a cat --ar 16:9', mode: 'relax', images: [{ url: 'https://cdn.example/a.png', contentType: 'image/png' }] });
    const create = fake.requests.at(-1)!;
    expect(create).toMatchObject({ method: 'POST', path: '/api/v1/diffusion', body: { text: 'https://cdn.example/a.png a cat --ar 16:9 --relax' } });
    expect(create.headers['x-api-key']).toBe(fake.apiKey);
  });

  it('sends each action to its endpoint with the grid job and image number', async () => {
    const grid = await finished('a dog');
    const cases: Array<[InternalAction, string, Record<string, unknown>]> = [
      ['variation:3', 'variation', { jobId: grid.upstreamId, imageNo: 2, type: 1 }],
      ['reroll', 'reroll', { jobId: grid.upstreamId }],
    ];
    for (const [action, endpoint, body] of cases) {
      await provider.submit({ kind: 'action', taskId: 't2', action, parent: grid, prompt: 'a dog' });
      expect(fake.requests.at(-1)).toMatchObject({ path: `/api/v1/${endpoint}`, body });
    }
    // U2: no call; the picked image is the grid's second, with what LegNext lists for it.
    const before = fake.requests.length;
    const u2 = await provider.submit({ kind: 'action', taskId: 't3', action: 'upscale:2', parent: grid });
    const { job: single } = await fetchUntil(provider, u2.upstreamId);
    expect(fake.requests.length).toBe(before);
    expect(single.imageUrls).toEqual([(grid.upstreamData!.images as string[])[1]]);
    expect(single.actions).toEqual(['vary:strong', 'vary:subtle', 'upscale:subtle', 'upscale:creative', 'zoom:2', 'zoom:1.5', 'pan:left', 'pan:right', 'pan:up', 'pan:down', ...ANIMATE_ACTIONS]);
    // The grid lists inpaint for the image: Vary (Region) may follow.
    expect(provider.inpaintable(single.upstreamData ?? null)).toBe(true);
    const picked = parentOf(u2.upstreamId, single, 'a dog');
    const more: Array<[InternalAction, string, Record<string, unknown>]> = [
      ['vary:subtle', 'variation', { type: 0 }],
      ['vary:strong', 'variation', { type: 1 }],
      ['upscale:subtle', 'upscale', { type: 0 }],
      ['upscale:creative', 'upscale', { type: 1 }],
      ['zoom:1.5', 'outpaint', { scale: 1.5 }],
      ['zoom:2', 'outpaint', { scale: 2 }],
      ['pan:left', 'pan', { direction: 3, scale: 1.5 }],
      ['pan:down', 'pan', { direction: 0, scale: 1.5 }],
    ];
    for (const [action, endpoint, body] of more) {
      await provider.submit({ kind: 'action', taskId: 't4', action, parent: picked, prompt: 'a dog' });
      expect(fake.requests.at(-1)).toMatchObject({ path: `/api/v1/${endpoint}`, body: { jobId: grid.upstreamId, imageNo: 1, ...body } });
    }
    // An upscale comes back as one image; LegNext lists nothing after it, so only Animate is offered.
    const up = await provider.submit({ kind: 'action', taskId: 't5', action: 'upscale:creative', parent: picked });
    expect((await fetchUntil(provider, up.upstreamId)).job).toMatchObject({ status: 'succeeded', actions: [...ANIMATE_ACTIONS], imageUrls: [expect.stringContaining('-upscaled.png')] });
  });

  it('describes an image by its URL and reads the four numbered prompts', async () => {
    const { upstreamId } = await provider.submit({ kind: 'describe', taskId: 't6', image: { url: 'https://cdn.example/cat.png', contentType: 'image/png' } });
    expect(fake.requests.at(-1)).toMatchObject({ path: '/api/v1/describe', body: { imgUrl: 'https://cdn.example/cat.png' } });
    const { job } = await fetchUntil(provider, upstreamId);
    expect(job.descriptions).toEqual([1, 2, 3, 4].map((i) => `described image, take ${i} --ar 1:1`));
  });

  it('blends the attachments as base64 data URIs with the shape\'s dimension, into a grid', async () => {
    const images = ['a', 'b'].map((n) => ({ url: `${fake.url}/assets/input-${n}.png`, contentType: 'image/png' }));
    const { upstreamId } = await provider.submit({ kind: 'blend', taskId: 't12', images, dimensions: 'landscape' });
    const body = fake.requests.at(-1)!.body as { base64Array: string[]; dimension: string };
    expect(fake.requests.at(-1)!.path).toBe('/api/v1/blend');
    expect(body.dimension).toBe('LANDSCAPE');
    expect(body.base64Array.map((d) => d.slice(0, 22))).toEqual(['data:image/png;base64,', 'data:image/png;base64,']);
    expect((await fetchUntil(provider, upstreamId)).job).toMatchObject({ status: 'succeeded', actions: expect.arrayContaining(['upscale:1', 'variation:4', 'reroll']) });
  });

  it('reports a failed job with its reason, and refused content as a refusal of the job', async () => {
    fake.failPrompts(/forbidden/, 'Job failed: prompt rejected by moderation');
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't7', prompt: 'forbidden thing' });
    expect((await fetchUntil(provider, upstreamId)).job).toMatchObject({ status: 'failed', failReason: 'Job failed: prompt rejected by moderation' });
    fake.inject('sensitive');
    await expect(provider.submit({ kind: 'imagine', taskId: 't8', prompt: 'x' })).rejects.toThrow(new UpstreamRejected('Sensitive content detected in prompt'));
    await expect(provider.submit({ kind: 'action', taskId: 't9', action: 'variation:1', parent: { upstreamId: 'nope', upstreamData: null, imageUrls: [], prompt: '' } }))
      .rejects.toThrow(UpstreamRejected);
  });

  it.each([
    ['auth', 'auth'],
    ['no_credits', 'balance'],
    ['rate_limit', 'rate_limited'],
    ['5xx', 'unavailable'],
    ['malformed', 'unavailable'],
  ] as const)('maps %s on submit to an account error (%s)', async (failure, kind) => {
    fake.inject(failure);
    const err = await provider.submit({ kind: 'imagine', taskId: 't10', prompt: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamAccountError);
    expect((err as UpstreamAccountError).kind).toBe(kind);
  });

  it('omits a job LegNext does not know and reads the others', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't11', prompt: 'y' });
    const jobs = await provider.fetch(['00000000-0000-4000-8000-000000000000', upstreamId]);
    expect(jobs.map((j) => j.upstreamId)).toEqual([upstreamId]);
  });
});

describe('LegNext: selected by UPSTREAM_PROVIDER', () => {
  it('is built from UPSTREAM_BASE_URL and UPSTREAM_API_KEY, and needs both', () => {
    const env = { DISCORD_TOKEN: 't', UPSTREAM_PROVIDER: 'legnext', UPSTREAM_BASE_URL: 'https://api.legnext.ai' };
    expect(createUpstream(loadConfig({ ...env, UPSTREAM_API_KEY: 'k' }, '/nonexistent/.env')).provider).toBeInstanceOf(LegnextProvider);
    expect(() => createUpstream(loadConfig(env, '/nonexistent/.env'))).toThrow(/UPSTREAM_API_KEY is not set/);
  });
});
