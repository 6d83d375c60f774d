// /shorten end to end: on midjourney-proxy (trueai-org's /mj/submit/shorten) the shortened prompts come back
// numbered, each with a button that starts a /draw of it for whoever clicks; a relay without the endpoint's
// capability refuses the command privately, in the user's language, and nothing reaches it. On AceData
// (POST /midjourney/shorten, answered at once) the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACE_SHORTENED, FakeAceData } from '../support/fake-acedata.ts';
import { FakeMidjourneyNodeApi } from '../support/fake-midjourney-node-api.ts';
import { FakeMidjourneyProxy, SHORTENED } from '../support/fake-midjourney-proxy.ts';
import { refusal, slash } from './image-inputs.ts';
import { ALICE, BOB, useRelaySession } from './relay-session.ts';
import { GRID, buttonFaces, customIdOf, isFinal, withSeed } from './support.ts';

let mj: FakeMidjourneyProxy;
let nodeApi: FakeMidjourneyNodeApi;
beforeAll(async () => {
  mj = await FakeMidjourneyProxy.start({ stepMs: 100 });
  nodeApi = await FakeMidjourneyNodeApi.start({ stepMs: 100 });
});
afterAll(async () => {
  await mj?.close();
  await nodeApi?.close();
});

const LONG = 'a tabby cat asleep on a sunny windowsill in the early morning light, cozy, detailed fur --ar 3:2';
const shortened = (content: string) => [...content.matchAll(/^[1-5]️⃣ (.+)$/gmu)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));

describe('/shorten on midjourney-proxy', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: mj.opts.apiKey, mode: 'polled' }));

  it('shows the five shortened prompts; 5️⃣ draws the fifth for the clicker', async () => {
    const interaction = await slash(s.discord, 'shorten', { prompt: LONG });
    const result = await interaction.waitForMessage(isFinal, 20_000);
    expect(mj.requests.filter((r) => r.path === '/mj/submit/shorten').at(-1)?.body).toMatchObject({ prompt: LONG });
    expect(result.content.split('\n')[0]).toBe(`**${LONG}** - Shorten by <@${ALICE}>`);
    expect(shortened(result.content)).toEqual(SHORTENED);
    expect(buttonFaces(result)).toEqual([['1️⃣', '2️⃣', '3️⃣', '4️⃣', '5️⃣']]);

    const grid = await s.click(result, customIdOf(result, '5️⃣'));
    expect(grid.content).toBe(`**${SHORTENED[4]}** - <@${BOB}>`);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    expect(mj.requests.filter((r) => r.path === '/mj/submit/imagine').at(-1)?.body).toMatchObject({ prompt: SHORTENED[4] });
    s.discord.assertNoViolations();
  });

  it('refuses an empty prompt privately before anything reaches the relay', async () => {
    const before = mj.requests.length;
    expect(await refusal(await slash(s.discord, 'shorten', { prompt: '   ' }))).toMatch(/Please describe the image you want/);
    expect(mj.requests.length).toBe(before);
  });
});

describe('/shorten on AceData', () => {
  let ace: FakeAceData;
  beforeAll(async () => {
    ace = await FakeAceData.start({ stepMs: 100 });
  });
  afterAll(() => ace?.close());
  const s = useRelaySession(() => ({ provider: 'acedata', baseUrl: ace.url, apiKey: ace.apiKey, mode: 'polled' }));

  it('shows the shortened prompts of /midjourney/shorten; 2️⃣ draws the second for the clicker', async () => {
    const interaction = await slash(s.discord, 'shorten', { prompt: LONG });
    const result = await interaction.waitForMessage(isFinal, 20_000);
    expect(ace.requests.filter((r) => r.path === '/midjourney/shorten').at(-1)?.body).toEqual({ prompt: LONG });
    expect(result.content.split('\n')[0]).toBe(`**${LONG}** - Shorten by <@${ALICE}>`);
    expect(shortened(result.content)).toEqual(ACE_SHORTENED);
    expect(buttonFaces(result)).toEqual([['1️⃣', '2️⃣', '3️⃣', '4️⃣', '5️⃣']]);

    const grid = await s.click(result, customIdOf(result, '2️⃣'));
    expect(grid.content).toBe(`**${ACE_SHORTENED[1]}** - <@${BOB}>`);
    expect(buttonFaces(grid)).toEqual(withSeed(GRID));
    expect(ace.requests.filter((r) => r.path === '/midjourney/imagine').at(-1)?.body).toMatchObject({ prompt: ACE_SHORTENED[1] });
    s.discord.assertNoViolations();
  });

  it("a refusal by AceData ends the job with its words", async () => {
    ace.server.inject((r) => r.path === '/midjourney/shorten', { status: 400, body: { success: false, error: { code: 'bad_request', message: 'prompt is too short to shorten' } } });
    const result = await (await slash(s.discord, 'shorten', { prompt: 'a cat' })).waitForMessage(isFinal, 20_000);
    expect(result.content).toMatch(/^❌ \*\*a cat\*\* - Shorten by <@\d+>\n.*prompt is too short to shorten/);
  });
});

describe('/shorten on a relay that cannot shorten', () => {
  const s = useRelaySession(() => ({ provider: 'midjourney-node-api', baseUrl: nodeApi.url, mode: 'polled' }));

  it('is refused privately, in the user\'s language, and nothing reaches the relay', async () => {
    const before = nodeApi.requests.length;
    expect(await refusal(await slash(s.discord, 'shorten', { prompt: LONG }))).toBe('The image service this bot is connected to cannot do /shorten.');
    expect(await refusal(await slash(s.discord, '缩短', { prompt: LONG }, { locale: 'zh-CN' }))).toBe('本机器人连接的图片服务不支持 /缩短。');
    expect(nodeApi.requests.length).toBe(before);
    s.discord.assertNoViolations();
  });
});
