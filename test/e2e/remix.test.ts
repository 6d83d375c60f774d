// Remix end to end (issue 20): with /settings remix on, a click on V2 or 🔄 answers with a Discord modal
// prefilled with the job's prompt; the edited prompt passes the /draw checks and reaches the relay where it takes
// one: midjourney-proxy (trueai-org) through `enableRemix` on /mj/submit/action (code 21) then /mj/submit/modal,
// Midjourney-node-api, whose 🔄 is an IMAGINE resubmission, and LegNext, whose /variation takes `remixPrompt`. With remix off the click runs the action at once;
// a banned word in the modal (typed, or in its Baidu translation) is refused privately and starts nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBaidu } from '../support/fake-baidu.ts';
import { FakeDiscord, type FakeInteraction, type SeenMessage } from '../support/fake-discord.ts';
import { FakeMidjourneyNodeApi } from '../support/fake-midjourney-node-api.ts';
import { FakeLegnext } from '../support/fake-legnext.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, BOB, customIdOf, isFinal, isFinalOrUploaded, slashDraw } from './support.ts';

const KEY = 'mj-remix-secret';
const EPHEMERAL = 64;
let discord: FakeDiscord;
let mj: FakeMidjourneyProxy;
let node: FakeMidjourneyNodeApi;
let legnext: FakeLegnext;
let baidu: FakeBaidu;

beforeAll(async () => {
  [discord, mj, node, legnext, baidu] = await Promise.all([FakeDiscord.start(), FakeMidjourneyProxy.start({ apiKey: KEY, stepMs: 100 }), FakeMidjourneyNodeApi.start({ stepMs: 100 }), FakeLegnext.start({ stepMs: 100 }), FakeBaidu.start({ dictionary: { 一只戴皇冠的猫: 'a cat wearing a crown', 一只不雅的猫: 'an nsfw cat' } })]);
});

afterAll(async () => {
  await Promise.all([mj?.close(), node?.close(), legnext?.close(), baidu?.close()]);
  await discord?.close();
});

async function remix(on: boolean, userId: string): Promise<string> {
  const answer = await (await discord.slashCommand({ name: 'settings', options: { remix: on ? 'on' : 'off' }, userId, locale: 'en-US' })).waitForCallback();
  expect(answer).toMatchObject({ type: 4, data: { flags: EPHEMERAL } });
  return String(answer.data!.content);
}
const modalOf = async (opened: FakeInteraction) => {
  const callback = await opened.waitForCallback();
  expect(callback.type).toBe(9);
  const input = (callback.data!.components as Array<{ components: Array<{ custom_id: string; value?: string }> }>)[0]!.components[0]!;
  return input;
};

describe('remix on midjourney-proxy (trueai-org)', () => {
  useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'polled', discord, env: baidu.env }));

  let grid: SeenMessage;
  it('remix off (the default): V2 runs at once, the parent’s prompt, no modal', async () => {
    grid = await (await slashDraw(discord, 'a cute cat', ALICE)).waitForMessage(isFinal, 20_000);
    const clicked = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V2'), userId: BOB });
    expect((await clicked.waitForCallback()).type).toBe(5); // deferred: the job started, no modal
    const varied = await clicked.waitForMessage(isFinal, 20_000);
    expect(varied.content).toBe('**a cute cat** - Variations by <@100000000000000002>');
    expect(mj.lastRequest('/mj/submit/action')!.body).not.toHaveProperty('enableRemix');
  });

  it('/settings shows remix, off by default, and turns it on', async () => {
    expect(await (await discord.slashCommand({ name: 'settings', options: {}, userId: BOB, locale: 'en-US' })).waitForCallback()).toMatchObject({ data: { content: expect.stringContaining('Remix: off') } });
    expect(await remix(true, BOB)).toContain('Remix: on');
  });

  it('remix on: V2 opens a modal with the prompt; the edited prompt goes through the relay’s modal and the result shows it', async () => {
    const modalsBefore = mj.requests.filter((r) => r.path === '/mj/submit/modal').length;
    const opened = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V2'), userId: BOB });
    const input = await modalOf(opened);
    expect(input.value).toBe('a cute cat');
    // Nothing is asked of the relay until the modal is submitted.
    expect(mj.requests.filter((r) => r.path === '/mj/submit/modal')).toHaveLength(modalsBefore);
    const submitted = await discord.submitModal({ from: opened, values: { [input.custom_id]: 'a cute cat wearing a tiny crown' }, userId: BOB });
    const varied = await submitted.waitForMessage(isFinal, 20_000);
    expect(varied.content).toBe('**a cute cat wearing a tiny crown** - Variations by <@100000000000000002>');
    expect(varied.components.length).toBeGreaterThan(0);
    expect(mj.lastRequest('/mj/submit/action')!.body).toMatchObject({ customId: expect.stringMatching(/^MJ::JOB::variation::2::/), enableRemix: true });
    const modal = mj.lastRequest('/mj/submit/modal')!.body as Record<string, unknown>;
    expect(modal).toMatchObject({ prompt: 'a cute cat wearing a tiny crown' });
    expect(mj.tasks.get(String(modal.taskId))!.json).toMatchObject({ action: 'VARIATION', status: 'SUCCESS', prompt: 'a cute cat wearing a tiny crown' });
  });

  it('a banned word in the modal is refused privately and starts nothing', async () => {
    const actionsBefore = mj.requests.filter((r) => r.path === '/mj/submit/action').length;
    const opened = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V2'), userId: BOB });
    const input = await modalOf(opened);
    const refused = await discord.submitModal({ from: opened, values: { [input.custom_id]: 'a cute cat, nsfw' }, userId: BOB, locale: 'en-US' });
    const answer = await refused.waitForCallback();
    expect(answer).toMatchObject({ type: 4, data: { flags: EPHEMERAL, content: expect.stringContaining('nsfw') } });
    expect(mj.requests.filter((r) => r.path === '/mj/submit/action')).toHaveLength(actionsBefore);
  });
});

