// Contract tests for the ImagineAPI adapter: the quick-start's own example replies, then the adapter
// against the fake ImagineAPI over real HTTP, failures included.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { GRID_ACTIONS } from '../../src/upstream/actions.ts';
import { createUpstream } from '../../src/upstream/index.ts';
import { UpstreamHttp } from '../../src/upstream/http.ts';
import { ImagineApiProvider, imageRecord } from '../../src/upstream/imagineapi.ts';
import { UpstreamAccountError, UpstreamRejected, type UpstreamJob } from '../../src/upstream/provider.ts';
import { FakeImagineApi } from '../support/fake-imagineapi.ts';
import { fetchUntil, parentOf } from '../support/upstream-poll.ts';

const SEED = '/work/shared/seeds/imagineapi-quickstart.zh.txt';

/**
 * The quick-start prints its replies with Node's console.log (unquoted keys, single-quoted strings). Turns one
 * such block into JSON text without changing any value, so the documented shapes are what the parser reads.
 */
function inspectedToJson(block: string): string {
  return block
    .replace(/'((?:[^'\\]|\\.)*)'/g, (_, s: string) => JSON.stringify(s))
    .replace(/^(\s*)([A-Za-z_]\w*):/gm, '$1"$2":');
}

/** Every top-level `{ ... }` block the seed prints. */
function seedExamples(): unknown[] {
  const lines = readFileSync(SEED, 'utf8').split('\n');
  const out: unknown[] = [];
  for (let i = 0; i < lines.length; i++) {
    // A printed reply starts at column 0: a bare `{`, or a Chinese log label then `{` (code lines are ASCII).
    if (!/^(?:\{|[^\x00-\x7f][^=()]*\s\{)$/.test(lines[i]!)) continue;
    const end = lines.findIndex((l, j) => j > i && l === '}');
    out.push(JSON.parse(inspectedToJson(['{', ...lines.slice(i + 1, end + 1)].join('\n'))));
    i = end;
  }
  return out;
}

const ORIGIN = 'https://cl.imagineapi.dev';
const seedProvider = new ImagineApiProvider(new UpstreamHttp(ORIGIN, {}));

describe('ImagineAPI: the quick-start examples', () => {
  const examples = seedExamples();

  it('finds the four example replies and they parse as-is', () => {
    expect(examples).toHaveLength(4);
    expect(examples.map((e) => imageRecord(e)?.status ?? (e as { status?: string }).status)).toEqual(['pending', 'completed', 'pending', 'completed']);
  });

  it('reads a pending reply as submitted', () => {
    expect(seedProvider.parseWebhook({ event: 'images.items.create', payload: (examples[0] as { data: unknown }).data })).toEqual({
      upstreamId: '8fd5bc67-a4c5-4bf0-a09d-e20341d17135',
      status: 'submitted',
      progress: 0,
    });
  });

  it('reads a completed reply: grid first, then the four singles; U1–U4 and 🔄, no V', () => {
    const record = imageRecord(examples[1])!;
    const job = seedProvider.toJob(record);
    expect(job.status).toBe('succeeded');
    expect(job.imageUrls).toEqual([record.url, ...record.upscaled_urls!]);
    expect(job.actions).toEqual(['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll']);
    // U_n shows the n-th of `upscaled_urls` (the `upscaled` ids come in another order).
    expect(job.upstreamData).toEqual({ upscaledUrls: record.upscaled_urls });
  });

  it('reads the bare record the polling example prints', () => {
    const job = seedProvider.toJob(examples[3] as never);
    expect(job).toMatchObject({ upstreamId: '96e8c151-085f-4e1b-a3be-36dcff594dbd', status: 'succeeded' });
    expect(job.imageUrls).toHaveLength(5);
  });

  it('says honestly what it can do', () => {
    expect(seedProvider.capabilities).toMatchObject({ push: false, batchFetch: false, blend: false, describe: false });
    expect(seedProvider.capabilities.actions.some((a) => a.startsWith('variation:'))).toBe(false);
    expect(GRID_ACTIONS.filter((a) => seedProvider.capabilities.actions.includes(a))).toEqual(['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll']);
  });
});

describe('ImagineAPI adapter against the fake', () => {
  let fake: FakeImagineApi;
  let provider: ImagineApiProvider;

  beforeAll(async () => {
    fake = await FakeImagineApi.start({ stepMs: 60 });
    provider = ImagineApiProvider.create({ baseUrl: fake.url, apiKey: fake.apiKey });
  });
  afterAll(() => fake?.close());
  beforeEach(() => fake.clearInjections());

  const until = async (id: string, done: (j: UpstreamJob) => boolean, seen: UpstreamJob[] = []) => (await fetchUntil(provider, id, done, { seen })).job;

  it('imagines with Bearer auth, shows progress with previews, and finishes with the grid', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 'task-1', prompt: 'a cat --ar 9:21' });
    const create = fake.requests.at(-1)!;
    expect(create).toMatchObject({ method: 'POST', path: '/items/images/', body: { prompt: 'a cat --ar 9:21', ref: 'task-1' } });
    expect(create.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    const seen: UpstreamJob[] = [];
    const done = await until(upstreamId, (j) => j.status === 'succeeded', seen);
    const running = seen.find((j) => j.status === 'running');
    expect(running).toMatchObject({ progress: expect.any(Number), previewUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/assets\//) });
    expect(done.imageUrls).toHaveLength(5);
    expect(done.actions).toEqual(['upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll']);
  });

  it('serves U1–U4 from upscaled_urls without calling the upstream, and 🔄 resubmits the prompt', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 'task-2', prompt: 'a dog' });
    const grid = await until(upstreamId, (j) => j.status === 'succeeded');
    const parent = parentOf(upstreamId, grid, 'a dog');

    const before = fake.requests.length;
    const u3 = await provider.submit({ kind: 'action', taskId: 'task-3', action: 'upscale:3', parent });
    const [single] = await provider.fetch([u3.upstreamId]);
    expect(fake.requests.length).toBe(before);
    expect(single).toEqual({ upstreamId: u3.upstreamId, status: 'succeeded', progress: 100, imageUrls: [fake.image(upstreamId)!.upscaled_urls![2]], actions: [] });

    const reroll = await provider.submit({ kind: 'action', taskId: 'task-4', action: 'reroll', parent });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', body: { prompt: 'a dog', ref: 'task-4' } });
    expect(reroll.upstreamId).not.toBe(upstreamId);

    await expect(provider.submit({ kind: 'action', taskId: 'task-5', action: 'variation:1', parent })).rejects.toThrow(new UpstreamRejected('errors.actionUnavailable'));
  });

  it('reports a failed job with its reason', async () => {
    fake.failPrompts(/forbidden words/, 'Banned prompt detected: forbidden');
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 'task-6', prompt: 'forbidden words' });
    expect(await until(upstreamId, (j) => j.status === 'failed')).toEqual({ upstreamId, status: 'failed', failReason: 'Banned prompt detected: forbidden' });
  });

  it.each([
    ['auth', 'auth'],
    ['rate_limit', 'rate_limited'],
    ['5xx', 'unavailable'],
    ['malformed', 'unavailable'],
  ] as const)('maps %s on submit to an account error (%s)', async (failure, kind) => {
    fake.inject(failure);
    const err = await provider.submit({ kind: 'imagine', taskId: 'task-7', prompt: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamAccountError);
    expect((err as UpstreamAccountError).kind).toBe(kind);
  });

  it('shows a validation refusal to the user', async () => {
    fake.inject('bad_request');
    await expect(provider.submit({ kind: 'imagine', taskId: 'task-8', prompt: 'x' })).rejects.toThrow(new UpstreamRejected('Validation failed for field "prompt".'));
  });

  it('a wrong key is an account problem', async () => {
    const wrong = ImagineApiProvider.create({ baseUrl: fake.url, apiKey: 'nope' });
    await expect(wrong.submit({ kind: 'imagine', taskId: 'task-9', prompt: 'x' })).rejects.toMatchObject({ kind: 'auth' });
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 'task-10', prompt: 'y' });
    await expect(wrong.fetch([upstreamId])).rejects.toMatchObject({ kind: 'auth' });
  });

  it('omits jobs the upstream no longer knows (Directus answers 403) while reading the others', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 'task-11', prompt: 'z' });
    const jobs = await provider.fetch(['00000000-0000-4000-8000-000000000000', upstreamId]);
    expect(jobs.map((j) => j.upstreamId)).toEqual([upstreamId]);
  });

  it('a 5xx while polling is an error the tracker retries on its next tick', async () => {
    const { upstreamId } = await provider.submit({ kind: 'imagine', taskId: 'task-12', prompt: 'w' });
    fake.inject('5xx', 1, true);
    await expect(provider.fetch([upstreamId])).rejects.toMatchObject({ kind: 'unavailable' });
    expect(await provider.fetch([upstreamId])).toHaveLength(1);
  });
});

describe('ImagineAPI: selected by UPSTREAM_PROVIDER', () => {
  const env = { DISCORD_TOKEN: 't', UPSTREAM_PROVIDER: 'imagineapi', UPSTREAM_BASE_URL: 'https://cl.imagineapi.dev' };

  it('is built from UPSTREAM_BASE_URL and UPSTREAM_API_KEY', () => {
    const { provider } = createUpstream(loadConfig({ ...env, UPSTREAM_API_KEY: 'k' }, '/nonexistent/.env'));
    expect(provider).toBeInstanceOf(ImagineApiProvider);
  });

  it('refuses to start without a key, naming the variable', () => {
    expect(() => createUpstream(loadConfig(env, '/nonexistent/.env'))).toThrow(/UPSTREAM_API_KEY is not set/);
  });
});
