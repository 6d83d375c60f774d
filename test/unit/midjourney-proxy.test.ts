// Contract tests: the midjourney-proxy adapter against a fake relay speaking the wire format over HTTP
// (plus/trueai flavour and the open-source one), plus the documented shapes parsed as they are.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GRID_ACTIONS } from '../../src/upstream/actions.ts';
import { actionForCustomId } from '../../src/upstream/midjourney-proxy-buttons.ts';
import { MidjourneyProxyProvider, parseDescriptions, parseProgress } from '../../src/upstream/midjourney-proxy.ts';
import { UpstreamAccountError, UpstreamRejected, type UpstreamJob } from '../../src/upstream/provider.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { fetchUntil, isOver, parentOf as parentOfJob } from '../support/upstream-poll.ts';

const KEY = 'mj-test-secret';

const until = async (provider: MidjourneyProxyProvider, id: string, done = isOver) => (await fetchUntil(provider, id, done, { everyMs: 25 })).job;
const parentOf = (upstreamId: string, job: UpstreamJob, prompt = 'a cat') => parentOfJob(upstreamId, job, prompt);

describe('midjourney-proxy buttons', () => {
  it.each([
    ['MJ::JOB::upsample::2::3f1a-…', 'upscale:2'],
    ['MJ::JOB::variation::4::3f1a', 'variation:4'],
    ['MJ::JOB::reroll::0::3f1a::SOLO', 'reroll'],
    ['MJ::JOB::low_variation::1::3f1a::SOLO', 'vary:subtle'],
    ['MJ::JOB::high_variation::1::3f1a::SOLO', 'vary:strong'],
    ['MJ::Outpaint::50::1::3f1a::SOLO', 'zoom:2'],
    ['MJ::Outpaint::75::1::3f1a::SOLO', 'zoom:1.5'],
    ['MJ::CustomZoom::3f1a', 'zoom:custom'],
    ['MJ::JOB::pan_left::1::3f1a::SOLO', 'pan:left'],
    ['MJ::JOB::pan_down::1::3f1a::SOLO', 'pan:down'],
    ['MJ::JOB::upsample_v6_2x_subtle::1::3f1a::SOLO', 'upscale:subtle'],
    ['MJ::JOB::upsample_v6_2x_creative::1::3f1a::SOLO', 'upscale:creative'],
    ['MJ::JOB::upsample_v5_2x::1::3f1a::SOLO', 'upscale:2x'],
    ['MJ::JOB::upsample_v5_4x::1::3f1a::SOLO', 'upscale:4x'],
    ['MJ::Inpaint::1::3f1a::SOLO', undefined],
    ['MJ::BOOKMARK::3f1a', undefined],
  ])('%s → %s', (customId, action) => {
    expect(actionForCustomId(customId)).toBe(action);
  });

  it('reads progress as the relay writes it', () => {
    expect(parseProgress('65%')).toBe(65);
    expect(parseProgress(42)).toBe(42);
    expect(parseProgress('')).toBeUndefined();
    expect(parseProgress(null)).toBeUndefined();
  });
});

