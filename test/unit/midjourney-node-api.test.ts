// Contract tests: the Midjourney-node-api adapter against the seed document's example JSON (parsed as it
// is written) and against a fake relay speaking the same wire format over HTTP.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MidjourneyNodeApiProvider } from '../../src/upstream/midjourney-node-api.ts';
import { UpstreamRejected, type UpstreamJob } from '../../src/upstream/provider.ts';
import { FakeMidjourneyNodeApi } from '../support/fake-midjourney-node-api.ts';
import { fetchUntil, isOver, parentOf } from '../support/upstream-poll.ts';

const SEED = '/work/shared/seeds/midjourney-node-api.zh.txt';
const UV = ['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll', 'variation:1', 'variation:2', 'variation:3', 'variation:4'];

/** Every "成功响应示例" (success example) block of the seed, as written. */
function seedExamples(): string[] {
  const text = readFileSync(SEED, 'utf8');
  return [...text.matchAll(/成功响应示例\n([\s\S]*?)\n错误响应示例/g)].map((m) => m[1]!);
}

const until = async (provider: MidjourneyNodeApiProvider, id: string) => (await fetchUntil(provider, id, isOver, { everyMs: 25 })).job;

describe('midjourney-node-api: another action’s image is never a result', () => {
  it('a pushed U/V result showing an image another action showed first is still running; its own image is delivered', () => {
    const provider = MidjourneyNodeApiProvider.create({ baseUrl: 'http://127.0.0.1:5400' });
    const first = { _id: 'a', action: 'UPSCALE', status: 'SUCCESS', imageUrl: 'one.png', submitTime: 1 };
    expect(provider.parseWebhook(first)).toMatchObject({ status: 'succeeded', imageUrls: ['http://127.0.0.1:5400/one.png'] });
    expect(provider.parseWebhook({ _id: 'b', action: 'VARIATION', status: 'SUCCESS', imageUrl: 'one.png', submitTime: 2 })).toEqual({ upstreamId: 'b', status: 'running' });
    expect(provider.parseWebhook({ _id: 'b', action: 'VARIATION', status: 'SUCCESS', imageUrl: 'two.png', submitTime: 2 })).toMatchObject({ status: 'succeeded', imageUrls: ['http://127.0.0.1:5400/two.png'] });
    // The first one's result is still its own.
    expect(provider.parseWebhook(first)).toMatchObject({ status: 'succeeded' });
  });
});

describe('midjourney-node-api seed examples', () => {
  const provider = MidjourneyNodeApiProvider.create({ baseUrl: 'http://127.0.0.1:5400' });
  const examples = seedExamples();

  it('finds the submit, fetch and list examples, all valid JSON', () => {
    expect(examples).toHaveLength(6);
    for (const e of examples) expect(() => JSON.parse(e)).not.toThrow();
  });

  it('reads the submit answer', () => {
    expect(JSON.parse(examples[0]!)).toEqual({ code: 1, description: '成功', result: '1234679' });
  });

  it('maps the fetched record: a VARIATION grid, its bare file name resolved against the origin, U/V offered', () => {
    const expected = {
      upstreamId: '8a2c5959-143b-46c5-adb6-242652ac8141',
      status: 'succeeded',
      progress: 100,
      imageUrls: ['http://127.0.0.1:5400/adbd1ba4-f61e-4eac-9991-475799668483.png'],
      actions: UV,
    };
    expect(provider.parseRecord(JSON.parse(examples[2]!))).toEqual(expected);
    expect(provider.parseWebhook(JSON.parse(examples[3]!))).toEqual(expected);
    for (const list of examples.slice(4)) expect((JSON.parse(list) as unknown[]).map((r) => provider.parseRecord(r))).toEqual([expected]);
  });

  it('maps the other states: waiting, running (no percentage), failed, an upscale with nothing after it', () => {
    const base = JSON.parse(examples[2]!) as Record<string, unknown>;
    expect(provider.parseRecord({ ...base, status: 'NOT_START', imageUrl: '' })).toEqual({ upstreamId: base._id, status: 'submitted' });
    expect(provider.parseRecord({ ...base, status: 'IN_PROGRESS', progress: '' })).toEqual({ upstreamId: base._id, status: 'running' });
    expect(provider.parseRecord({ ...base, status: 'FAILURE' })).toMatchObject({ status: 'failed', failReason: 'errors.upstreamNoReason' });
    expect(provider.parseRecord({ ...base, action: 'UPSCALE' })).toMatchObject({ status: 'succeeded', actions: [] });
    expect(provider.parseRecord({ ...base, imageUrl: 'https://cdn.discordapp.com/a/b.png' })?.imageUrls).toEqual(['https://cdn.discordapp.com/a/b.png']);
    expect(provider.parseRecord({ code: 0 })).toBeUndefined();
  });
});

