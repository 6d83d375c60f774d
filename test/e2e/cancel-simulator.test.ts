// ❌ on a job the simulator is drawing, end to end: the real bot process, the fake Discord, the built-in simulator.
// The README promises ❌ on waiting or running jobs; the simulator is ours and stops whenever asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeDiscord } from '../support/fake-discord.ts';
import { ALICE, GRID, buttonFaces, customIdOf, isFinal, simulatorEnv, slashDraw } from './support.ts';

let discord: FakeDiscord;
let db: TestDatabase;
let bot: BotProcess;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  db = await createTestDatabase();
  // Steps of 1.5 s: a job shows progress for several seconds, time enough to click ❌ while it draws.
  bot = await startBot(simulatorEnv(discord, db, 1500));
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await discord?.close();
});

describe('❌ on the simulator', () => {
  it('stops a running job: the reply says so, and no image ever follows', async () => {
    const draw = await slashDraw(discord, 'a restless tide');
    const running = await draw.waitForMessage((m) => /\(\d+%\)$/.test(m.content) && m.components.length > 0, 20_000);
    expect(buttonFaces(running)).toEqual([['❌']]);

    const click = await discord.clickButton({ message: running, customId: customIdOf(running, '❌'), userId: ALICE });
    expect((await click.waitForCallback()).type).toBe(6);
    const cancelled = await draw.waitForMessage((m) => m.content.startsWith('❌'), 10_000);
    expect(cancelled.content).toBe(`❌ **a restless tide** - <@${ALICE}>\nCancelled.`);
    expect(cancelled.components).toEqual([]);
    await bot.waitForLog((l) => l.msg === 'task cancelled', 5_000);

    // A job started after it finishes; by then the cancelled one would have been drawn too, had it gone on.
    const later = await (await slashDraw(discord, 'a calm tide')).waitForMessage(isFinal, 30_000);
    expect(buttonFaces(later)).toEqual(GRID);
    expect(discord.message(cancelled.id)).toMatchObject({ content: cancelled.content, attachments: [], components: [] });
    expect(discord.messageEvents.filter((e) => e.message.content.includes('a restless tide') && e.message.attachments.some((a) => !a.filename.startsWith('preview')))).toEqual([]);
    discord.assertNoViolations();
  });
});