describe('midjourney-proxy task JSON (documented shape)', () => {
  const provider = MidjourneyProxyProvider.create({ baseUrl: 'https://relay.example.com', apiKey: KEY });
  const doc = `{
    "id": "1712205491372",
    "action": "IMAGINE",
    "status": "SUCCESS",
    "prompt": "一只猫",
    "promptEn": "a cat",
    "description": "/imagine a cat",
    "state": "t-1",
    "submitTime": 1712205491371,
    "startTime": 1712205500000,
    "finishTime": 1712205540000,
    "progress": "100%",
    "imageUrl": "/mj/image/1712205491372",
    "failReason": null,
    "properties": {"finalPrompt": "a cat"},
    "buttons": [
      {"customId": "MJ::JOB::upsample::1::abc", "emoji": "", "label": "U1", "style": 2, "type": 2},
      {"customId": "MJ::JOB::reroll::0::abc::SOLO", "emoji": "🔄", "label": "", "style": 2, "type": 2},
      {"customId": "MJ::JOB::variation::3::abc", "emoji": "", "label": "V3", "style": 2, "type": 2}
    ]
  }`;

  it('maps a finished task: relative image resolved, actions and their customIds from buttons[]', () => {
    expect(provider.parseTask(JSON.parse(doc))).toEqual({
      upstreamId: '1712205491372',
      status: 'succeeded',
      progress: 100,
      imageUrls: ['https://relay.example.com/mj/image/1712205491372'],
      actions: ['upscale:1', 'reroll', 'variation:3'],
      upstreamData: { customIds: { 'upscale:1': 'MJ::JOB::upsample::1::abc', reroll: 'MJ::JOB::reroll::0::abc::SOLO', 'variation:3': 'MJ::JOB::variation::3::abc' } },
    });
  });

  it('maps running, queued, failed and cancelled tasks, numeric ids included', () => {
    expect(provider.parseTask({ id: 17, status: 'IN_PROGRESS', progress: '65%', imageUrl: 'https://cdn.example/p.webp' })).toEqual({
      upstreamId: '17', status: 'running', progress: 65, previewUrl: 'https://cdn.example/p.webp',
    });
    expect(provider.parseTask({ id: '18', status: 'NOT_START', progress: '0%' })).toMatchObject({ status: 'submitted', progress: 0 });
    expect(provider.parseTask({ id: '19', status: 'MODAL' })).toMatchObject({ status: 'submitted' });
    expect(provider.parseTask({ id: '20', status: 'FAILURE', failReason: 'Banned prompt detected' })).toEqual({ upstreamId: '20', status: 'failed', failReason: 'Banned prompt detected' });
    expect(provider.parseTask({ id: '21', status: 'CANCEL' })).toMatchObject({ status: 'failed', failCode: 'cancelled_upstream' });
    expect(provider.parseTask({ status: 'SUCCESS' })).toBeUndefined();
    expect(provider.parseWebhook('nope')).toBeUndefined();
  });

  it('gives an open-source task without buttons the grid actions /change can do, and an upscale none', () => {
    expect(provider.parseTask({ id: '1', action: 'IMAGINE', status: 'SUCCESS', imageUrl: 'https://x/1.png' })?.actions).toEqual([...GRID_ACTIONS]);
    expect(provider.parseTask({ id: '2', action: 'UPSCALE', status: 'SUCCESS', imageUrl: 'https://x/2.png' })?.actions).toEqual([]);
  });

  it('reads a finished DESCRIBE: the four prompts of properties.finalPrompt (or prompt), no image, no actions', () => {
    const text = '1️⃣ a cat on a mat --ar 3:2\n\n2️⃣ a dog --ar 3:2\n\n3️⃣ two birds\n\n4️⃣ a fish, watercolor';
    const expected = ['a cat on a mat --ar 3:2', 'a dog --ar 3:2', 'two birds', 'a fish, watercolor'];
    expect(provider.parseTask({ id: '3', action: 'DESCRIBE', status: 'SUCCESS', imageUrl: 'https://x/3.png', properties: { finalPrompt: text } })).toEqual({
      upstreamId: '3', status: 'succeeded', progress: 100, imageUrls: [], actions: [], descriptions: expected,
    });
    expect(provider.parseTask({ id: '4', action: 'DESCRIBE', status: 'SUCCESS', prompt: text })?.descriptions).toEqual(expected);
    expect(provider.parseTask({ id: '5', action: 'DESCRIBE', status: 'SUCCESS', properties: {} })).toMatchObject({ status: 'failed' });
    // On one line, as some relays send it.
    expect(parseDescriptions('1️⃣ one 2️⃣ two 3️⃣ three 4️⃣ four')).toEqual(['one', 'two', 'three', 'four']);
  });
});

