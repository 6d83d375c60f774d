// Contract tests for the AceData adapter: the seed's example JSON through its parsers, then the adapter
// against the fake AceData over real HTTP (callback mode, ndjson streaming, retrieve_batch, failures).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ANIMATE_ACTIONS, EDIT_ACTIONS, GRID_ACTIONS } from '../../src/upstream/actions.ts';
import { AceDataProvider, aceActionToInternal, parseAceResult, parseAceTask } from '../../src/upstream/acedata.ts';
import { UpstreamAccountError, UpstreamRejected, type UpstreamJob } from '../../src/upstream/provider.ts';
import { ACE_SHORTENED, FakeAceData } from '../support/fake-acedata.ts';
import { fetchUntil } from '../support/upstream-poll.ts';

const SEED = '/work/shared/seeds/acedata-midjourney-imagine.zh.txt';
// Animate and Edit are offered on every single image (AceData's /midjourney/videos and /edits take any image URL).
const AFTER_UPSCALE = ['vary:subtle', 'vary:strong', 'zoom:2', 'zoom:1.5', 'pan:left', 'pan:right', 'pan:up', 'pan:down', 'upscale:2x', 'upscale:4x', ...ANIMATE_ACTIONS, ...EDIT_ACTIONS];

/** The seed's JSON as written: multi-line objects (`{` … `}` on their own lines) and ndjson lines. */
function seedJson(): { blocks: Record<string, unknown>[]; lines: Record<string, unknown>[] } {
  const blocks: Record<string, unknown>[] = [];
  const lines: Record<string, unknown>[] = [];
  let current: string[] | undefined;
  for (const line of readFileSync(SEED, 'utf8').split('\n')) {
    if (current) {
      current.push(line);
      // A `}` alone may close a nested object (the failure's `error`): the block ends where it parses.
      if (line === '}') {
        try {
          blocks.push(JSON.parse(current.join('\n')) as Record<string, unknown>);
          current = undefined;
        } catch {
          // not the end yet
        }
      }
    } else if (line === '{') current = [line];
    else if (line.startsWith('{"')) lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  return { blocks, lines };
}

const identity = (u: string) => u;

describe('AceData seed examples', () => {
  const { blocks, lines } = seedJson();

  it('finds every example', () => {
    expect(blocks).toHaveLength(7);
    expect(lines).toHaveLength(8);
  });

  it('reads the grid results: image, image_id, U1–U4 · 🔄 · V1–V4', () => {
    for (const block of [blocks[0], blocks[1], blocks[3], blocks[4], blocks[5]]) {
      const job = parseAceResult(block, undefined, identity)!;
      expect(job).toMatchObject({ upstreamId: block!.task_id, status: 'succeeded', progress: 100, actions: [...GRID_ACTIONS] });
      expect(job.imageUrls).toEqual([block!.image_url, block!.raw_image_url]);
      expect(job.upstreamData).toMatchObject({ imageId: block!.image_id, actionNames: { 'upscale:1': 'upscale1', 'variation:4': 'variation4', reroll: 'reroll' } });
    }
  });

  it('reads the upscaled result with its follow-up actions', () => {
    const job = parseAceResult(blocks[2], undefined, identity)!;
    expect(job.status).toBe('succeeded');
    expect([...job.actions!].sort()).toEqual([...AFTER_UPSCALE].sort());
    expect(job.upstreamData).toMatchObject({ imageId: '1234202545208033400', actionNames: { 'zoom:1.5': 'zoom_out_1_5x', 'vary:strong': 'variation_strong' } });
  });

  // The result example of AceDataCloud/APIs midjourney/docs/midjourney_videos_api_integration_guide.md.
  const VIDEO_DOC = {
    image_url: 'https://storage.fonedis.cc/upload_1751816808164156352.png',
    image_width: 560,
    image_height: 688,
    progress: 100,
    video_id: '1751816807896311',
    video_urls: [0, 1, 2, 3].map((i) => `https://storage.fonedis.cc//video/1c67c36c-8177-4f19-ad72-1dc1567265a6/0_${i}.mp4`),
    task_id: '037955e0-deee-4050-baa8-1416300d67e2',
    success: true,
  };

  it("reads the videos docs' result as a batch of four clips offering U1–U4", () => {
    expect(parseAceResult(VIDEO_DOC, undefined, identity)).toEqual({
      upstreamId: VIDEO_DOC.task_id,
      status: 'succeeded',
      progress: 100,
      imageUrls: VIDEO_DOC.video_urls,
      actions: ['video:pick:1', 'video:pick:2', 'video:pick:3', 'video:pick:4'],
      upstreamData: { videoId: VIDEO_DOC.video_id, clips: VIDEO_DOC.video_urls },
    });
    // A video job's stream without clips yet is running; one that ends without clips failed.
    expect(parseAceResult({ progress: 40 }, 'stream-v', identity, true)).toEqual({ upstreamId: 'stream-v', status: 'running', progress: 40 });
    expect(parseAceResult({ success: true, task_id: 'v' }, undefined, identity, true)).toMatchObject({ status: 'failed', failReason: 'video:errors.notVideo' });
  });

  it('reads a video task of /midjourney/tasks: still running without a response, then its clips', () => {
    expect(parseAceTask({ id: 'v1', type: 'videos', request: { action: 'generate' } }, identity)).toEqual({ upstreamId: 'v1', status: 'submitted' });
    expect(parseAceTask({ id: 'v1', type: 'videos', response: { ...VIDEO_DOC, task_id: 'v1' } }, identity)).toMatchObject({ upstreamId: 'v1', status: 'succeeded', imageUrls: VIDEO_DOC.video_urls });
    // A video task's response without clips is no image result, even with a cover image at 100 %.
    expect(parseAceTask({ id: 'v2', type: 'videos', response: { image_url: VIDEO_DOC.image_url, progress: 100, success: true } }, identity)).toMatchObject({ status: 'failed', failReason: 'video:errors.notVideo' });
  });

  it('a pick makes no call and is read back from its id alone, offering Extend of that clip', async () => {
    const p = new AceDataProvider('http://127.0.0.1:9', 'k');
    const parent = { upstreamId: 'v', upstreamData: { videoId: VIDEO_DOC.video_id, clips: VIDEO_DOC.video_urls }, imageUrls: VIDEO_DOC.video_urls, prompt: 'a cat' };
    const { upstreamId, upstreamData } = await p.submit({ kind: 'action', taskId: 't', action: 'video:pick:3', parent });
    expect(upstreamData).toEqual({ video: { videoId: VIDEO_DOC.video_id, index: 2 } });
    expect(await p.fetch([upstreamId])).toEqual([
      { upstreamId, status: 'succeeded', progress: 100, imageUrls: [VIDEO_DOC.video_urls[2]], actions: ['extend:low', 'extend:high'], upstreamData: { video: { videoId: VIDEO_DOC.video_id, index: 2 } } },
    ]);
  });

  it('reads the callback bodies, success and failure', () => {
    expect(parseAceResult(blocks[5], undefined, identity)).toMatchObject({ upstreamId: 'f6e39eaf-652a-4bf5-a15c-79d8b143b80a', status: 'succeeded' });
    expect(parseAceResult(blocks[6], undefined, identity)).toEqual({
      upstreamId: '7ba0feaf-d20b-4c22-a35a-31ec30fc7715',
      status: 'failed',
      failReason: 'Unrecognized argument(s): `-c`, `x`',
    });
  });

  it('reads the ndjson stream: progress with previews, then the result (upsample names included)', () => {
    const jobs = lines.map((l) => parseAceResult(l, 'stream-x', identity)!);
    expect(jobs.slice(0, 7).map((j) => [j.status, j.progress])).toEqual([0, 15, 31, 46, 62, 78, 93].map((p) => ['running', p]));
    expect(jobs[1]!.previewUrl).toBe(lines[1]!.image_url);
    expect(jobs[7]).toMatchObject({ upstreamId: 'stream-x', status: 'succeeded', actions: ['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'variation:1', 'variation:2', 'variation:3', 'variation:4'] });
    expect(jobs[7]!.upstreamData).toMatchObject({ actionNames: { 'upscale:1': 'upsample1' } });
  });

  it('maps every action name, ignoring those we have no button for', () => {
    expect(aceActionToInternal('variation_region')).toBeUndefined();
    expect(aceActionToInternal('upscale_4x')).toBe('upscale:4x');
    expect(aceActionToInternal('upsample3')).toBe('upscale:3');
  });

  it('reads a /midjourney/tasks entry: no response yet means still running', () => {
    expect(parseAceTask({ id: 't1', request: { action: 'generate' } }, identity)).toEqual({ upstreamId: 't1', status: 'submitted' });
    expect(parseAceTask({ id: 't1', response: blocks[0] }, identity)).toMatchObject({ upstreamId: 't1', status: 'succeeded' });
    expect(parseAceTask({ id: 't2', response: { success: false, error: { code: 'x', message: 'banned prompt' } } }, identity)).toMatchObject({ status: 'failed', failReason: 'banned prompt' });
  });
});

describe('AceData adapter against the fake', () => {
  let fake: FakeAceData;
  let hookServer: Server;
  let hookUrl: string;
  const pushed: unknown[] = [];

  beforeAll(async () => {
    fake = await FakeAceData.start({ stepMs: 40 });
    hookServer = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        pushed.push(JSON.parse(text));
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/upstream/callback/x/y`;
  });
  afterAll(async () => {
    await fake?.close();
    await new Promise((r) => hookServer?.close(r));
  });
  beforeEach(() => fake.server.clearInjections());

  const provider = () => new AceDataProvider(fake.url, fake.apiKey);

  const until = (p: AceDataProvider, id: string, done?: (j: UpstreamJob) => boolean) => fetchUntil(p, id, done);

  it('with a callback: gets a task_id at once, pushes the result, and retrieve_batch follows it', async () => {
    const p = provider();
    const { upstreamId } = await p.submit({ kind: 'imagine', taskId: 't', prompt: 'a cat', callbackUrl: hookUrl });
    const sent = fake.requests.find((r) => r.path === '/midjourney/imagine')!;
    expect(sent.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(sent.body).toEqual({ action: 'generate', prompt: 'a cat', callback_url: hookUrl });
    const { job } = await until(p, upstreamId);
    expect(job).toMatchObject({ upstreamId, status: 'succeeded', actions: [...GRID_ACTIONS] });
    expect(fake.requests.some((r) => r.path === '/midjourney/tasks' && (r.body as { action: string }).action === 'retrieve_batch')).toBe(true);
    await expect.poll(() => pushed.length).toBeGreaterThan(0);
    expect(p.parseWebhook(pushed[0])).toMatchObject({ upstreamId, status: 'succeeded', imageUrls: job.imageUrls });
  });

  it('without a callback: streams ndjson in the background, with progress and previews, then acts on the image_id', async () => {
    const p = provider();
    const { upstreamId } = await p.submit({ kind: 'imagine', taskId: 't', prompt: 'a dog' });
    expect(upstreamId).toMatch(/^stream-/);
    const { job, seen } = await until(p, upstreamId);
    expect(seen.some((j) => j.status === 'running' && j.progress! > 0 && j.previewUrl?.startsWith(fake.url))).toBe(true);
    expect(job.status).toBe('succeeded');
    const imageId = (job.upstreamData as { imageId: string }).imageId;
    const parent = { upstreamId, upstreamData: job.upstreamData!, imageUrls: job.imageUrls!, prompt: 'a dog' };

    const up = await p.submit({ kind: 'action', taskId: 'u', action: 'upscale:2', parent });
    expect(fake.requests.at(-1)!.body).toEqual({ action: 'upscale2', image_id: imageId });
    const { job: single } = await until(p, up.upstreamId);
    expect([...single.actions!].sort()).toEqual([...AFTER_UPSCALE].sort());
    const res = await fetch(single.imageUrls![0]!);
    expect(res.headers.get('content-type')).toBe('image/png');
  });

  it('falls back to retrieve_batch when a stream that named its task breaks off', async () => {
    const named = await FakeAceData.start({ stepMs: 60, streamTaskIds: true });
    try {
      const p = new AceDataProvider(named.url, named.apiKey);
      const { upstreamId } = await p.submit({ kind: 'imagine', taskId: 't', prompt: 'a fox' });
      await until(p, upstreamId, (j) => (j.progress ?? 0) > 0);
      named.breakStreams();
      const { job } = await until(p, upstreamId);
      expect(job.status).toBe('succeeded');
    } finally {
      await named.close();
    }
  });

  it('reports a lost stream (e.g. after a restart) as failed rather than waiting forever', async () => {
    const [job] = await provider().fetch(['stream-00000000-0000-4000-8000-000000000000']);
    expect(job).toMatchObject({ status: 'failed', failReason: 'errors.upstreamUnavailable' });
  });

  it("ends a failed job with AceData's reason, streamed or pushed", async () => {
    const p = provider();
    fake.failNextJob('Unrecognized argument(s): `-c`');
    const streamed = await p.submit({ kind: 'imagine', taskId: 't', prompt: 'x -c' });
    expect((await until(p, streamed.upstreamId)).job).toMatchObject({ status: 'failed', failReason: 'Unrecognized argument(s): `-c`' });
    fake.failNextJob('banned prompt');
    const cb = await p.submit({ kind: 'imagine', taskId: 't', prompt: 'y', callbackUrl: hookUrl });
    expect((await until(p, cb.upstreamId)).job).toMatchObject({ status: 'failed', failReason: 'banned prompt' });
  });

  const imagine = { match: (r: { path: string }) => r.path === '/midjourney/imagine' };
  it.each([
    ['500', { status: 500, body: { success: false, error: { code: 'api_error', message: 'boom' } } }, 'unavailable'],
    ['429', { status: 429, body: { success: false, error: { code: 'too_many_requests', message: 'slow down' } } }, 'rate_limited'],
    ['401', { status: 401, body: { success: false, error: { code: 'invalid_token', message: 'bad token' } } }, 'auth'],
  ])('maps HTTP %s on submit to an account error, streamed or with a callback', async (_, answer, kind) => {
    for (const callbackUrl of [undefined, hookUrl]) {
      fake.server.inject(imagine.match, answer);
      const err = await provider().submit({ kind: 'imagine', taskId: 't', prompt: 'a', callbackUrl }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamAccountError);
      expect((err as UpstreamAccountError).kind).toBe(kind);
    }
  });

  it('maps 403 used_up on a stream to no balance', async () => {
    fake.server.inject(imagine.match, { status: 403, body: { success: false, error: { code: 'used_up', message: 'no balance' } } });
    const err = await provider().submit({ kind: 'imagine', taskId: 't', prompt: 'a' }).catch((e: unknown) => e);
    expect((err as UpstreamAccountError).kind).toBe('balance');
  });

  it('refuses a bad request with its message, and an action whose parent has no image_id', async () => {
    const p = provider();
    fake.server.inject(imagine.match, { status: 400, body: { success: false, error: { code: 'bad_request', message: 'prompt is invalid' } } }, 2);
    await expect(p.submit({ kind: 'imagine', taskId: 't', prompt: 'a' })).rejects.toThrow(new UpstreamRejected('prompt is invalid'));
    await expect(p.submit({ kind: 'imagine', taskId: 't', prompt: 'a', callbackUrl: hookUrl })).rejects.toThrow(new UpstreamRejected('prompt is invalid'));
    const parent = { upstreamId: 'x', upstreamData: {}, imageUrls: [], prompt: 'a' };
    await expect(p.submit({ kind: 'action', taskId: 't', action: 'upscale:1', parent })).rejects.toBeInstanceOf(UpstreamRejected);
  });

  it('treats malformed JSON from retrieve_batch as the service being unavailable', async () => {
    fake.server.inject((r) => r.path === '/midjourney/tasks', { status: 200, body: '{"items": [', raw: true });
    const err = await provider().fetch(['some-task']).catch((e: unknown) => e);
    expect((err as UpstreamAccountError).kind).toBe('unavailable');
  });

  it('/shorten: the prompts AceData answers at once are the job\'s result, read back from its id', async () => {
    const p = provider();
    const { upstreamId } = await p.shorten!({ kind: 'shorten', taskId: 't', prompt: 'a very long prompt about a cat' });
    expect(fake.requests.at(-1)).toMatchObject({ path: '/midjourney/shorten', body: { prompt: 'a very long prompt about a cat' } });
    const [job] = await p.fetch([upstreamId]);
    expect(job).toEqual({ upstreamId, status: 'succeeded', progress: 100, imageUrls: [], actions: [], descriptions: ACE_SHORTENED });
    fake.server.inject((r) => r.path === '/midjourney/shorten', { status: 200, body: { prompts: [] } });
    await expect(p.shorten!({ kind: 'shorten', taskId: 't', prompt: 'x' })).rejects.toMatchObject({ code: 'no_description' });
  });

  it('📋: the seed of an image_id from /midjourney/seed, read defensively; no image_id, no call', async () => {
    const p = provider();
    const parent = { upstreamId: 'x', upstreamData: { imageId: 'img42' }, imageUrls: [], prompt: 'p' };
    const seeds = () => fake.requests.filter((r) => r.path === '/midjourney/seed').length;
    fake.server.inject((r) => r.path === '/midjourney/seed', { status: 200, body: { seed: 3849571023 } });
    expect(await p.seed!(parent)).toBe('3849571023');
    expect(fake.requests.at(-1)!.body).toEqual({ image_id: 'img42' });
    fake.server.inject((r) => r.path === '/midjourney/seed', { status: 200, body: { seed: 'unknown' } });
    expect(await p.seed!(parent)).toBeUndefined();
    await expect(p.seed!(parent)).rejects.toBeInstanceOf(UpstreamRejected);
    const before = seeds();
    expect(await p.seed!({ ...parent, upstreamData: { videoId: 'v1' } })).toBeUndefined();
    expect(seeds()).toBe(before);
  });

  it('omits tasks AceData does not know', async () => {
    expect(await provider().fetch(['00000000-0000-0000-0000-000000000000'])).toEqual([]);
  });
});
