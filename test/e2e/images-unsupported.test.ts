// A relay that takes no image inputs (midjourney-node-api): /blend, /describe, /animate and /draw with attachments are
// answered privately, in the user's language, and nothing reaches the relay; typed image links still go as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMidjourneyNodeApi } from '../support/fake-midjourney-node-api.ts';
import { png, refusal, slash } from './image-inputs.ts';
import { useRelaySession } from './relay-session.ts';
import { isFinal } from './support.ts';

let relay: FakeMidjourneyNodeApi;
beforeAll(async () => {
  relay = await FakeMidjourneyNodeApi.start({ stepMs: 100 });
});
afterAll(() => relay?.close());

describe('image inputs on a relay without them', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-node-api', baseUrl: relay.url, mode: 'polled' }));

  it('refuses /blend, /describe, /animate and attachments with a clear localized message', async () => {
    const before = relay.requests.length;
    expect(await refusal(await slash(s.discord, 'describe', { image: await png('a.png') }))).toBe(
      'The image service this bot is connected to cannot do /describe.',
    );
    expect(await refusal(await slash(s.discord, '混合', { image1: await png('a.png'), image2: await png('b.png') }, { locale: 'zh-CN' }))).toBe(
      '本机器人连接的图片服务不支持 /混合。',
    );
    expect(await refusal(await slash(s.discord, 'draw', { prompt: 'a cat', image: await png('a.png') }))).toMatch(/cannot take attached images/);
    expect(await refusal(await slash(s.discord, 'animate', { image: await png('a.png'), motion: 'high' }))).toBe('The image service this bot is connected to cannot do /animate.');
    expect(await refusal(await slash(s.discord, '动画', { image: await png('a.png') }, { locale: 'zh-CN' }))).toBe('本机器人连接的图片服务不支持 /动画。');
    expect(relay.requests.length).toBe(before);
    s.discord.assertNoViolations();
  });

  it('still sends image links typed in the prompt, as text', async () => {
    const interaction = await slash(s.discord, 'draw', { prompt: 'https://example.com/ref.png a cat --iw 2' });
    await interaction.waitForMessage(isFinal, 20_000);
    const submitted = relay.requests.filter((r) => r.path === '/api/v1/trigger/submit').at(-1)!;
    expect(submitted.body).toMatchObject({ action: 'IMAGINE', prompt: 'https://example.com/ref.png a cat --iw 2' });
  });
});
