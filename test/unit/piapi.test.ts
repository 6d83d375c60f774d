// Contract tests for the PiAPI adapter against the fake PiAPI over real HTTP: the unified task shapes, the
// action mapping both ways, webhooks, cancel, and failures.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { InternalAction } from '../../src/upstream/actions.ts';
import { createUpstream } from '../../src/upstream/index.ts';
import { PiapiProvider, mapActions } from '../../src/upstream/piapi.ts';
import { UpstreamAccountError, UpstreamRejected, type ParentRef, type UpstreamJob } from '../../src/upstream/provider.ts';
import { FakePiapi } from '../support/fake-piapi.ts';
import { fetchUntil } from '../support/upstream-poll.ts';

let fake: FakePiapi;
let provider: PiapiProvider;

beforeAll(async () => {
  fake = await FakePiapi.start({ stepMs: 60 });
  provider = PiapiProvider.create({ baseUrl: fake.url, apiKey: fake.apiKey });
});
afterAll(() => fake?.close());
beforeEach(() => fake.clearInjections());

const until = async (id: string, done: (j: UpstreamJob) => boolean, seen: UpstreamJob[] = []) => (await fetchUntil(provider, id, done, { seen })).job;

async function finished(prompt: string): Promise<{ upstreamId: string; job: UpstreamJob; parent: ParentRef }> {
  const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't', prompt });
  const job = await until(upstreamId, (j) => j.status === 'succeeded' || j.status === 'failed');
  return { upstreamId, job, parent: { upstreamId, upstreamData: null, imageUrls: job.imageUrls ?? [], prompt } };
}

describe('PiAPI: shapes', () => {
  it('maps output.actions to ours, whatever the spelling, and drops what it does not know', () => {
    expect(mapActions(['reroll', 'upscale1', 'Upscale2', 'variation4', 'high_variation', 'low_variation', 'outpaint_1.5x', 'outpaint_2x', 'pan_left', 'upscale_4x', 'region', 42])).toEqual([
      'reroll', 'upscale:1', 'upscale:2', 'variation:4', 'vary:strong', 'vary:subtle', 'zoom:1.5', 'zoom:2', 'pan:left', 'upscale:4x',
    ]);
  });

  it('reads a webhook body ({timestamp, data}) as the fetch reply it mirrors', () => {
    const data = { task_id: 'abc', status: 'processing', output: { progress: '45', image_url: 'https://img.theapi.app/mj/abc.png' } };
    expect(provider.parseWebhook({ timestamp: 1723018391, data })).toEqual({ upstreamId: 'abc', status: 'running', progress: 45, previewUrl: 'https://img.theapi.app/mj/abc.png' });
    expect(provider.parseWebhook({ timestamp: 1, data: { status: 'completed' } })).toBeUndefined();
    expect(provider.parseWebhook('nope')).toBeUndefined();
  });

  it('treats pending and staged as waiting, and prefers PiAPI\'s own image over the expiring Discord link', () => {
    expect(provider.toJob({ task_id: 'a', status: 'staged' })).toEqual({ upstreamId: 'a', status: 'submitted', progress: 0 });
    expect(provider.toJob({ task_id: 'a', status: 'Pending' })).toMatchObject({ status: 'submitted' });
    expect(provider.toJob({ task_id: 'a', status: 'completed', output: { image_url: 'https://x/own.png', discord_image_url: 'https://cdn.discordapp.com/x.png', actions: [] } }).imageUrls).toEqual(['https://x/own.png']);
    expect(provider.toJob({ task_id: 'a', status: 'failed', error: { code: 1, message: '', raw_message: 'Job action restricted' } })).toEqual({ upstreamId: 'a', status: 'failed', failReason: 'Job action restricted' });
  });
});

