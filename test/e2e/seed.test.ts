// 📋 on results where the relay can tell the seed (trueai-org's midjourney-proxy, GET /mj/task/{id}/image-seed):
// whoever clicks is told the job's seed privately, with how to use it; results of a relay that cannot tell it
// (the open-source midjourney-proxy, which has no such route) offer no 📋.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeenMessage } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy, seedOf } from '../support/fake-midjourney-proxy.ts';
import { BOB, useRelaySession } from './relay-session.ts';
import { GRID, buttonFaces, customIdOf, withSeed } from './support.ts';

const EPHEMERAL = 1 << 6;

let mj: FakeMidjourneyProxy;
let openSource: FakeMidjourneyProxy;
beforeAll(async () => {
  [mj, openSource] = await Promise.all([FakeMidjourneyProxy.start({ stepMs: 100 }), FakeMidjourneyProxy.start({ stepMs: 100, openSource: true })]);
});
afterAll(async () => {
  await mj?.close();
  await openSource?.close();
});

/** The upstream id of the job behind a result: the fake's last task with that prompt and action. */
const upstreamIdOf = (relay: FakeMidjourneyProxy, prompt: string, action: string) => relay.created.filter((t) => t.promptEn === prompt && t.action === action).at(-1)!.id;

describe('📋 on midjourney-proxy (trueai-org)', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: mj.opts.apiKey, mode: 'polled' }));

  async function askSeed(result: SeenMessage, locale = 'en-US'): Promise<SeenMessage> {
    const click = await s.discord.clickButton({ message: result, customId: customIdOf(result, '📋'), userId: BOB, locale });
    return click.waitForMessage((m) => m.content.includes('seed') || m.content.includes('种子'), 20_000);
  }

  it('tells whoever clicks the seed of a grid, privately, with how to use it', async () => {
    const { final: grid } = await s.draw('a lighthouse at dusk');
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    const seed = seedOf(upstreamIdOf(mj, 'a lighthouse at dusk', 'IMAGINE'));
    const answer = await askSeed(grid);
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
    const answer = await askSeed(upscaled, 'zh-CN');
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
