// ❌ on a job already at the relay, end to end: PiAPI (which cancels a job it has not started; pushed mode, so
// every update the relay makes reaches the bot), and the open-source midjourney-proxy (which cannot cancel).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../support/fake-discord.ts';
import { FakeMidjourneyProxy } from '../support/fake-midjourney-proxy.ts';
import { FakePiapi } from '../support/fake-piapi.ts';
import { useRelaySession } from './relay-session.ts';
import { ALICE, GRID, buttonFaces, customIdOf, isDelivered, slashDraw } from './support.ts';

let discord: FakeDiscord;
let upstream: FakePiapi;
let mj: FakeMidjourneyProxy;

beforeAll(async () => {
  [discord, upstream, mj] = await Promise.all([FakeDiscord.start(), FakePiapi.start({ stepMs: 150 }), FakeMidjourneyProxy.start({ stepMs: 150, openSource: true })]);
});

afterAll(async () => {
  await Promise.all([discord?.close(), upstream?.close(), mj?.close()]);
});

describe('❌ on PiAPI', () => {
  const s = useRelaySession(() => ({ provider: 'piapi', baseUrl: upstream.url, apiKey: upstream.apiKey, mode: 'pushed', discord }));

  const submitted = (prompt: string) => s.bot.waitForLog((l) => l.msg === 'task submitted' && l.prompt === prompt, 10_000);

  it('cancels a job waiting at PiAPI there, and delivers nothing even when PiAPI finishes it after all', async () => {
    // The job waits in PiAPI's own queue; PiAPI accepts the cancel but (too late) draws it anyway.
    upstream.holdPrompts(/^a held kite$/);
    upstream.cancelsTooLate = true;
    const draw = await slashDraw(discord, 'a held kite');
    const waiting = await draw.waitForMessage((m) => m.content.endsWith('(Waiting to start)') && m.components.length > 0, 10_000);
    expect(buttonFaces(waiting)).toEqual([['❌']]);
    const { taskId, upstreamId } = await submitted('a held kite');

    const click = await discord.clickButton({ message: waiting, customId: customIdOf(waiting, '❌'), userId: ALICE });
    expect((await click.waitForCallback()).type).toBe(6);
    const cancelled = await draw.waitForMessage((m) => m.content.startsWith('❌'), 10_000);
    expect(cancelled.content).toBe(`❌ **a held kite** - <@${ALICE}>\nCancelled.`);
    expect(cancelled.components).toEqual([]);
    expect(upstream.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/api/v1/task/${upstreamId}`]);

    upstream.release();
    // PiAPI pushes the finished job; the bot takes note and ignores it.
    await s.bot.waitForLog((l) => l.msg === 'callback received' && l.taskId === taskId && l.status === 'succeeded' && l.outcome === 'ignored', 20_000);
    expect(discord.message(cancelled.id)).toMatchObject({ content: cancelled.content, attachments: [], components: [] });
    expect(discord.messageEvents.filter((e) => e.message.content.includes('a held kite') && e.message.attachments.length > 0)).toEqual([]);
  });

  it('tells the user privately when PiAPI cannot cancel a job already drawing, and the job finishes', async () => {
    upstream.cancelsTooLate = false;
    upstream.pacePrompts(/^a paced comet$/);
    const draw = await slashDraw(discord, 'a paced comet');
    const drawing = await draw.waitForMessage((m) => /\(\d+%\)$/.test(m.content) && m.components.length > 0, 20_000);
    expect(buttonFaces(drawing)).toEqual([['❌']]);

    const click = await discord.clickButton({ message: drawing, customId: customIdOf(drawing, '❌'), userId: ALICE });
    const answer = await click.waitForMessage((m) => (m.flags & 64) !== 0, 10_000);
    expect(answer.content).toBe('The image service could not cancel this job; it will finish.');
    upstream.release();
    const done = await draw.waitForMessage(isDelivered, 20_000);
    expect(buttonFaces(done)).toEqual(GRID);
  });

});

describe('❌ on the open-source midjourney-proxy, which has no cancel', () => {
  useRelaySession(() => ({ provider: 'midjourney-proxy', baseUrl: mj.url, apiKey: mj.opts.apiKey, mode: 'polled', discord }));

  it('says privately, in the clicker’s language, that the relay cannot cancel, and the job finishes', async () => {
    mj.holdPrompt('an unstoppable train');
    const draw = await slashDraw(discord, 'an unstoppable train');
    const drawing = await draw.waitForMessage((m) => /\(\d+%\)$/.test(m.content) && m.components.length > 0, 20_000);
    expect(buttonFaces(drawing)).toEqual([['❌']]);
    const click = await discord.clickButton({ message: drawing, customId: customIdOf(drawing, '❌'), userId: ALICE, locale: 'zh-CN' });
    const answer = await click.waitForMessage((m) => (m.flags & 64) !== 0, 10_000);
    expect(answer.content).toBe('这个任务无法取消：该绘图服务不支持取消任务。它会正常完成。');
    expect(mj.requests.some((r) => r.method === 'POST' && /^\/mj\/task\/[^/]+\/cancel$/.test(r.path))).toBe(true);
    mj.release();
    const done = await draw.waitForMessage(isDelivered, 20_000);
    expect(buttonFaces(done)).toEqual(GRID);
  });
});

describe('Discord', () => {
  it('was sent nothing that breaks its schema', () => {
    discord.assertNoViolations();
  });
});