describe('midjourney-node-api adapter against the fake relay', () => {
  let relay: FakeMidjourneyNodeApi;
  let provider: MidjourneyNodeApiProvider;
  beforeAll(async () => {
    relay = await FakeMidjourneyNodeApi.start({ stepMs: 30 });
    provider = MidjourneyNodeApiProvider.create({ baseUrl: relay.url });
  });
  afterAll(() => relay.close());
  afterEach(() => {
    relay.inject.serverErrors = 0;
    relay.inject.malformed = 0;
  });

  let grid: { id: string; job: UpstreamJob };
  it('imagines, then delivers a grid whose relative image the relay serves', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't-1', prompt: 'a dog' });
    expect(relay.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/trigger/submit', body: { action: 'IMAGINE', prompt: 'a dog', state: 't-1' } });
    const job = await until(provider, upstreamId);
    expect(job).toMatchObject({ status: 'succeeded', actions: UV });
    expect(relay.records.get(upstreamId)!.imageUrl).not.toMatch(/^http/);
    const image = await fetch(job.imageUrls![0]!);
    expect(image.headers.get('content-type')).toBe('image/png');
    grid = { id: upstreamId, job };
  });

  it('upscales and varies by the parent _id and a quadrant index; refuses what the relay cannot do', async () => {
    const u = await provider.submit({ kind: 'action', taskId: 't-2', action: 'upscale:3', parent: parentOf(grid.id, grid.job, 'a dog') });
    expect(relay.requests.at(-1)!.body).toEqual({ action: 'UPSCALE', taskId: grid.id, index: '3', prompt: 'a dog', state: 't-2' });
    expect(await until(provider, u.upstreamId)).toMatchObject({ status: 'succeeded', actions: [] });
    const v = await provider.submit({ kind: 'action', taskId: 't-3', action: 'variation:1', parent: parentOf(grid.id, grid.job, 'a dog') });
    expect(await until(provider, v.upstreamId)).toMatchObject({ status: 'succeeded', actions: UV });
    for (const action of ['zoom:2', 'vary:subtle'] as const) {
      await expect(provider.submit({ kind: 'action', taskId: 't', action, parent: parentOf(grid.id, grid.job, 'a dog') })).rejects.toThrow(new UpstreamRejected('errors.actionUnavailable'));
    }
  });

  it('fetches one by one for a few jobs, through /task/list for many, and omits unknown ids', async () => {
    let before = relay.requests.length;
    expect(await provider.fetch([grid.id, 'no-such-id'])).toHaveLength(1);
    expect(relay.requests.slice(before).map((r) => r.path)).toEqual(['/api/v1/task/fetch', '/api/v1/task/fetch']);
    before = relay.requests.length;
    const ids = [...relay.records.keys()];
    const jobs = await provider.fetch([...ids, 'a', 'b', 'c', 'd']);
    expect(jobs.map((j) => j.upstreamId).sort()).toEqual([...ids].sort());
    expect(relay.requests.slice(before).map((r) => r.path)).toEqual(['/api/v1/task/list']);
  });

  it('reports a failed job, a refusal, and transport failures', async () => {
    relay.failPrompt('doomed');
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't', prompt: 'a doomed ship' });
    expect(await until(provider, upstreamId)).toMatchObject({ status: 'failed', failReason: expect.any(String) });
    relay.refuseNext = 1;
    await expect(provider.submit({ kind: 'imagine', taskId: 't', prompt: 'x' })).rejects.toThrow(new UpstreamRejected('失败'));
    relay.inject.serverErrors = 1;
    await expect(provider.submit({ kind: 'imagine', taskId: 't', prompt: 'x' })).rejects.toMatchObject({ kind: 'unavailable', transient: true });
    relay.inject.malformed = 1;
    await expect(provider.fetch([upstreamId])).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('sends notifyHook and reads the single final callback with parseWebhook', async () => {
    const pushed: unknown[] = [];
    const receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        pushed.push(JSON.parse(raw));
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`;
      const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't', prompt: 'a pushed dog', callbackUrl: hook });
      expect(relay.requests.at(-1)!.body).toMatchObject({ notifyHook: hook });
      await until(provider, upstreamId);
      await new Promise((r) => setTimeout(r, 100));
      expect(pushed).toHaveLength(1);
      expect(provider.parseWebhook(pushed[0])).toMatchObject({ upstreamId, status: 'succeeded', actions: UV });
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });
});