describe('remix: a Chinese prompt in the modal', () => {
  useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: KEY, mode: 'polled', discord, env: baidu.env }));

  it('is translated for the relay (the headline keeps it as typed); a banned word in its translation starts nothing', async () => {
    const grid = await (await slashDraw(discord, 'a cute dog', ALICE)).waitForMessage(isFinal, 20_000);
    await remix(true, BOB);
    const opened = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V1'), userId: BOB });
    const input = await modalOf(opened);
    const varied = await (await discord.submitModal({ from: opened, values: { [input.custom_id]: '一只戴皇冠的猫' }, userId: BOB })).waitForMessage(isFinal, 20_000);
    expect(varied.content.split('\n')[0]).toBe('**一只戴皇冠的猫** - Variations by <@100000000000000002>');
    expect(mj.lastRequest('/mj/submit/modal')!.body).toMatchObject({ prompt: 'a cat wearing a crown' });

    const actionsBefore = mj.requests.filter((r) => r.path === '/mj/submit/action').length;
    const again = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V1'), userId: BOB });
    const field = await modalOf(again);
    const refused = await discord.submitModal({ from: again, values: { [field.custom_id]: '一只不雅的猫' }, userId: BOB });
    // Translated after the public defer: the refusal is a private follow-up and the public reply is removed.
    const followUp = await refused.waitForMessage((m) => (m.flags & EPHEMERAL) !== 0, 20_000);
    expect(followUp.content).toContain('“nsfw”');
    await discord.waitForCall((c) => c.method === 'DELETE' && c.path.includes(refused.token) && c.path.endsWith('/messages/@original'));
    expect(mj.requests.filter((r) => r.path === '/mj/submit/action')).toHaveLength(actionsBefore);
  });
});

describe('remix on Midjourney-node-api (🔄 is an IMAGINE resubmission)', () => {
  useRelaySession(() => ({ provider: 'midjourney-node-api', baseUrl: node.url, mode: 'polled', discord }));

  it('🔄 with remix on submits IMAGINE with the edited prompt; V2 (no prompt here) runs without a modal', async () => {
    const grid = await (await slashDraw(discord, 'a dog', ALICE)).waitForMessage(isFinalOrUploaded, 20_000);
    await remix(true, BOB);
    const varied = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V2'), userId: BOB });
    expect((await varied.waitForCallback()).type).toBe(5);
    await varied.waitForMessage(isFinalOrUploaded, 20_000);

    const opened = await discord.clickButton({ message: grid, customId: customIdOf(grid, '🔄'), userId: BOB });
    const input = await modalOf(opened);
    expect(input.value).toBe('a dog');
    const rerolled = await (await discord.submitModal({ from: opened, values: { [input.custom_id]: 'a dog in the snow' }, userId: BOB })).waitForMessage(isFinalOrUploaded, 20_000);
    expect(rerolled.content).toBe('**a dog in the snow** - Reroll by <@100000000000000002>');
    const submits = node.requests.filter((r) => r.path === '/api/v1/trigger/submit').map((r) => r.body);
    expect(submits.at(-1)).toMatchObject({ action: 'IMAGINE', prompt: 'a dog in the snow' });
  });
});

describe('remix on LegNext (/variation takes remixPrompt)', () => {
  useRelaySession(() => ({ provider: 'legnext', baseUrl: legnext.url, apiKey: legnext.apiKey, mode: 'polled', discord }));

  it('V2 with remix on sends the edited prompt as remixPrompt; the same prompt unchanged sends none', async () => {
    const grid = await (await slashDraw(discord, 'a paper lantern', ALICE)).waitForMessage(isFinalOrUploaded, 20_000);
    await remix(true, BOB);
    const opened = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V2'), userId: BOB });
    const input = await modalOf(opened);
    expect(input.value).toBe('a paper lantern');
    const varied = await (await discord.submitModal({ from: opened, values: { [input.custom_id]: 'a paper lantern at dusk' }, userId: BOB })).waitForMessage(isFinalOrUploaded, 20_000);
    expect(varied.content).toBe('**a paper lantern at dusk** - Variations by <@100000000000000002>');
    expect(legnext.posts('variation').at(-1)).toEqual({ jobId: expect.any(String), imageNo: 1, type: 1, remixPrompt: 'a paper lantern at dusk' });

    const again = await discord.clickButton({ message: grid, customId: customIdOf(grid, 'V2'), userId: BOB });
    const same = await modalOf(again);
    await (await discord.submitModal({ from: again, values: { [same.custom_id]: same.value! }, userId: BOB })).waitForMessage(isFinalOrUploaded, 20_000);
    expect(legnext.posts('variation').at(-1)).toEqual({ jobId: expect.any(String), imageNo: 1, type: 1 });
  });
});
