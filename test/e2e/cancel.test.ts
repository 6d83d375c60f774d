// The queue as users see it, end to end: later /draws wait in line, see their place, watch it go down, and may
// leave with ❌. The line is a relay account of concurrency 1 whose jobs the fake PiAPI holds until the test lets
// them go, so every place shown is decided by the test, not by the clock. Then ❌ at a relay that cannot stop a
// job (ImagineAPI), whose job keeps drawing until the test lets it finish.
import { PermissionFlagsBits } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { EVERYONE_PERMISSIONS, FakeDiscord, type FakeInteraction, type SeenMessage } from '../support/fake-discord.ts';
import { FakeImagineApi } from '../support/fake-imagineapi.ts';
import { FakePiapi } from '../support/fake-piapi.ts';
import { ALICE, BOB, GRID, buttonFaces, customIdOf, discordEnv, isDelivered, relayEnv, slashDraw } from './support.ts';

let discord: FakeDiscord;
let upstream: FakePiapi;
let imagine: FakeImagineApi;

beforeAll(async () => {
  [discord, upstream, imagine] = await Promise.all([FakeDiscord.start(), FakePiapi.start({ stepMs: 150 }), FakeImagineApi.start({ stepMs: 150 })]);
});

afterAll(async () => {
  await Promise.all([discord?.close(), upstream?.close(), imagine?.close()]);
});

/** A bot for the enclosing describe block, on its own database. */
function useBot(env: (db: TestDatabase) => Record<string, string>): () => BotProcess {
  let db: TestDatabase | undefined;
  let bot: BotProcess | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    bot = await startBot(env(db));
  });
  afterAll(async () => {
    await bot?.stop();
    await db?.destroy();
  });
  return () => bot!;
}

const MODERATOR = (BigInt(EVERYONE_PERMISSIONS) | PermissionFlagsBits.ManageGuild).toString();
const place = (n: number) => (m: SeenMessage) => m.content.endsWith(`position ${n}`) && m.components.length > 0;
/** The places a reply showed, in order. */
const placesShown = (interaction: FakeInteraction) =>
  interaction.edits().map((e) => /position (\d+)$/.exec(e.message.content)?.[1]).filter(Boolean).map(Number);
/** The private answer to a click: the reply itself, or a follow-up once the click was acknowledged. */
const privateAnswer = async (click: FakeInteraction) => (await click.waitForMessage((m) => (m.flags & 64) !== 0, 10_000)).content;
const sentToRelay = () => upstream.requests.filter((r) => r.method === 'POST').map((r) => (r.body as { input?: { prompt?: string } }).input?.prompt);

