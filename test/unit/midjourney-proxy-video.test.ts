// Contract tests for midjourney-proxy (trueai-org) video against the fake relay over HTTP: the video buttons
// recognised, a finished VIDEO task read as its clips, and /mj/submit/video when a task lacks the button.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMp4 } from '../../src/upstream/download.ts';
import { actionForCustomId } from '../../src/upstream/midjourney-proxy-buttons.ts';
import { MidjourneyProxyProvider } from '../../src/upstream/midjourney-proxy.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { fetchUntil, parentOf } from '../support/upstream-poll.ts';

const KEY = 'mj-video-key';
let mj: FakeMidjourneyProxy;
let provider: MidjourneyProxyProvider;

beforeAll(async () => {
  mj = await FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 20, video: true });
  provider = MidjourneyProxyProvider.create({ baseUrl: mj.url, apiKey: KEY, timeoutMs: 5_000 });
});

afterAll(async () => {
  await mj?.close();
});

const done = async (id: string) => (await fetchUntil(provider, id, undefined, { everyMs: 20 })).job;

describe('midjourney-proxy video', () => {
  it.each([
    ['MJ::JOB::animate_high::1::3f1a::SOLO', 'animate:high'],
    ['MJ::JOB::animate_low::2::3f1a::SOLO', 'animate:low'],
    ['MJ::JOB::video_virtual_upscale::3::3f1a', 'video:pick:3'],
    ['MJ::JOB::animate_high_extend::1::3f1a', 'extend:high'],
    ['MJ::JOB::animate_low_extend::1::3f1a', 'extend:low'],
  ])('%s → %s', (customId, action) => expect(actionForCustomId(customId)).toBe(action));

  it('an upscale offers Animate; Animate through its button gives four MP4 clips with the picks, no reroll', async () => {
    const grid = await provider.submit({ kind: 'imagine', taskId: 't1', prompt: 'a kite' });
    const gridJob = await done(grid.upstreamId);
    const up = await provider.submit({ kind: 'action', taskId: 't2', action: 'upscale:1', parent: parentOf(grid.upstreamId, gridJob, 'a kite') });
    const upJob = await done(up.upstreamId);
    expect(upJob.actions).toEqual(expect.arrayContaining(['animate:low', 'animate:high']));
    const video = await provider.submit({ kind: 'action', taskId: 't3', action: 'animate:high', parent: parentOf(up.upstreamId, upJob, 'a kite') });
    expect(mj.requests.at(-1)).toMatchObject({ path: '/mj/submit/action', body: { customId: expect.stringMatching(/^MJ::JOB::animate_high::1::.+::SOLO$/) } });
    const job = await done(video.upstreamId);
    expect(job).toMatchObject({ status: 'succeeded', actions: ['video:pick:1', 'video:pick:2', 'video:pick:3', 'video:pick:4'] });
    expect(job.imageUrls).toHaveLength(4);
    const clip = await fetch(job.imageUrls![0]!);
    expect(isMp4(Buffer.from(await clip.arrayBuffer()))).toBe(true);
  });

  it('without the buttons, Animate and Extend go through /mj/submit/video (SubmitVideoDTO)', async () => {
    const image = `${mj.url}/images/source-single.png`;
    const parent = { upstreamId: 'none', upstreamData: null, imageUrls: [image], prompt: 'a boat' };
    const video = await provider.submit({ kind: 'action', taskId: 't4', action: 'animate:low', parent });
    expect(mj.requests.at(-1)).toMatchObject({
      path: '/mj/submit/video',
      body: { prompt: 'a boat', motion: 'low', image, loop: false, batchSize: 4, videoType: 'vid_1.1_i2v_480', state: 't4' },
    });
    const job = await done(video.upstreamId);
    expect(job.status).toBe('succeeded');
    const extend = await provider.submit({ kind: 'action', taskId: 't5', action: 'extend:high', parent: { ...parentOf(video.upstreamId, job, 'a boat'), upstreamData: null } });
    expect(mj.requests.at(-1)).toMatchObject({ path: '/mj/submit/video', body: { action: 'extend', taskId: video.upstreamId, index: 0, motion: 'high', state: 't5' } });
    expect((await done(extend.upstreamId)).imageUrls).toHaveLength(1);
  });

  it('a finished VIDEO task without any clip is a failure, not an image', () => {
    expect(provider.parseTask({ id: '9', action: 'VIDEO', status: 'SUCCESS', imageUrl: 'https://cdn/x.png', buttons: [] })).toMatchObject({ status: 'failed', failReason: 'video:errors.notVideo' });
    expect(provider.parseTask({ id: '9', action: 'VIDEO', status: 'SUCCESS', videoUrl: 'https://cdn/v.mp4', buttons: [] })).toMatchObject({ status: 'succeeded', imageUrls: ['https://cdn/v.mp4'] });
  });
});