describe('midjourney-proxy adapter against the fake relay (plus)', () => {
  let mj: FakeMidjourneyProxy;
  let provider: MidjourneyProxyProvider;
  beforeAll(async () => {
    mj = await FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 30 });
    provider = MidjourneyProxyProvider.create({ baseUrl: mj.url, apiKey: KEY });
  });
  afterAll(() => mj.close());
  afterEach(() => {
    mj.inject.serverErrors = 0;
    mj.inject.malformed = 0;
    mj.authFailure = false;
  });

  let grid: { id: string; job: UpstreamJob };
  it('imagines with the key in mj-api-secret, and reports progress then a grid with its buttons', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't-1', prompt: 'a cat --ar 16:9' });
    const submit = mj.requests.find((r) => r.path === '/mj/submit/imagine')!;
    expect(submit.headers['mj-api-secret']).toBe(KEY);
    expect(submit.body).toEqual({ prompt: 'a cat --ar 16:9', state: 't-1' });
    const running = await until(provider, upstreamId, (j) => j.status === 'running' && (j.progress ?? 0) > 0);
    expect(running.previewUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/images\//);
    const job = await until(provider, upstreamId);
    expect(job).toMatchObject({ status: 'succeeded', actions: [...GRID_ACTIONS] });
    expect(job.imageUrls![0]).toBe(mj.task(upstreamId)!.imageUrl);
    grid = { id: upstreamId, job };
  });

  let single: { id: string; job: UpstreamJob };
  it('upscales through /mj/submit/action with the customId the parent offered', async () => {
    const { upstreamId } = await provider.submit({ kind: 'action', taskId: 't-2', action: 'upscale:2', parent: parentOf(grid.id, grid.job) });
    const action = mj.lastRequest('/mj/submit/action')!;
    expect(action.body).toEqual({ taskId: grid.id, customId: mj.task(grid.id)!.buttons[1]!.customId, state: 't-2' });
    const job = await until(provider, upstreamId);
    expect(job.status).toBe('succeeded');
    // Vary (Region) is in buttons[] but needs a mask editor: not offered. Edit goes through /mj/submit/edits.
    expect(job.actions).toEqual([
      'vary:subtle', 'vary:strong', 'zoom:2', 'zoom:1.5', 'zoom:custom', 'pan:left', 'pan:right', 'pan:up', 'pan:down', 'upscale:2x', 'upscale:4x', 'edit',
    ]);
    single = { id: upstreamId, job };
  });

  it('Custom Zoom answers code 21 and goes on through /mj/submit/modal with a --zoom prompt', async () => {
    const { upstreamId } = await provider.submit({ kind: 'action', taskId: 't-3', action: 'zoom:custom', parent: parentOf(single.id, single.job), prompt: 'a cat --ar 16:9' });
    const modal = mj.lastRequest('/mj/submit/modal')!;
    expect(modal.body).toEqual({ taskId: upstreamId, prompt: 'a cat --ar 16:9 --zoom 2' });
    expect(await until(provider, upstreamId)).toMatchObject({ status: 'succeeded', actions: [...GRID_ACTIONS] });
    const custom = await provider.submit({ kind: 'action', taskId: 't-4', action: 'zoom:custom', parent: parentOf(single.id, single.job), prompt: 'a cat --zoom 1.3' });
    expect(mj.lastRequest('/mj/submit/modal')!.body).toEqual({ taskId: custom.upstreamId, prompt: 'a cat --zoom 1.3' });
  });

  it('remix: a variation with a prompt of its own asks for the modal (enableRemix, code 21) and sends it there', async () => {
    const { upstreamId } = await provider.submit({ kind: 'action', taskId: 't-r', action: 'variation:2', parent: parentOf(grid.id, grid.job), prompt: 'a cat in a hat' });
    expect(mj.lastRequest('/mj/submit/action')!.body).toMatchObject({ customId: expect.stringMatching(/^MJ::JOB::variation::2::/), enableRemix: true });
    expect(mj.lastRequest('/mj/submit/modal')!.body).toEqual({ taskId: upstreamId, prompt: 'a cat in a hat' });
    expect(await until(provider, upstreamId)).toMatchObject({ status: 'succeeded' });
    // The parent's prompt unchanged: the plain action, no modal.
    const modals = mj.requests.filter((r) => r.path === '/mj/submit/modal').length;
    await provider.submit({ kind: 'action', taskId: 't-p', action: 'variation:2', parent: parentOf(grid.id, grid.job), prompt: 'a cat' });
    expect(mj.lastRequest('/mj/submit/action')!.body).not.toHaveProperty('enableRemix');
    expect(mj.requests.filter((r) => r.path === '/mj/submit/modal')).toHaveLength(modals);
  });

  it('fetches many jobs in one list-by-condition call and omits ids the relay does not know', async () => {
    const before = mj.requests.length;
    const jobs = await provider.fetch([grid.id, single.id, '999']);
    expect(jobs.map((j) => j.upstreamId)).toEqual([grid.id, single.id]);
    expect(mj.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /mj/task/list-by-condition']);
  });

  it('ends a job in failure with the relay’s reason', async () => {
    mj.failPrompt('forbidden fruit', 'Job action restricted');
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't-5', prompt: 'forbidden fruit' });
    expect(await until(provider, upstreamId)).toEqual({ upstreamId, status: 'failed', failReason: 'Job action restricted' });
  });

  it('cancels an unfinished job with POST /mj/task/{id}/cancel: it then ends as a failure', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't-c', prompt: 'a slow snail' });
    await provider.cancel(upstreamId);
    expect(mj.lastRequest(`/mj/task/${upstreamId}/cancel`)).toMatchObject({ method: 'POST' });
    expect(await until(provider, upstreamId)).toEqual({ upstreamId, status: 'failed', failReason: '取消任务' });
  });

  it('maps refusals: queue full is transient, a banned word is the user’s, a lost parent has expired', async () => {
    mj.queueFull = 1;
    const full = await provider.submit({ kind: 'imagine', taskId: 't', prompt: 'x' }).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(UpstreamAccountError);
    expect(full).toMatchObject({ kind: 'queue_full', transient: true });
    mj.bannedWords = ['gore'];
    await expect(provider.submit({ kind: 'imagine', taskId: 't', prompt: 'some gore' })).rejects.toThrow(new UpstreamRejected('可能包含敏感词 (gore)'));
    mj.bannedWords = [];
    await expect(provider.submit({ kind: 'action', taskId: 't', action: 'upscale:1', parent: { ...parentOf('404404', grid.job) } })).rejects.toThrow(new UpstreamRejected('errors.expired'));
  });

  it('maps account and transport failures', async () => {
    mj.authFailure = true;
    await expect(provider.submit({ kind: 'imagine', taskId: 't', prompt: 'x' })).rejects.toMatchObject({ kind: 'auth', transient: false });
    mj.authFailure = false;
    mj.inject.serverErrors = 1;
    await expect(provider.fetch([grid.id])).rejects.toMatchObject({ kind: 'unavailable', transient: true });
    mj.inject.malformed = 1;
    await expect(provider.submit({ kind: 'imagine', taskId: 't', prompt: 'x' })).rejects.toMatchObject({ kind: 'unavailable' });
    const wrongKey = MidjourneyProxyProvider.create({ baseUrl: mj.url, apiKey: 'nope' });
    await expect(wrongKey.fetch([grid.id])).rejects.toMatchObject({ kind: 'auth' });
  });

  it('pushes the full task JSON to notifyHook, which parseWebhook reads like a fetch', async () => {
    const pushed: unknown[] = [];
    const receiver: Server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        pushed.push(JSON.parse(raw));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/upstream/callback/x/y`;
      const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't-6', prompt: 'a pushed owl', callbackUrl: hook });
      expect(mj.lastRequest('/mj/submit/imagine')!.body).toMatchObject({ notifyHook: hook });
      await until(provider, upstreamId);
      await new Promise((r) => setTimeout(r, 100));
      const jobs = pushed.map((b) => provider.parseWebhook(b)!);
      expect(jobs.some((j) => j.status === 'running')).toBe(true);
      expect(jobs.at(-1)).toMatchObject({ upstreamId, status: 'succeeded', actions: [...GRID_ACTIONS] });
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });
});

describe('midjourney-proxy adapter against the open-source relay', () => {
  let mj: FakeMidjourneyProxy;
  let provider: MidjourneyProxyProvider;
  beforeAll(async () => {
    mj = await FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 30, openSource: true });
    provider = MidjourneyProxyProvider.create({ baseUrl: mj.url, apiKey: KEY });
  });
  afterAll(() => mj.close());

  it('falls back to per-id fetch and /mj/submit/change, offering only what /change can do', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't-1', prompt: 'a fox' });
    const grid = await until(provider, upstreamId);
    expect(grid).toMatchObject({ status: 'succeeded', actions: [...GRID_ACTIONS], upstreamData: {} });
    expect(mj.requests.filter((r) => r.path === '/mj/task/list-by-condition')).toHaveLength(1);
    expect(mj.requests.filter((r) => r.path.endsWith('/fetch')).length).toBeGreaterThan(0);

    const v = await provider.submit({ kind: 'action', taskId: 't-2', action: 'variation:3', parent: parentOf(upstreamId, grid) });
    expect(mj.lastRequest('/mj/submit/change')!.body).toEqual({ taskId: upstreamId, action: 'VARIATION', index: 3, state: 't-2' });
    expect(await until(provider, v.upstreamId)).toMatchObject({ status: 'succeeded', actions: [...GRID_ACTIONS] });
    const u = await provider.submit({ kind: 'action', taskId: 't-3', action: 'upscale:1', parent: parentOf(upstreamId, grid) });
    expect(await until(provider, u.upstreamId)).toMatchObject({ status: 'succeeded', actions: [] });
    await expect(provider.submit({ kind: 'action', taskId: 't-4', action: 'zoom:2', parent: parentOf(u.upstreamId, grid) })).rejects.toThrow(new UpstreamRejected('errors.actionUnavailable'));
  });

  it('cannot cancel (no such route): a refusal the user is told about in their language', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't-7', prompt: 'a stubborn mule' });
    await expect(provider.cancel(upstreamId)).rejects.toThrow(new UpstreamRejected('errors.cancelUnsupported'));
    expect(await until(provider, upstreamId)).toMatchObject({ status: 'succeeded' });
  });

  it('falls back from /action to /change when the parent had customIds but the server has no /action', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 't-5', prompt: 'a hare' });
    const grid = await until(provider, upstreamId);
    const fresh = MidjourneyProxyProvider.create({ baseUrl: mj.url, apiKey: KEY });
    const parent = { ...parentOf(upstreamId, grid), upstreamData: { customIds: { reroll: 'MJ::JOB::reroll::0::abc::SOLO' } } };
    const r = await fresh.submit({ kind: 'action', taskId: 't-6', action: 'reroll', parent });
    expect(mj.requests.slice(-2).map((x) => x.path)).toEqual(['/mj/submit/action', '/mj/submit/change']);
    expect(mj.requests.at(-1)!.body).toEqual({ taskId: upstreamId, action: 'REROLL', state: 't-6' });
    expect(r.upstreamId).toMatch(/^\d+$/);
  });
});