describe('the queue: one job at a time at the relay', () => {
  const bot = useBot((db) => ({
    ...discordEnv(discord),
    ...db.env,
    UPSTREAM_ACCOUNTS: JSON.stringify([{ provider: 'piapi', baseUrl: upstream.url, apiKey: upstream.apiKey, concurrency: 1 }]),
    USER_MAX_CONCURRENT: '10',
    USER_MAX_QUEUED: '50',
    POLL_INTERVAL_MS: '100',
    PROGRESS_EDIT_INTERVAL_MS: '1000',
  }));

  it('shows each waiting job its place, lets its owner or a moderator cancel it, and moves the rest up', async () => {
    // Every job waits at the relay until let go, so the line only moves when the test says.
    upstream.holdPrompts(/in line$/);
    await slashDraw(discord, 'first in line');
    await bot().waitForLog((l) => l.msg === 'task submitted' && l.prompt === 'first in line', 10_000);
    // Each /draw is in line before the next is sent: arrival order is the order the bot stored them in.
    const second = await slashDraw(discord, 'second in line');
    await second.waitForMessage(place(1), 10_000);
    const third = await slashDraw(discord, 'third in line');
    const thirdQueued = await third.waitForMessage(place(2), 10_000);
    const fourth = await slashDraw(discord, 'fourth in line');
    await fourth.waitForMessage(place(3), 10_000);
    const fifth = await discord.slashCommand({ name: 'draw', options: { prompt: 'fifth in line' }, userId: ALICE, locale: 'zh-CN' });
    const fifthQueued = await fifth.waitForMessage((m) => m.content.endsWith('⏳ 排队中——第 4 位'), 10_000);
    expect(thirdQueued.content).toBe(`**third in line** - <@${ALICE}> ⏳ Waiting in the queue — position 2`);
    expect(buttonFaces(thirdQueued)).toEqual([['❌']]);
    expect(buttonFaces(fifthQueued)).toEqual([['❌']]);

    // Someone else's ❌ is refused privately and changes nothing.
    const stranger = await discord.clickButton({ message: thirdQueued, customId: customIdOf(thirdQueued, '❌'), userId: BOB });
    expect(await privateAnswer(stranger)).toBe('Only the person who started this job, or a member with Manage Server, can cancel it.');
    expect(discord.message(thirdQueued.id)!.content).toBe(thirdQueued.content);

    // The owner's ❌: the click is acknowledged and the reply says the job was cancelled, without buttons.
    const own = await discord.clickButton({ message: thirdQueued, customId: customIdOf(thirdQueued, '❌'), userId: ALICE });
    expect((await own.waitForCallback()).type).toBe(6);
    const cancelled = await third.waitForMessage((m) => m.content.startsWith('❌'), 10_000);
    expect(cancelled.content).toBe(`❌ **third in line** - <@${ALICE}>\nCancelled.`);
    expect(cancelled.components).toEqual([]);

    // A moderator may cancel anyone's job; the message names them, in the owner's language.
    const moderator = await discord.clickButton({ message: fifthQueued, customId: customIdOf(fifthQueued, '❌'), userId: BOB, memberPermissions: MODERATOR });
    expect((await moderator.waitForCallback()).type).toBe(6);
    expect((await fifth.waitForMessage((m) => m.content.startsWith('❌'), 10_000)).content).toBe(`❌ **fifth in line** - <@${ALICE}>\n已被 <@${BOB}> 取消。`);

    // The fourth job moves up as the ones ahead leave: the cancelled third, then the second starting.
    await fourth.waitForMessage(place(2), 10_000);
    upstream.release(/^first/);
    await fourth.waitForMessage(place(1), 10_000);
    upstream.release();
    const done = await fourth.waitForMessage(isDelivered, 20_000);
    expect(buttonFaces(done)).toEqual(GRID);
    expect(placesShown(fourth)).toEqual([3, 2, 1]);
    expect(buttonFaces(await second.waitForMessage(isDelivered, 10_000))).toEqual(GRID);

    // The cancelled jobs never reached the relay, and their replies still say they were cancelled.
    expect(sentToRelay()).toEqual(['first in line', 'second in line', 'fourth in line']);
    expect(discord.message(cancelled.id)!.content).toBe(cancelled.content);

    // ❌ again (a stale screen) is answered in the clicker's language; a forged id like any unknown button.
    const twice = await discord.clickButton({ message: thirdQueued, customId: customIdOf(thirdQueued, '❌'), userId: ALICE, locale: 'zh-CN', unchecked: true });
    expect(await privateAnswer(twice)).toBe('这个任务已经取消过了。');
    const forged = await discord.clickButton({ message: thirdQueued, customId: 'mj:not-a-task:cancel', userId: ALICE, unchecked: true });
    expect(await privateAnswer(forged)).toBe('This button does not belong to any job I know.');
    discord.assertNoViolations();
  });
});

describe('a relay that cannot stop a job (ImagineAPI)', () => {
  const bot = useBot((db) => relayEnv(discord, db, { provider: 'imagineapi', baseUrl: imagine.url, apiKey: imagine.apiKey }, { POLL_INTERVAL_MS: '100' }));

  it('answers ❌ on a job it is drawing privately, lets the job finish, and then says it has finished', async () => {
    imagine.pacePrompts(/^too late to stop$/);
    const draw = await slashDraw(discord, 'too late to stop');
    const { taskId } = await bot().waitForLog((l) => l.msg === 'task submitted' && l.prompt === 'too late to stop', 10_000);
    const drawing = await draw.waitForMessage((m) => /\(\d+%\)$/.test(m.content), 20_000);
    // Such a relay's jobs get no ❌ once drawing; this click comes from a screen still showing the job in line.
    expect(drawing.components).toEqual([]);
    const customId = `mj:${String(taskId)}:cancel`;
    const click = await discord.clickButton({ message: drawing, customId, userId: ALICE, unchecked: true });
    expect(await privateAnswer(click)).toBe("This job has already started at the image service, which can't stop it; it will finish.");
    imagine.release();
    const done = await draw.waitForMessage(isDelivered, 20_000);
    expect(done.attachments.map((a) => a.filename)).toEqual([expect.stringMatching(/^grid_/)]);

    const again = await discord.clickButton({ message: done, customId, userId: ALICE, unchecked: true });
    expect(await privateAnswer(again)).toBe('This job has already finished; there is nothing left to cancel.');
    expect(discord.message(done.id)!.components).toEqual(done.components);
    discord.assertNoViolations();
  });
});