describe('PiAPI adapter against the fake', () => {
  it('imagines with x-api-key, reports progress with previews, and finishes with the grid and its actions', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't1', prompt: 'a cat --ar 16:9' });
    const create = fake.requests.at(-1)!;
    expect(create).toMatchObject({ method: 'POST', path: '/api/v1/task', body: { model: 'midjourney', task_type: 'imagine', input: { prompt: 'a cat --ar 16:9' } } });
    expect(create.headers['x-api-key']).toBe(fake.apiKey);
    expect((create.body as { config?: unknown }).config).toBeUndefined();
    const seen: UpstreamJob[] = [];
    const done = await until(upstreamId, (j) => j.status === 'succeeded', seen);
    expect(seen.find((j) => j.status === 'running')).toMatchObject({ progress: expect.any(Number), previewUrl: expect.stringContaining('/assets/') });
    expect(done.imageUrls).toEqual([fake.task(upstreamId)!.output.image_url]);
    expect(done.actions).toEqual(['reroll', 'upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'variation:1', 'variation:2', 'variation:3', 'variation:4']);
  });

  it('sends each action as the unified task_type and input, acting on origin_task_id', async () => {
    const grid = await finished('a dog');
    const cases: Array<[InternalAction, string, Record<string, string>]> = [
      ['upscale:2', 'upscale', { index: '2' }],
      ['variation:3', 'variation', { index: '3', prompt: 'a dog' }],
      ['reroll', 'reroll', {}],
    ];
    for (const [action, task_type, input] of cases) {
      await provider.submit({ kind: 'action', taskId: 't2', action, parent: grid.parent });
      expect(fake.requests.at(-1)!.body).toEqual({ model: 'midjourney', task_type, input: { origin_task_id: grid.upstreamId, ...input } });
    }
    const u = await provider.submit({ kind: 'action', taskId: 't3', action: 'upscale:1', parent: grid.parent });
    const single = await until(u.upstreamId, (j) => j.status === 'succeeded');
    expect(single.actions).toEqual(['vary:strong', 'vary:subtle', 'zoom:1.5', 'zoom:2', 'pan:down', 'pan:left', 'pan:right', 'pan:up', 'upscale:2x', 'upscale:4x']);
    const parent = { upstreamId: u.upstreamId, upstreamData: null, imageUrls: single.imageUrls ?? [], prompt: 'a dog' };
    const more: Array<[InternalAction, string, Record<string, string>]> = [
      ['vary:strong', 'variation', { index: 'high_variation', prompt: 'a dog' }],
      ['vary:subtle', 'variation', { index: 'low_variation', prompt: 'a dog' }],
      ['zoom:1.5', 'outpaint', { zoom_ratio: '1.5' }],
      ['pan:up', 'pan', { direction: 'up' }],
      ['upscale:4x', 'upscale', { index: '4x' }],
    ];
    for (const [action, task_type, input] of more) {
      await provider.submit({ kind: 'action', taskId: 't4', action, parent });
      expect(fake.requests.at(-1)!.body).toEqual({ model: 'midjourney', task_type, input: { origin_task_id: u.upstreamId, ...input } });
    }
  });

  it('shows PiAPI\'s refusal of an action the parent does not offer', async () => {
    const grid = await finished('a fox');
    await expect(provider.submit({ kind: 'action', taskId: 't5', action: 'pan:left', parent: grid.parent })).rejects.toThrow(UpstreamRejected);
  });

  it('reports a failed job with its reason', async () => {
    fake.failPrompts(/nsfw thing/, 'Banned prompt detected: thing');
    const { job } = await finished('an nsfw thing');
    expect(job).toMatchObject({ status: 'failed', failReason: 'Banned prompt detected: thing' });
  });

  it.each([
    ['auth', 'auth'],
    ['no_credits', 'balance'],
    ['queue_full', 'queue_full'],
    ['rate_limit', 'rate_limited'],
    ['5xx', 'unavailable'],
    ['malformed', 'unavailable'],
  ] as const)('maps %s on submit to an account error (%s)', async (failure, kind) => {
    fake.inject(failure);
    const err = await provider.submit({ kind: 'imagine', taskId: 't6', prompt: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamAccountError);
    expect((err as UpstreamAccountError).kind).toBe(kind);
  });

  it('omits a task PiAPI no longer knows and reads the others', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't7', prompt: 'y' });
    const jobs = await provider.fetch(['00000000-0000-4000-8000-000000000000', upstreamId]);
    expect(jobs.map((j) => j.upstreamId)).toEqual([upstreamId]);
  });

  it('cancels a pending job with DELETE, and not a finished one', async () => {
    fake.holdPrompts(/^slow$/);
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't8', prompt: 'slow' });
    await provider.cancel(upstreamId);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'DELETE', path: `/api/v1/task/${upstreamId}` });
    expect((await provider.fetch([upstreamId]))[0]).toMatchObject({ status: 'failed', failReason: 'task cancelled by user' });
    fake.release();
    const done = await finished('quick');
    // A job already drawing or done: PiAPI says why, and the adapter passes that on as a refusal.
    const refused = provider.cancel(done.upstreamId);
    await expect(refused).rejects.toThrow(UpstreamRejected);
    await expect(refused).rejects.toThrow('only pending tasks can be cancelled');
  });
});

describe('PiAPI webhooks', () => {
  let receiver: Server;
  const received: Array<{ path: string; secret: string | undefined; body: unknown }> = [];
  let base = '';

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        received.push({ path: req.url ?? '', secret: req.headers['x-webhook-secret'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('asks PiAPI to push to the per-task URL, with the URL\'s token as the secret, and parses every push', async () => {
    const callbackUrl = `${base}/upstream/callback/8e0b6a0e-5b3f-4a4e-9a55-0c7f0f0d7e11/s3cr3t-token`;
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't9', prompt: 'pushed', callbackUrl });
    expect(fake.requests.at(-1)!.body).toMatchObject({ config: { webhook_config: { endpoint: callbackUrl, secret: 's3cr3t-token' } } });
    for (let i = 0; i < 1000 && !received.some((r) => (r.body as { data: { status: string } }).data.status === 'completed'); i++) await sleep(20);
    const jobs = received.map((r) => provider.parseWebhook(r.body)!);
    expect(received.every((r) => r.path === new URL(callbackUrl).pathname && r.secret === 's3cr3t-token')).toBe(true);
    expect(jobs.every((j) => j.upstreamId === upstreamId)).toBe(true);
    expect(jobs.map((j) => j.status)).toContain('running');
    expect(jobs.at(-1)).toMatchObject({ status: 'succeeded', imageUrls: [expect.stringContaining('/assets/')] });
  });
});

describe('PiAPI: selected by UPSTREAM_PROVIDER', () => {
  it('is built from UPSTREAM_BASE_URL and UPSTREAM_API_KEY, and needs both', () => {
    const env = { DISCORD_TOKEN: 't', UPSTREAM_PROVIDER: 'piapi', UPSTREAM_API_KEY: 'k' };
    expect(createUpstream(loadConfig({ ...env, UPSTREAM_BASE_URL: 'https://api.piapi.ai' }, '/nonexistent/.env')).provider).toBeInstanceOf(PiapiProvider);
    expect(() => createUpstream(loadConfig(env, '/nonexistent/.env'))).toThrow(/UPSTREAM_BASE_URL is not set/);
  });
});
